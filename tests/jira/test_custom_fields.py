"""Custom fields over plain HTTP: ``/field``, their values on issue create, edit, GET and
search, createmeta and editmeta, the changelog, and JQL, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from jiraguard.jira.custom_fields import TYPES
from jiraguard.jira.jql import search as jql_search
from tests.jira.conftest import JiraApi

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

BASE = "http://jira.test/rest/api/2"
PLUGIN = "com.atlassian.jira.plugin.system.customfieldtypes:"
SEARCHERS = {key: kind.searchers[0] for key, kind in TYPES.items()}
"""Each type with its first searcher, in ``TYPES`` order (which numbers the fields)."""


async def make_field(api: JiraApi, name: str, kind: str, **body: Any) -> dict[str, Any]:
    """Create a custom field of ``kind`` (short key) with its usual searcher."""
    document = {
        "name": name,
        "type": PLUGIN + kind,
        "searcherKey": PLUGIN + SEARCHERS[kind],
        **body,
    }
    response = await api.call("POST", "/field", json=document)
    assert response.status_code == 201, response.text
    made: dict[str, Any] = response.json()
    return made


@pytest.fixture
async def fields(api: JiraApi) -> dict[str, str]:
    """A project and one field of each type; short type key → field id."""
    await api.project()
    made = {}
    for kind in SEARCHERS:
        options = {"allowedValues": ["Red", "Green", "Blue"]} if "select" in kind else {}
        made[kind] = (await make_field(api, f"My {kind}", kind, **options))["id"]
    return made


async def _search(api: JiraApi, jql: str, **params: Any) -> dict[str, Any]:
    response = await api.call("GET", "/search", params={"jql": jql, **params})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def _keys(api: JiraApi, jql: str) -> list[str]:
    return [issue["key"] for issue in (await _search(api, jql, fields="summary"))["issues"]]


async def _jql_error(api: JiraApi, jql: str) -> list[str]:
    response = await api.call("GET", "/search", params={"jql": jql})
    assert response.status_code == 400, response.text
    assert response.json()["errors"] == {}
    messages: list[str] = response.json()["errorMessages"]
    return messages


async def test_field_list_and_create_shape(api: JiraApi) -> None:
    made = await make_field(api, "Story Points", "float", description="Effort")
    ident = made["id"]
    assert ident == "customfield_10000"
    assert made == {
        "id": ident,
        "key": ident,
        "name": "Story Points",
        "custom": True,
        "orderable": True,
        "navigable": True,
        "searchable": True,
        "clauseNames": ["cf[10000]", "Story Points"],
        "schema": {"type": "number", "custom": PLUGIN + "float", "customId": 10000},
    }
    tags = await make_field(api, "Tags", "labels")
    assert tags["schema"] == {
        "type": "array",
        "items": "string",
        "custom": PLUGIN + "labels",
        "customId": 10001,
    }
    plain = await api.call("POST", "/field", json={"name": "Notes", "type": PLUGIN + "textarea"})
    assert plain.status_code == 201
    assert plain.json()["searchable"] is False
    listed = (await api.call("GET", "/field")).json()
    assert [f["id"] for f in listed if f["custom"]] == [
        "customfield_10000",
        "customfield_10001",
        "customfield_10002",
    ]
    assert listed[-3] == made
    assert any(f["id"] == "summary" and f["custom"] is False for f in listed)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"type": PLUGIN + "textfield"},
            {"name": "You must specify a name for this custom field."},
        ),
        (
            {"name": " ", "type": PLUGIN + "textfield"},
            {"name": "You must specify a name for this custom field."},
        ),
        ({"name": "X"}, {"type": "No field type specified."}),
        (
            {"name": "X", "type": PLUGIN + "cascadingselect"},
            {"type": "Invalid field type specified."},
        ),
        ({"name": "X", "type": "textfield"}, {"type": "Invalid field type specified."}),
        ({"name": "X", "type": 7}, {"type": "'type' must be a string."}),
        (
            {"name": "X", "type": PLUGIN + "float", "searcherKey": PLUGIN + "textsearcher"},
            {"searcherKey": "Invalid searcher specified."},
        ),
        (
            {"name": "X", "type": PLUGIN + "textfield", "allowedValues": ["a"]},
            {"allowedValues": "Only select and multi-select fields have allowed values."},
        ),
        (
            {"name": "X", "type": PLUGIN + "select", "allowedValues": ["a", "A"]},
            {"allowedValues": "Each allowed value must be different."},
        ),
        (
            {"name": "X", "type": PLUGIN + "select", "allowedValues": "a"},
            {
                "allowedValues": "'allowedValues' must be a list of non-empty strings of at "
                "most 255 characters."
            },
        ),
        (
            {"name": "X", "type": PLUGIN + "select", "allowedValues": [{"value": "a"}]},
            {
                "allowedValues": "'allowedValues' must be a list of non-empty strings of at "
                "most 255 characters."
            },
        ),
    ],
)
async def test_create_field_bad_input(
    api: JiraApi, body: dict[str, Any], errors: dict[str, str]
) -> None:
    response = await api.call("POST", "/field", json=body)
    assert response.status_code == 400, response.text
    assert response.json() == {"errorMessages": [], "errors": errors}
    assert [f for f in (await api.call("GET", "/field")).json() if f["custom"]] == []


async def test_only_administrators_create_fields(api: JiraApi) -> None:
    body = {"name": "X", "type": PLUGIN + "textfield"}
    refused = await api.call("POST", "/field", user="carol", json=body)
    assert refused.status_code == 403
    assert refused.json()["errorMessages"] == ["Only Jira administrators can create custom fields."]
    assert (await api.call("POST", "/field", user="bob", json=body)).status_code == 201


async def test_options_and_custom_field_option(api: JiraApi) -> None:
    made = await make_field(api, "Colour", "select", allowedValues=["Red", "Green"])
    number = made["schema"]["customId"]
    red = (await api.call("GET", "/customFieldOption/10000")).json()
    assert red == {"self": f"{BASE}/customFieldOption/10000", "value": "Red", "id": "10000"}
    missing = await api.call("GET", "/customFieldOption/99999")
    assert missing.status_code == 404
    assert (await api.call("GET", "/customFieldOption/x")).status_code == 404
    admin = api.harness.client
    path = f"/rest/jiraguard/1/customfield/{number}/option"
    added = await admin.post(path, headers=api.tokens("alice"), json={"value": "Blue"})
    assert added.status_code == 201, added.text
    assert added.json() == {
        "self": f"{BASE}/customFieldOption/10002",
        "value": "Blue",
        "id": "10002",
    }
    again = await admin.post(path, headers=api.tokens("alice"), json={"value": "blue"})
    assert again.status_code == 400
    assert again.json()["errors"] == {"value": "The option 'blue' already exists."}
    refused = await admin.post(path, headers=api.tokens("carol"), json={"value": "Pink"})
    assert refused.status_code == 403
    empty = await admin.post(path, headers=api.tokens("alice"), json={"value": ""})
    assert empty.status_code == 400
    other = await admin.post(
        "/rest/jiraguard/1/customfield/424242/option",
        headers=api.tokens("alice"),
        json={"value": "x"},
    )
    assert other.status_code == 404
    await api.project()
    meta = (await api.call("GET", "/issue/createmeta/TEST/issuetypes/3")).json()
    entry = next(f for f in meta["values"] if f["fieldId"] == made["id"])
    assert [o["value"] for o in entry["allowedValues"]] == ["Red", "Green", "Blue"]
    assert entry["operations"] == ["set"]
    assert entry["schema"] == made["schema"]
    assert entry["required"] is False


async def test_values_round_trip(api: JiraApi, fields: dict[str, str]) -> None:
    f = fields
    created = await api.issue(
        "Every type",
        **{
            f["textfield"]: "one line",
            f["textarea"]: "many\nlines",
            f["float"]: 3,
            f["select"]: {"value": "Green"},
            f["multiselect"]: [{"value": "Blue"}, {"id": "10003"}],
            f["userpicker"]: {"name": "carol"},
            f["datepicker"]: "2024-02-29",
            f["datetime"]: "2024-02-29T10:30:00.000+0200",
            f["labels"]: ["b", "a"],
        },
    )
    issue = (await api.call("GET", f"/issue/{created['key']}")).json()["fields"]
    multi = fields["multiselect"]
    assert issue[f["textfield"]] == "one line"
    assert issue[f["textarea"]] == "many\nlines"
    assert issue[f["float"]] == 3.0
    assert isinstance(issue[f["float"]], float)
    assert issue[f["select"]] == {
        "self": f"{BASE}/customFieldOption/10001",
        "value": "Green",
        "id": "10001",
    }
    # Options of the first select are 10000-10002; the multi-select's are 10003-10005.
    assert [o["value"] for o in issue[multi]] == ["Red", "Blue"]
    assert issue[f["userpicker"]]["name"] == "carol"
    assert issue[f["userpicker"]]["displayName"] == "Carol C"
    assert issue[f["datepicker"]] == "2024-02-29"
    assert issue[f["datetime"]] == "2024-02-29T08:30:00.000+0000"
    assert issue[f["labels"]] == ["a", "b"]

    bare = await api.issue("Nothing set")
    shown = (await api.call("GET", f"/issue/{bare['key']}")).json()["fields"]
    assert all(shown[ident] is None for ident in fields.values())
    picked = (
        await api.call("GET", f"/issue/{created['key']}", params={"fields": f["float"]})
    ).json()["fields"]
    assert picked == {f["float"]: 3.0}
    unpicked = (
        await api.call("GET", f"/issue/{created['key']}", params={"fields": "summary"})
    ).json()["fields"]
    assert unpicked == {"summary": "Every type"}


async def test_edit_with_fields_and_update(api: JiraApi, fields: dict[str, str]) -> None:
    f = fields
    created = await api.issue("Edit me", **{f["multiselect"]: [{"value": "Red"}]})
    path = f"/issue/{created['key']}"
    body = {
        "fields": {f["float"]: 2.5, f["select"]: {"id": "10002"}, f["textfield"]: "x"},
        "update": {
            f["multiselect"]: [{"add": {"value": "Green"}}, {"remove": {"value": "Red"}}],
            f["labels"]: [{"add": "z"}],
        },
    }
    response = await api.call("PUT", path, json=body)
    assert response.status_code == 204, response.text
    shown = (await api.call("GET", path)).json()["fields"]
    assert shown[f["float"]] == 2.5
    assert shown[f["select"]]["value"] == "Blue"
    assert [o["value"] for o in shown[f["multiselect"]]] == ["Green"]
    assert shown[f["labels"]] == ["z"]
    cleared = await api.call(
        "PUT", path, json={"fields": {f["float"]: None, f["select"]: None, f["textfield"]: ""}}
    )
    assert cleared.status_code == 204
    shown = (await api.call("GET", path)).json()["fields"]
    assert (shown[f["float"]], shown[f["select"]], shown[f["textfield"]]) == (None, None, None)
    history = (await api.call("GET", path, params={"expand": "changelog"})).json()["changelog"]
    first, second = history["histories"]
    items = {item["field"]: item for item in first["items"]}
    assert items["My select"] == {
        "field": "My select",
        "fieldtype": "custom",
        "from": None,
        "fromString": None,
        "to": "10002",
        "toString": "Blue",
    }
    assert items["My multiselect"]["fromString"] == "Red"
    assert items["My multiselect"]["toString"] == "Green"
    assert items["My float"]["toString"] == "2.5"
    assert {item["field"] for item in second["items"]} == {"My float", "My select", "My textfield"}
    assert all(item["fieldtype"] == "custom" for item in second["items"])
    same = await api.call("PUT", path, json={"fields": {f["multiselect"]: [{"value": "green"}]}})
    assert same.status_code == 204
    after = (await api.call("GET", path, params={"expand": "changelog"})).json()["changelog"]
    assert len(after["histories"]) == 2  # nothing changed: no new history


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("textfield", 5, "Operation value must be a string"),
        (
            "textfield",
            "x" * 256,
            "The entered text is too long. It exceeds the allowed limit of 255 characters.",
        ),
        ("float", "5", "Operation value must be a number"),
        ("float", True, "Operation value must be a number"),
        ("float", [1], "Operation value must be a number"),
        ("select", {"value": "Purple"}, "Option value 'Purple' is not valid"),
        ("select", {"id": "10004"}, "Option id '10004' is not valid"),
        ("select", {"id": True}, "Option id 'True' is not valid"),
        ("select", "Red", "Could not find valid 'id' or 'value' in the Parent Option object."),
        ("multiselect", {"value": "Red"}, "The value of 'customfield_10004' must be a list."),
        ("multiselect", [{"value": "Nope"}], "Option value 'Nope' is not valid"),
        ("userpicker", {"name": "nobody"}, "User 'nobody' does not exist."),
        ("userpicker", "carol", 'Expected an object like {"name": "username"}.'),
        ("datepicker", "29/Feb/24", "Error parsing date string: 29/Feb/24"),
        ("datepicker", "2024-02-30", "Error parsing date string: 2024-02-30"),
        ("datepicker", 20240229, "Error parsing date string: 20240229"),
        ("datetime", "2024-02-29T10:30:00", "Error parsing date string: 2024-02-29T10:30:00"),
        (
            "datetime",
            "0001-01-01T00:00:00.000+1400",
            "Error parsing date string: 0001-01-01T00:00:00.000+1400",
        ),
        ("labels", ["has space"], "The label 'has space' contained spaces which is invalid."),
        ("labels", "a", "The value of 'customfield_10008' must be a list."),
    ],
)
async def test_bad_values(
    api: JiraApi, fields: dict[str, str], kind: str, value: Any, message: str
) -> None:
    ident = fields[kind]
    body = {
        "fields": {
            "project": {"key": "TEST"},
            "issuetype": {"name": "Task"},
            "summary": "Bad",
            ident: value,
        }
    }
    response = await api.call("POST", "/issue", json=body)
    assert response.status_code == 400, response.text
    assert response.json() == {"errorMessages": [], "errors": {ident: message}}
    created = await api.issue("Good")
    edited = await api.call("PUT", f"/issue/{created['key']}", json={"fields": {ident: value}})
    assert edited.status_code == 400
    assert edited.json()["errors"] == {ident: message}


async def test_unknown_field_and_operations(api: JiraApi, fields: dict[str, str]) -> None:
    created = await api.issue("Ops")
    path = f"/issue/{created['key']}"
    unknown = await api.call("PUT", path, json={"fields": {"customfield_99999": "x"}})
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == {
        "customfield_99999": "Field 'customfield_99999' cannot be set. It is not on the "
        "appropriate screen, or unknown."
    }
    ident = fields["float"]
    add = await api.call("PUT", path, json={"update": {ident: [{"add": 1}]}})
    assert add.status_code == 400
    assert add.json()["errors"] == {
        ident: f"The operation 'add' is not supported by the field '{ident}'."
    }


async def test_expands_and_meta(api: JiraApi, fields: dict[str, str]) -> None:
    created = await api.issue("Meta", **{fields["float"]: 1})
    body = (
        await api.call(
            "GET", f"/issue/{created['key']}", params={"expand": "names,schema,editmeta"}
        )
    ).json()
    ident = fields["float"]
    assert body["names"][ident] == "My float"
    assert body["schema"][ident] == {
        "type": "number",
        "custom": PLUGIN + "float",
        "customId": 10002,
    }
    assert body["editmeta"]["fields"][ident]["operations"] == ["set"]
    editmeta = (await api.call("GET", f"/issue/{created['key']}/editmeta")).json()["fields"]
    multi = editmeta[fields["multiselect"]]
    assert multi["operations"] == ["add", "set", "remove"]
    assert [o["value"] for o in multi["allowedValues"]] == ["Red", "Green", "Blue"]
    assert editmeta[fields["labels"]]["schema"]["items"] == "string"
    found = await _search(api, "", expand="names,schema")
    assert found["issues"][0]["names"][ident] == "My float"
    assert found["issues"][0]["fields"][ident] == 1.0


async def test_search_field_selection(api: JiraApi, fields: dict[str, str]) -> None:
    await api.issue("Shown", **{fields["textfield"]: "hello"})
    ident = fields["textfield"]
    for selection in ("*all", "*navigable", ident, f"summary,{ident}"):
        issues = (await _search(api, "", fields=selection))["issues"]
        assert issues[0]["fields"][ident] == "hello", selection
    default = (await _search(api, ""))["issues"][0]["fields"]
    assert default[ident] == "hello"
    without = (await _search(api, "", fields=f"*all,-{ident}"))["issues"][0]["fields"]
    assert ident not in without
    only = (await _search(api, "", fields="summary"))["issues"][0]["fields"]
    assert only == {"summary": "Shown"}


async def _populate(api: JiraApi, fields: dict[str, str]) -> dict[str, str]:
    f = fields
    made = {}
    rows: list[tuple[str, dict[str, Any]]] = [
        (
            "one",
            {
                f["textfield"]: "the quick brown fox",
                f["float"]: 1,
                f["select"]: {"value": "Red"},
                f["multiselect"]: [{"value": "Red"}, {"value": "Green"}],
                f["userpicker"]: {"name": "carol"},
                f["datepicker"]: "2024-01-10",
                f["datetime"]: "2024-01-10T12:00:00.000+0000",
                f["labels"]: ["alpha"],
            },
        ),
        (
            "two",
            {
                f["textfield"]: "lazy dog",
                f["float"]: 2.5,
                f["select"]: {"value": "Green"},
                f["multiselect"]: [{"value": "Blue"}],
                f["userpicker"]: {"name": "dave"},
                f["datepicker"]: "2024-03-01",
                f["datetime"]: "2024-03-01T00:00:00.000+0000",
                f["labels"]: ["beta", "alpha"],
            },
        ),
        ("three", {}),
    ]
    for summary, values in rows:
        made[summary] = (await api.issue(summary, **values))["key"]
    return made


@pytest.mark.parametrize("dense", [False, True])
async def test_jql_on_custom_fields(
    api: JiraApi, fields: dict[str, str], dense: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every operator per type; ``dense``: pages are walked as for a query matching many
    issues (SQLite then looks each walked issue up in the value index)."""
    if dense:
        monkeypatch.setattr(jql_search, "DENSE", 1)
    made = await _populate(api, fields)
    one, two, three = made["one"], made["two"], made["three"]

    async def keys(jql: str) -> set[str]:
        found = await _search(api, jql, fields="summary")
        shown = [issue["key"] for issue in found["issues"]]
        assert found["total"] == len(shown), jql  # a single clause may be counted apart
        return set(shown)

    n = {kind: ident.removeprefix("customfield_") for kind, ident in fields.items()}
    assert await keys(f"cf[{n['select']}] = Red") == {one}
    assert await keys('"My select" = green') == {two}
    assert await keys(f"cf[{n['select']}] = 10000") == {one}
    assert await keys(f"cf[{n['select']}] in (Red, Green)") == {one, two}
    assert await keys(f"cf[{n['select']}] != Red") == {two}
    assert await keys(f"cf[{n['select']}] is EMPTY") == {three}
    assert await keys(f"cf[{n['select']}] is not EMPTY") == {one, two}
    assert await keys(f"cf[{n['select']}] in (Red, EMPTY)") == {one, three}
    assert await keys(f"cf[{n['select']}] = Red OR cf[{n['select']}] = Green") == {one, two}
    assert await keys(f"cf[{n['multiselect']}] = Green") == {one}
    assert await keys(f"cf[{n['multiselect']}] in (Red, Green)") == {one}
    assert await keys(f"cf[{n['labels']}] in (alpha, beta)") == {one, two}
    assert await keys(f"cf[{n['multiselect']}] not in (Red)") == {two}
    assert await keys(f"cf[{n['float']}] > 1") == {two}
    assert await keys(f"cf[{n['float']}] <= 2.5") == {one, two}
    assert await keys(f"cf[{n['float']}] = 1") == {one}
    assert await keys(f"cf[{n['float']}] in (1, 2.5)") == {one, two}
    assert await keys(f"cf[{n['float']}] != 1") == {two}
    assert await keys('"My textfield" ~ quick') == {one}
    assert await keys('"My textfield" ~ "qui*"') == {one}
    assert await keys(f"cf[{n['textfield']}] !~ dog") == {one}
    assert await keys(f"cf[{n['textfield']}] ~ cat") == set()
    assert await keys(f"cf[{n['userpicker']}] = carol") == {one}
    assert await keys(f"cf[{n['userpicker']}] in (carol, dave)") == {one, two}
    assert await keys(f"cf[{n['userpicker']}] = currentUser()") == set()
    assert await keys(f"cf[{n['datepicker']}] > 2024-02-01") == {two}
    assert await keys(f"cf[{n['datepicker']}] = 2024-01-10") == {one}
    assert await keys(f"cf[{n['datetime']}] < '2024-02-01'") == {one}
    assert await keys(f"cf[{n['datetime']}] = 2024-03-01") == {two}
    assert await keys(f"cf[{n['labels']}] = alpha") == {one, two}
    assert await keys(f"cf[{n['labels']}] = beta AND summary ~ two") == {two}
    assert await keys(f"cf[{n['labels']}] is EMPTY") == {three}

    ordered = await _keys(api, f"cf[{n['float']}] is not EMPTY ORDER BY cf[{n['float']}] DESC")
    assert ordered == [two, one]
    by_option = await _keys(api, f"ORDER BY cf[{n['select']}] ASC")
    assert by_option == [one, two, three]
    by_name = await _keys(api, '"My datepicker" is not EMPTY ORDER BY "My datepicker"')
    assert by_name == [one, two]
    assert await _keys(api, f"ORDER BY cf[{n['userpicker']}]") == [one, two, three]
    # Empty first when descending; a multi-select sorts on its first option (Red for one).
    assert await _keys(api, f"ORDER BY cf[{n['multiselect']}] DESC") == [three, two, one]
    assert await _keys(api, f"ORDER BY cf[{n['labels']}], summary") == [one, two, three]


