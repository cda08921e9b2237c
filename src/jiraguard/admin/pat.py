"""``/rest/pat/latest/tokens``: Jira Data Center's personal access token API.

``POST`` creates a token for the caller and answers with ``rawToken`` (the one time it is
ever shown), ``GET`` lists the caller's tokens, ``DELETE /{id}`` revokes one (administrators
may revoke anyone's). A personal access token cannot create tokens: a leaked one could
otherwise outlive its own expiry and revocation by minting successors.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.admin.common import caller, json_object, origin, services
from jiraguard.auth.pat import NoSuchUser, TokenRequestError
from jiraguard.auth.validators.pat import METHOD as PAT_METHOD
from jiraguard.errors import JiraError
from jiraguard.jira.views import jira_datetime
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.tokens import TokenRecord

MAX_ID = 2**31 - 1


def token_json(record: TokenRecord) -> dict[str, Any]:
    """A token as Jira's PAT API shows it (never the token itself)."""
    body: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "createdAt": jira_datetime(record.created_at),
        "expiringAt": jira_datetime(record.expires_at),
    }
    if record.last_accessed_at is not None:
        body["lastAccessedAt"] = jira_datetime(record.last_accessed_at)
    return body


def _enabled(request: Request) -> None:
    if not services(request).settings.tokens.enabled:
        raise JiraError(403, ["Personal access tokens are disabled."])


def _days(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise JiraError(400, ["expirationDuration must be a whole number of days."])
    return value


async def create_token(request: Request) -> Response:
    """POST → 201 {id, name, createdAt, expiringAt, rawToken}."""
    _enabled(request)
    who = caller(request)
    if who.method == PAT_METHOD:
        raise JiraError(403, ["A personal access token cannot create personal access tokens."])
    body = await json_object(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise JiraError(400, ["name is required."])
    try:
        issued = await services(request).tokens.create(
            who.username,
            name,
            _days(body.get("expirationDuration")),
            actor=who.username,
            origin=origin(request),
        )
    except TokenRequestError as exc:
        raise JiraError(400, [str(exc)]) from exc
    except NoSuchUser as exc:  # deleted between authentication and now
        raise JiraError(401, ["You are not authenticated."]) from exc
    # The one answer that carries a secret: no cache may keep it (as RFC 6749 §5.1 asks of
    # token responses).
    return JiraJSONResponse(
        {**token_json(issued.record), "rawToken": issued.raw},
        201,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


async def list_tokens(request: Request) -> Response:
    """GET → the caller's tokens, oldest first, without the tokens themselves."""
    _enabled(request)
    records = await services(request).tokens.list(caller(request).username)
    return JiraJSONResponse([token_json(r) for r in records])


async def revoke_token(request: Request) -> Response:
    """DELETE /{id} → 204; 404 for a token that is not the caller's (unless an admin)."""
    _enabled(request)
    raw_id = request.path_params["token_id"]
    if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 10 or int(raw_id) > MAX_ID:
        raise JiraError(404, ["The personal access token does not exist."])
    who = caller(request)
    owner = None if who.is_administrator else who.username
    revoked = await services(request).tokens.revoke(
        int(raw_id), actor=who.username, origin=origin(request), owner=owner
    )
    if revoked is None:
        raise JiraError(404, ["The personal access token does not exist."])
    return Response(status_code=204)


routes = [
    Route("/tokens", create_token, methods=["POST"]),
    Route("/tokens", list_tokens, methods=["GET"]),
    Route("/tokens/{token_id}", revoke_token, methods=["DELETE"]),
]
