"""What the admin routes share: the caller, the administrator check, JSON bodies, errors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from jiraguard.auth.pat import Origin
from jiraguard.auth.principal import Principal
from jiraguard.jira.params import DISCONNECTED
from jiraguard.responses import error_response
from jiraguard.untrusted import UntrustedInput, load_json

if TYPE_CHECKING:
    from jiraguard.app import Services


class AdminError(Exception):
    """An error answered in Jira's format (``{"errorMessages": [...], "errors": {...}}``)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> Response:
        return error_response(self.status, [self.message])


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def caller(request: Request) -> Principal:
    """The authenticated principal (the middleware guarantees one on ``/rest/``)."""
    user: Principal = request.user
    return user


def require_admin(request: Request) -> None:
    if not caller(request).is_administrator:
        raise AdminError(403, "You must be a Jira administrator to do this.")


def origin(request: Request) -> Origin:
    """The request as the origin of a change, for its audit record."""
    who = caller(request)
    return Origin(
        method=request.method,
        path=request.url.path,
        # The client as the middleware saw it (server.trusted_proxies applied).
        client_ip=services(request).client_address.of(request.scope),
        auth_method=who.method,
        provider=who.provider,
        fingerprint=who.fingerprint,
    )


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; 400 when it is not one, 413 past ``server.max_body_bytes``."""
    limit = services(request).settings.server.max_body_bytes
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise AdminError(413, "The request body is too large.")
    except ClientDisconnect:  # the client's doing: no traceback in the log
        raise AdminError(400, DISCONNECTED) from None
    try:
        data = load_json(body or b"null")
    except UntrustedInput as exc:  # bad JSON, too deep, a lone surrogate, a huge number
        raise AdminError(400, f"The request body is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise AdminError(400, "The request body must be a JSON object.")
    return data
