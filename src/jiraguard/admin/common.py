"""What the admin routes share: the caller, the administrator check, JSON bodies, errors."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.requests import ClientDisconnect, Request

from jiraguard.auth.pat import Origin
from jiraguard.auth.principal import Principal
from jiraguard.errors import JiraError
from jiraguard.jira.params import DISCONNECTED
from jiraguard.services import Services
from jiraguard.settings import ProviderSettings
from jiraguard.untrusted import UntrustedInput, load_json


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def provider_client(request: Request, provider: ProviderSettings) -> httpx.AsyncClient:
    """The HTTP client that trusts ``provider``'s CA bundle (``ca_bundle``)."""
    shared = services(request)
    if shared.provider_clients is None:
        return shared.http
    return shared.provider_clients.for_provider(provider, shared.settings.auth)


def caller(request: Request) -> Principal:
    """The authenticated principal (the middleware guarantees one on ``/rest/``)."""
    user: Principal = request.user
    return user


def require_admin(request: Request) -> None:
    if not caller(request).is_administrator:
        raise JiraError(403, ["You must be a Jira administrator to do this."])


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
                raise JiraError(413, ["The request body is too large."])
    except ClientDisconnect:  # the client's doing: no traceback in the log
        raise JiraError(400, [DISCONNECTED]) from None
    try:
        data = load_json(body or b"null")
    except UntrustedInput as exc:  # bad JSON, too deep, a lone surrogate, a huge number
        raise JiraError(400, [f"The request body is not valid JSON: {exc}."]) from exc
    if not isinstance(data, dict):
        raise JiraError(400, ["The request body must be a JSON object."])
    return data
