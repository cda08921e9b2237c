"""``/rest/auth/1/session``: the caller's session, as Jira's ``jira.session()`` and
``JIRA(..., validate=True)`` read it (docs/jira-compat.md §1).

There are no cookie sessions: every request carries its own credentials. So

- ``GET`` answers who the credentials of this request belong to (Jira's ``CurrentUser``);
- ``DELETE`` (logout) is a 204 that ends nothing: a token stays valid until it expires or
  is revoked at its provider;
- ``POST`` (a login with a user name and password in the body) is refused with the answer
  blocked Basic credentials get, 401 with the Bearer challenge, whatever ``auth.block_basic``
  says: a session login would outlive the request, and Basic exemptions are per request.
  The body is never read, so no password is parsed, checked or logged, and no cookie is
  ever issued: the session resource cannot become a password login beside a blocked Basic.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.auth.errors import BasicAuthBlocked
from jiraguard.jira.context import base_url, principal
from jiraguard.responses import JiraJSONResponse


async def current(request: Request) -> Response:
    """GET → ``{self, name, loginInfo}``. Jira omits the login counters it does not know;
    jiraguard keeps none, so ``loginInfo`` is empty."""
    who = principal(request)
    return JiraJSONResponse(
        {
            "self": f"{base_url(request)}/rest/api/latest/user?username={quote(who.username)}",
            "name": who.username,
            "loginInfo": {},
        }
    )


async def login(request: Request) -> Response:
    """POST → 401 with the Bearer challenge, whatever the body holds (see the module)."""
    realm: str = request.app.state.services.settings.auth.realm
    return BasicAuthBlocked().response(realm)


async def logout(request: Request) -> Response:
    """DELETE → 204; nothing is stored per session, so nothing is destroyed."""
    return Response(status_code=204)


routes = [
    Route("/session", current, methods=["GET"]),
    Route("/session", login, methods=["POST"]),
    Route("/session", logout, methods=["DELETE"]),
]
