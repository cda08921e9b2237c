"""``POST /field`` (create a custom field, Jira administrators only) and
``GET /customFieldOption/{id}``.

Jira Server makes a select's options in its administration UI; here they are given when
the field is created, as ``allowedValues`` (a list of strings, in order), and added later
with ``POST /rest/jiraguard/1/customfield/{id}/option`` (docs/jira-compat.md §3.1).

Both record a ``CUSTOM_FIELDS`` change with what they add, and apply it before they answer:
every process reads the definitions again (``store.custom_fields.FieldDefinitions``), this
one at once, the others when they next read the change feed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import JiraError, field_errors, forbidden, not_found
from jiraguard.jira.context import announce, base_url, database, is_admin
from jiraguard.jira.custom_fields import PLUGIN, SELECTS, TYPES, field_json, option_json
from jiraguard.jira.params import read_json
from jiraguard.jira.project_items import MAX_NAME, text_member
from jiraguard.responses import JiraJSONResponse
from jiraguard.store import changes
from jiraguard.store.custom_fields import (
    add_option,
    create_custom_field,
    custom_fields,
    find_option,
)

NO_PERMISSION = "Only Jira administrators can create custom fields."
NAME_REQUIRED = "You must specify a name for this custom field."
TYPE_REQUIRED = "No field type specified."
TYPE_INVALID = "Invalid field type specified."
SEARCHER_INVALID = "Invalid searcher specified."
MAX_DESCRIPTION = 40000


def _short_key(value: str | None) -> str | None:
    """``textfield`` for ``com.atlassian.jira.plugin.system.customfieldtypes:textfield``."""
    if value is None:
        return None
    text = value.strip()
    return text[len(PLUGIN) :] if text.startswith(PLUGIN) else None


def _name(body: dict[str, Any], errors: dict[str, str]) -> str | None:
    name = text_member(body, "name", errors)
    if name is None or not name.strip():
        errors.setdefault("name", NAME_REQUIRED)
        return None
    if len(name.strip()) > MAX_NAME:
        errors["name"] = f"The name must not be longer than {MAX_NAME} characters."
        return None
    return name.strip()


def _option_value(value: Any) -> str | None:
    """An option's value as given, stripped; None when it is not a non-empty short string."""
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_NAME:
        return None
    return value.strip()


def _options(body: dict[str, Any], type_key: str | None, errors: dict[str, str]) -> list[str]:
    given = body.get("allowedValues")
    if given is None:
        return []
    if type_key not in SELECTS:
        errors["allowedValues"] = "Only select and multi-select fields have allowed values."
        return []
    values = [_option_value(v) for v in given] if isinstance(given, list) else [None]
    if any(v is None for v in values):
        errors["allowedValues"] = (
            f"'allowedValues' must be a list of non-empty strings of at most {MAX_NAME} characters."
        )
        return []
    kept = [v for v in values if v is not None]
    if len({v.lower() for v in kept}) < len(kept):
        errors["allowedValues"] = "Each allowed value must be different."
        return []
    return kept


async def create(request: Request) -> Response:
    """POST /field ``{name, description, type, searcherKey, allowedValues}`` → 201 with the
    field as ``/field`` lists it."""
    body = await read_json(request)
    if not is_admin(request):
        raise forbidden(NO_PERMISSION)
    errors: dict[str, str] = {}
    name = _name(body, errors)
    description = text_member(body, "description", errors) or ""
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = f"The description must not be longer than {MAX_DESCRIPTION}."
    raw_type = text_member(body, "type", errors)
    type_key = _short_key(raw_type)
    if raw_type is None or not raw_type.strip():
        errors.setdefault("type", TYPE_REQUIRED)
    elif type_key not in TYPES:
        errors["type"] = TYPE_INVALID
    raw_searcher = text_member(body, "searcherKey", errors)
    searcher = _short_key(raw_searcher)
    if raw_searcher is not None and type_key in TYPES and searcher not in TYPES[type_key].searchers:
        errors["searcherKey"] = SEARCHER_INVALID
    options = _options(body, type_key, errors)
    if errors or name is None or type_key is None:
        raise field_errors(errors)
    try:
        async with database(request).transaction() as session:
            ident = await create_custom_field(
                session,
                name=name,
                description=description,
                type_key=type_key,
                searcher_key=searcher,
                options=options,
            )
            await changes.record(session, changes.CUSTOM_FIELDS)
    except IntegrityError as exc:  # a concurrent create took the id: the client may retry
        raise JiraError(409, ["Another custom field was created at the same time."]) from exc
    await announce(request)
    async with database(request).session() as session:
        record = next(f for f in await custom_fields(session) if f.id == ident)
    return JiraJSONResponse(field_json(record), status_code=201)


async def option(request: Request) -> Response:
    """GET /customFieldOption/{id}: ``{self, value, id}``."""
    ident = request.path_params["id"]
    async with database(request).session() as session:
        found = await find_option(session, ident)
    if found is None:
        raise not_found(f"Custom field option with id '{ident}' does not exist.")
    return JiraJSONResponse(option_json(base_url(request), found))


async def add(request: Request) -> Response:
    """POST /rest/jiraguard/1/customfield/{id}/option ``{"value": …}`` → 201 with the option,
    placed after the field's others (Jira administrators only)."""
    body = await read_json(request)
    if not is_admin(request):
        raise forbidden("Only Jira administrators can change custom fields.")
    ident = request.path_params["id"]
    value = _option_value(body.get("value"))
    if value is None:
        raise field_errors(
            {"value": f"The option must be a non-empty string of at most {MAX_NAME} characters."}
        )
    try:
        async with database(request).transaction() as session:
            record = next((f for f in await custom_fields(session) if str(f.id) == ident), None)
            if record is None or record.type_key not in SELECTS:
                raise not_found(f"No select custom field with id '{ident}'.")
            if any(o.value.lower() == value.lower() for o in record.options):
                raise field_errors({"value": f"The option '{value}' already exists."})
            created = await add_option(session, record.id, value)
            await changes.record(session, changes.CUSTOM_FIELDS)
    except IntegrityError as exc:
        raise field_errors({"value": f"The option '{value}' already exists."}) from exc
    await announce(request)
    return JiraJSONResponse(option_json(base_url(request), created), status_code=201)


routes = [
    Route("/field", create, methods=["POST"]),
    Route("/customFieldOption/{id}", option, methods=["GET"]),
]
admin_routes = [Route("/customfield/{id}/option", add, methods=["POST"])]
"""Under ``/rest/jiraguard/1``."""
