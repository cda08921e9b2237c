"""``/issue/{k}/properties``: an issue's entity properties, JSON values under keys that
apps and scripts keep on the issue (list the keys, get, set, delete).

As in Jira, a key is 1 to 255 characters and a value any JSON document of at most 32,768
characters; setting a new key answers 201, replacing a value 200.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import JiraError, bad_request, not_found
from jiraguard.jira.context import base_url, database, issue_or_404
from jiraguard.jira.params import read_body
from jiraguard.jira.views import API
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.issue_properties import (
    delete_property,
    property_keys,
    property_value,
    set_property,
)
from jiraguard.untrusted import InvalidUnicode, UntrustedInput, load_json

MAX_KEY = 255
MAX_VALUE = 32768
"""Jira's ``jira.json.property.max.length``: characters of the value's JSON text."""


def _key(request: Request) -> str:
    key: str = request.path_params["key"]
    if len(key) > MAX_KEY:
        raise bad_request(f"The property key cannot be longer than {MAX_KEY} characters.")
    if "\x00" in key:
        raise bad_request("The property key must not contain NUL characters.")
    return key


def _missing(key: str) -> JiraError:
    return not_found(f"The property with key '{key}' does not exist.")


def _self(base: str, issue_key: str, key: str) -> str:
    return f"{base}{API}/issue/{quote(issue_key)}/properties/{quote(key, safe='')}"


async def keys(request: Request) -> Response:
    """GET /issue/{k}/properties → ``{"keys": [{self, key}]}``."""
    async with database(request).session() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        base = base_url(request)
        found = await property_keys(session, issue.id)
        listed = [{"self": _self(base, issue.key, key), "key": key} for key in found]
        return JiraJSONResponse({"keys": listed})


async def get(request: Request) -> Response:
    """GET /issue/{k}/properties/{key} → ``{key, value}``; 404 when not set."""
    key = _key(request)
    async with database(request).session() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        value = await property_value(session, issue.id, key)
    if value is None:
        raise _missing(key)
    return JiraJSONResponse({"key": key, "value": load_json(value)})


def _value(raw: bytes) -> str:
    """The body as the JSON text to keep: any JSON document within Jira's limit."""
    if not raw.strip():
        raise bad_request("The property value cannot be empty.")
    try:
        load_json(raw)
    except InvalidUnicode as exc:
        raise bad_request("The property value contains an unpaired surrogate.") from exc
    except UntrustedInput as exc:
        raise bad_request(f"The property value is not valid JSON: {exc}") from exc
    text = raw.decode("utf-8").strip()
    if len(text) > MAX_VALUE:
        raise bad_request(f"The property value cannot be longer than {MAX_VALUE} characters.")
    return text


async def put(request: Request) -> Response:
    """PUT /issue/{k}/properties/{key} (any JSON) → 201 when new, 200 when replaced."""
    key = _key(request)
    value = _value(await read_body(request))
    async with database(request).transaction() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        added = await set_property(session, issue.id, key, value)
    return Response(status_code=201 if added else 200)


async def remove(request: Request) -> Response:
    """DELETE /issue/{k}/properties/{key} → 204; 404 when not set."""
    key = _key(request)
    async with database(request).transaction() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        deleted = await delete_property(session, issue.id, key)
    if not deleted:
        raise _missing(key)
    return Response(status_code=204)


routes = [
    Route("/issue/{issue}/properties", keys, methods=["GET"]),
    Route("/issue/{issue}/properties/{key}", get, methods=["GET"]),
    Route("/issue/{issue}/properties/{key}", put, methods=["PUT"]),
    Route("/issue/{issue}/properties/{key}", remove, methods=["DELETE"]),
]
