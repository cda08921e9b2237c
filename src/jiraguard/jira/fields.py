"""Jira's system fields: the ``/field`` list and the ``fields=`` selection.

See docs/jira-compat.md §3 and §4.4.

``fields`` arrives repeated or as a comma list and may hold ``*all``, ``*navigable``,
``*none`` and ``-name`` exclusions. ``jira`` (pycontribs) maps JQL names to field ids through
``clauseNames``, so every searchable field lists them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from jiraguard.jira import catalog
from jiraguard.jira.views import issuetype_json, priority_json


@dataclass(frozen=True, slots=True)
class FieldDef:
    """A system field as ``/field`` lists it."""

    id: str
    name: str
    schema_type: str
    clause_names: tuple[str, ...] = ()
    navigable: bool = True
    orderable: bool = True
    items: str | None = None

    def json(self) -> dict[str, Any]:
        """The ``/field`` entry (docs/jira-compat.md §5)."""
        schema: dict[str, Any] = {"type": self.schema_type, "system": self.id}
        if self.items:
            schema["items"] = self.items
        return {
            "id": self.id,
            "key": self.id,
            "name": self.name,
            "custom": False,
            "orderable": self.orderable,
            "navigable": self.navigable,
            "searchable": bool(self.clause_names),
            "clauseNames": list(self.clause_names),
            "schema": schema,
        }


FIELDS = (
    FieldDef("summary", "Summary", "string", ("summary",)),
    FieldDef("description", "Description", "string", ("description",)),
    FieldDef("issuetype", "Issue Type", "issuetype", ("issuetype", "type")),
    FieldDef("project", "Project", "project", ("project",)),
    FieldDef("status", "Status", "status", ("status",), orderable=False),
    FieldDef("priority", "Priority", "priority", ("priority",)),
    FieldDef("assignee", "Assignee", "user", ("assignee",)),
    FieldDef("reporter", "Reporter", "user", ("reporter",)),
    FieldDef("creator", "Creator", "user", ("creator",), orderable=False),
    FieldDef("created", "Created", "datetime", ("created", "createdDate"), orderable=False),
    FieldDef("updated", "Updated", "datetime", ("updated", "updatedDate"), orderable=False),
    FieldDef("labels", "Labels", "array", ("labels",), items="string"),
    FieldDef("resolution", "Resolution", "resolution", ("resolution",)),
    FieldDef(
        "resolutiondate",
        "Resolved",
        "datetime",
        ("resolved", "resolutiondate"),
        orderable=False,
    ),
    FieldDef("duedate", "Due Date", "date", ("due", "duedate")),
    FieldDef("issuekey", "Key", "string", ("id", "issue", "issuekey", "key"), orderable=False),
    FieldDef("comment", "Comment", "comments-page", ("comment",), navigable=False),
    FieldDef("worklog", "Log Work", "array", (), navigable=False, items="worklog"),
    FieldDef("issuelinks", "Linked Issues", "array", ("issuelinks",), items="issuelinks"),
    FieldDef("attachment", "Attachment", "array", ("attachments",), items="attachment"),
    FieldDef("text", "Text", "string", ("text",), navigable=False, orderable=False),
    FieldDef("fixVersions", "Fix Version/s", "array", ("fixVersion",), items="version"),
    FieldDef("versions", "Affects Version/s", "array", ("affectedVersion",), items="version"),
    FieldDef("components", "Component/s", "array", ("component",), items="component"),
    FieldDef("timetracking", "Time tracking", "timetracking", (), navigable=False),
    FieldDef(
        "timeoriginalestimate",
        "Original Estimate",
        "number",
        ("originalEstimate", "timeoriginalestimate"),
        orderable=False,
    ),
    FieldDef(
        "timeestimate",
        "Remaining Estimate",
        "number",
        ("remainingEstimate", "timeestimate"),
        orderable=False,
    ),
    FieldDef("timespent", "Time Spent", "number", ("timespent",), orderable=False),
    FieldDef("aggregatetimeoriginalestimate", "Σ Original Estimate", "number", (), orderable=False),
    FieldDef("aggregatetimeestimate", "Σ Remaining Estimate", "number", (), orderable=False),
    FieldDef("aggregatetimespent", "Σ Time Spent", "number", (), orderable=False),
    FieldDef("progress", "Progress", "progress", ("progress",), orderable=False),
    FieldDef("aggregateprogress", "Σ Progress", "progress", (), orderable=False),
    FieldDef("workratio", "Work Ratio", "number", ("workratio",), orderable=False),
    FieldDef("watches", "Watchers", "watches", ("watchers",), orderable=False),
    FieldDef("votes", "Votes", "votes", ("votes",), orderable=False),
)

RENDERED = tuple(f.id for f in FIELDS if f.id not in ("issuekey", "text"))
"""The fields an issue's JSON carries (``issuekey`` and ``text`` exist only for JQL)."""

