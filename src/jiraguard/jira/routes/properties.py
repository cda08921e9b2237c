"""``/application-properties``: read by anyone, ``?key=`` for one, ``/advanced-settings``
and ``PUT /application-properties/{id}`` for Jira administrators (docs/jira-compat.md §5.5)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import JiraError, bad_request, not_found
from jiraguard.jira.context import base_url, database, require_admin
from jiraguard.jira.params import query_str, read_json
from jiraguard.jira.properties import BASE_URL, BY_KEY, PROPERTIES, Property, property_json
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.properties import changed_properties, set_property

MAX_VALUE = 4000


def _missing(key: str) -> JiraError:
    return not_found(f"Property with key '{key}' does not exist.")


async def _values(request: Request) -> dict[str, str]:
    async with database(request).session() as session:
        changed = await changed_properties(session)
    return {p.key: changed.get(p.key, p.default) for p in PROPERTIES} | {
        BASE_URL: base_url(request)
    }


def _key_filter(request: Request) -> str:
    """``keyFilter`` (Jira: a regular expression) as the key prefix it almost always is
    (``jira.lf.*``): a trailing ``.*`` or ``*`` is dropped, and nothing is evaluated."""
    text = query_str(request, "keyFilter") or ""
    return text.removesuffix(".*").removesuffix("*")


async def listing(request: Request) -> Response:
    """GET /application-properties: a JSON array; ``?key=`` one property (an object)."""
    values = await _values(request)
    key = query_str(request, "key")
    if key is not None:
        found = BY_KEY.get(key)
        if found is None:
            raise _missing(key)
        return JiraJSONResponse(property_json(found, values[key]))
    prefix = _key_filter(request)
    return JiraJSONResponse(
        [property_json(p, values[p.key]) for p in PROPERTIES if p.key.startswith(prefix)]
    )


async def advanced(request: Request) -> Response:
    """GET /application-properties/advanced-settings: the "Advanced Settings" page's."""
    require_admin(request)
    values = await _values(request)
    return JiraJSONResponse([property_json(p, values[p.key]) for p in PROPERTIES if p.advanced])


def _new_value(found: Property, value: object) -> str:
    if not isinstance(value, str):
        raise bad_request("The property value must be a string.")
    if len(value) > MAX_VALUE:
        raise bad_request(f"The property value must not be longer than {MAX_VALUE} characters.")
    if found.allowed and value not in found.allowed:
        raise bad_request(
            f"The value '{value}' is not allowed for '{found.key}': "
            f"one of {', '.join(found.allowed)}."
        )
    if found.fixed:
        raise bad_request(f"The property '{found.key}' cannot be changed here: {found.fixed}.")
    return value


async def change(request: Request) -> Response:
    """PUT /application-properties/{id} ``{"id": key, "value": …}`` → 200 with the property."""
    key = request.path_params["id"]
    require_admin(request)
    body = await read_json(request)
    found = BY_KEY.get(key)
    if found is None:
        raise _missing(key)
    if "id" in body and body["id"] != key:
        raise bad_request("The property id in the body does not match the one in the path.")
    value = _new_value(found, body.get("value"))
    async with database(request).transaction() as session:
        await set_property(session, key, value)
    return JiraJSONResponse(property_json(found, value))


routes = [
    Route("/application-properties", listing, methods=["GET"]),
    Route("/application-properties/advanced-settings", advanced, methods=["GET"]),
    Route("/application-properties/{id}", change, methods=["PUT"]),
]