async def test_jql_errors(api: JiraApi, fields: dict[str, str]) -> None:
    n = {kind: ident.removeprefix("customfield_") for kind, ident in fields.items()}
    assert await _jql_error(api, f"cf[{n['textfield']}] = x") == [
        f"The operator '=' is not supported by the 'cf[{n['textfield']}]' field."
    ]
    assert await _jql_error(api, f"cf[{n['select']}] = Purple") == [
        f"The option 'Purple' for field 'cf[{n['select']}]' is not valid."
    ]
    assert await _jql_error(api, f"cf[{n['select']}] ~ Red") == [
        f"The operator '~' is not supported by the 'cf[{n['select']}]' field."
    ]
    assert await _jql_error(api, f"cf[{n['float']}] = abc") == [
        f"The value 'abc' for field 'cf[{n['float']}]' is not a valid number."
    ]
    assert await _jql_error(api, f"cf[{n['userpicker']}] = nobody") == [
        f"The value 'nobody' does not exist for the field 'cf[{n['userpicker']}]'."
    ]
    assert await _jql_error(api, "cf[99999] = x") == [
        "Field 'cf[99999]' does not exist or you do not have permission to view it."
    ]
    assert await _jql_error(api, '"No Such Field" = x') == [
        "Field 'No Such Field' does not exist or you do not have permission to view it."
    ]
    assert await _jql_error(api, "ORDER BY cf[99999]") == [
        "Not able to sort using field 'cf[99999]'."
    ]
    assert await _jql_error(api, f"cf[{n['datepicker']}] > soon") != []
    plain = await api.call("POST", "/field", json={"name": "Hidden", "type": PLUGIN + "float"})
    number = plain.json()["schema"]["customId"]
    assert await _jql_error(api, f"cf[{number}] = 1") == [
        f"Field 'cf[{number}]' is not searchable, it is only sortable."
    ]
    assert (await _search(api, f"ORDER BY cf[{number}]"))["total"] == 0


