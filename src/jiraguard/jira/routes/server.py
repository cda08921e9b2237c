"""``/serverInfo`` and ``/myself``."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.auth.principal import Principal
from jiraguard.jira.views import groups_json, jira_datetime, user_json
from jiraguard.responses import JiraJSONResponse, SerialisedJSONResponse, dump_json

JIRA_VERSION = (9, 12, 2)
BUILD_DATE = datetime(2026, 11, 1, tzinfo=UTC)


async def server_info(request: Request) -> Response:
    base_url: str = request.app.state.base_url
    return JiraJSONResponse(
        {
            "baseUrl": base_url,
            "version": ".".join(map(str, JIRA_VERSION)),
            "versionNumbers": list(JIRA_VERSION),
            "deploymentType": "Server",
            "buildNumber": JIRA_VERSION[0] * 100000 + JIRA_VERSION[1] * 1000 + JIRA_VERSION[2],
            "buildDate": jira_datetime(BUILD_DATE),
            "serverTime": jira_datetime(datetime.now(UTC)),
            "scmInfo": "jiraguard",
            "serverTitle": "Jira",
        }
    )


_MYSELF_KEPT = 10_000
"""Most ``myself`` bodies kept; past that the kept ones are dropped and built again."""

_myself_bodies: dict[tuple[str, str, str, str, str, frozenset[str]], bytes] = {}
"""Serialised ``myself`` answers by everything they show: the answer is a function of the
principal, which the authentication step already carries (no query), and building it is most
of the route's work. Keyed by the shown fields, so a changed user is a new key, never a stale
body."""


async def myself(request: Request) -> Response:
    principal: Principal = request.user
    base_url: str = request.app.state.base_url
    shown = (
        base_url,
        principal.username,
        principal.key,
        principal.display_name,
        principal.email,
        principal.groups,
    )
    content = _myself_bodies.get(shown)
    if content is None:
        body = user_json(
            base_url,
            name=principal.username,
            key=principal.key,
            display_name=principal.display_name,
            email=principal.email,
        )
        body["groups"] = groups_json(principal.groups)
        body["locale"] = "en_US"
        content = dump_json(body)
        if len(_myself_bodies) >= _MYSELF_KEPT:
            _myself_bodies.clear()
        _myself_bodies[shown] = content
    return SerialisedJSONResponse(content)


routes = [
    Route("/serverInfo", server_info, methods=["GET"]),
    Route("/myself", myself, methods=["GET"]),
]