_NON_NAVIGABLE = frozenset(f.id for f in FIELDS if not f.navigable)
ALL = frozenset(RENDERED)
NAVIGABLE = ALL - _NON_NAVIGABLE


def select_fields(
    requested: Iterable[str], default: str, custom: Iterable[str] = ()
) -> frozenset[str]:
    """The field ids to render for a ``fields`` parameter (``default`` when it is empty).

    ``custom``: the custom fields' ids (all navigable, as in Jira). Unknown names are
    ignored, as Jira does; ``-name`` removes a field from the selection.
    """
    names = [name for name in requested if name] or [default]
    extra = frozenset(custom)
    every, navigable = ALL | extra, NAVIGABLE | extra
    chosen: set[str] = set()
    for name in names:
        if name in ("*all", "all"):
            chosen |= every
        elif name in ("*navigable", "navigable"):
            chosen |= navigable
        elif name == "*none":
            continue
        elif not name.startswith("-") and name in every:
            chosen.add(name)
    if all(name.startswith("-") for name in names):
        chosen |= every if default == "*all" else navigable
    for name in names:
        if name.startswith("-"):
            chosen.discard(name[1:])
    return frozenset(chosen)


CREATE_SCREEN = (
    "summary",
    "issuetype",
    "project",
    "description",
    "priority",
    "assignee",
    "reporter",
    "labels",
    "duedate",
    "components",
    "versions",
    "fixVersions",
    "timetracking",
)
"""The fields ``POST /issue`` accepts, in createmeta order."""

EDIT_SCREEN = tuple(f for f in CREATE_SCREEN if f != "project")
"""The fields ``PUT /issue/{k}`` accepts (the project cannot change)."""


LIST_FIELDS = frozenset({"labels", "components", "versions", "fixVersions"})
"""The fields that take ``add`` and ``remove`` operations beside ``set``."""
_OPERATIONS = {
    **{name: ["set", "add", "remove"] for name in LIST_FIELDS},
    "timetracking": ["set", "edit"],
}


def screen_field_json(
    base: str,
    field: str,
    *,
    creating: bool,
    allowed: Mapping[str, list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """A field as createmeta and editmeta describe it (``required``, ``operations``…);
    ``allowed``: the values of the project's fields (its versions and components)."""
    spec = next(f for f in FIELDS if f.id == field)
    body: dict[str, Any] = {
        "required": field in ("summary", "issuetype", "project")
        if creating
        else field == "summary",
        "schema": spec.json()["schema"],
        "name": spec.name,
        "fieldId": field,
        "hasDefaultValue": field in ("priority", "issuetype"),
        "operations": _OPERATIONS.get(field, ["set"]),
    }
    if field == "priority":
        body["allowedValues"] = [priority_json(base, p) for p in catalog.PRIORITIES]
    if field == "issuetype":
        body["allowedValues"] = [issuetype_json(base, t) for t in catalog.ISSUE_TYPES]
    if allowed is not None and field in allowed:
        body["allowedValues"] = allowed[field]
    return body