async def test_hostile_input(api: JiraApi, fields: dict[str, str]) -> None:
    """NUL bytes, huge numbers and odd ids: 400 or 404 in Jira's shape, never a 5xx."""
    huge = "9" * 30
    for path in (f"/customFieldOption/{huge}", "/customFieldOption/²", "/customFieldOption/-1"):
        response = await api.call("GET", path)
        assert response.status_code == 404, path
        assert response.json()["errorMessages"], path
    created = await api.issue("Hostile")
    path = f"/issue/{created['key']}"
    text = fields["textfield"]
    nul = await api.call("PUT", path, json={"fields": {text: "a\x00b"}})
    if api.harness.services.db.dialect == "postgresql":  # its text cannot hold NUL
        assert nul.status_code == 400
        assert nul.json()["errorMessages"] == [
            "The request contains a value that cannot be stored."
        ]
    else:
        assert nul.status_code == 204
        assert (await api.call("GET", path)).json()["fields"][text] == "a\x00b"
    for value in ({"id": huge}, {"id": -1}, {"value": "\x00"}, {"id": "²"}):
        response = await api.call("PUT", path, json={"fields": {fields["select"]: value}})
        assert response.status_code == 400, value
        assert set(response.json()["errors"]) == {fields["select"]}
    number = fields["float"]
    for value in ("1e999", [], {}):
        response = await api.call("PUT", path, json={"fields": {number: value}})
        assert response.status_code == 400, value
    for raw in ("1e999", "-1e999", huge * 20):  # JSON numbers past a float, or very long
        body = f'{{"fields": {{"{number}": {raw}}}}}'
        response = await api.call(
            "PUT", path, content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, raw
        assert response.json()["errorMessages"] or response.json()["errors"], raw
    assert await _jql_error(api, f"cf[{huge}] = 1") == [
        f"Field 'cf[{huge}]' does not exist or you do not have permission to view it."
    ]
    n = number.removeprefix("customfield_")
    for jql in (f"cf[{n}] > {huge}", f"cf[{n}] = -{huge}"):
        assert (await _search(api, jql))["total"] == 0
    assert await _jql_error(api, f"cf[{n}] = 1e999") == [
        f"The value '1e999' for field 'cf[{n}]' is not a valid number."
    ]
    select = fields["select"].removeprefix("customfield_")
    assert await _jql_error(api, f"cf[{select}] = '\x00'") == [
        f"The option '\x00' for field 'cf[{select}]' is not valid."
    ]


async def test_with_time_tracking_versions_and_saved_filters(
    api: JiraApi, fields: dict[str, str]
) -> None:
    """Custom fields beside the other fields: set in one edit with ``timetracking``, and
    named in saved filters, which are checked and run with them."""
    f = fields
    n = {kind: ident.removeprefix("customfield_") for kind, ident in f.items()}
    version = await api.call("POST", "/version", json={"name": "2.0", "project": "TEST"})
    assert version.status_code == 201, version.text
    one = (
        await api.issue(
            "One",
            timetracking={"originalEstimate": "2h"},
            fixVersions=[{"name": "2.0"}],
            **{f["select"]: {"value": "Red"}, f["userpicker"]: {"name": "carol"}},
        )
    )["key"]
    two = (await api.issue("Two", **{f["select"]: {"value": "Blue"}, f["float"]: 5}))["key"]
    path = f"/issue/{one}"
    body = {"fields": {"timetracking": {"remainingEstimate": "1h"}, f["float"]: 3}}
    response = await api.call("PUT", path, json=body)
    assert response.status_code == 204, response.text
    shown = (await api.call("GET", path, params={"expand": "changelog"})).json()
    assert shown["fields"][f["float"]] == 3.0
    assert shown["fields"]["timeestimate"] == 3600
    (history,) = shown["changelog"]["histories"]
    assert {(i["field"], i.get("fieldtype")) for i in history["items"]} == {
        ("timeestimate", "jira"),
        ("My float", "custom"),
    }
    bad = {"fields": {"timetracking": {"remainingEstimate": "soon"}, f["float"]: "3"}}
    response = await api.call("PUT", path, json=bad)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "timetracking_remainingestimate": "The remaining estimate specified is not valid.",
        f["float"]: "Operation value must be a number",
    }

    async def saved(name: str, jql: str) -> str:
        made = await api.call("POST", "/filter", json={"name": name, "jql": jql})
        assert made.status_code == 200, made.text
        ident: str = made.json()["id"]
        return ident

    estimated = await saved(
        "Red estimated",
        f"cf[{n['select']}] = Red AND remainingEstimate <= 1h ORDER BY cf[{n['float']}]",
    )
    carols = await saved("Carol's", '"My userpicker" = carol')
    numbered = await saved("Numbered", f"cf[{n['float']}] is not EMPTY")
    assert await _keys(api, f"filter = {estimated}") == [one]
    assert await _keys(api, f"filter = {carols} AND fixVersion = '2.0'") == [one]
    assert await _keys(api, f"filter = {numbered} ORDER BY cf[{n['float']}] DESC") == [two, one]
    assert await _keys(api, f"filter != {carols} AND cf[{n['select']}] = Blue") == [two]
    for jql, message in (
        (
            f"cf[{n['textfield']}] = x",
            f"The operator '=' is not supported by the 'cf[{n['textfield']}]' field.",
        ),
        (
            '"My userpicker" = nobody',
            "The value 'nobody' does not exist for the field 'My userpicker'.",
        ),
        (
            "cf[99999] = 1",
            "Field 'cf[99999]' does not exist or you do not have permission to view it.",
        ),
        ("ORDER BY cf[99999]", "Not able to sort using field 'cf[99999]'."),
    ):
        refused = await api.call("POST", "/filter", json={"name": "Bad", "jql": jql})
        assert refused.status_code == 400, jql
        assert refused.json() == {"errorMessages": [], "errors": {"jql": message}}
