"""``/serverInfo`` and ``/myself``."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.auth.principal import Principal
from jiraguard.jira.views import jira_datetime, user_json
from jiraguard.responses import JiraJSONResponse

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


async def myself(request: Request) -> Response:
    principal: Principal = request.user
    body = user_json(
        request.app.state.base_url,
        name=principal.username,
        key=principal.key,
        display_name=principal.display_name,
        email=principal.email,
    )
    body["groups"] = {
        "size": len(principal.groups),
        "items": [{"name": g} for g in sorted(principal.groups)],
    }
    body["locale"] = "en_US"
    return JiraJSONResponse(body)


routes = [
    Route("/serverInfo", server_info, methods=["GET"]),
    Route("/myself", myself, methods=["GET"]),
]
