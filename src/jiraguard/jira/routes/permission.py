"""``/mypermissions``: what the caller may do, globally, in a project or on an issue
(docs/jira-compat.md §5.3), from jiraguard's own checks and the access rules."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import bad_request
from jiraguard.jira.context import database, is_admin, issue_record_or_404, principal
from jiraguard.jira.params import query_list, query_str
from jiraguard.jira.permissions import BY_KEY, PERMISSIONS, Place, holds, permission_json
from jiraguard.jira.project_items import project_of
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.projects import list_projects

MAX_PROJECTS = 1000
"""Projects looked at for a permission asked about without a project (Jira: held in any)."""


async def _places(session: AsyncSession, request: Request) -> list[Place]:
    """The issue or project named by the parameters, else every project (by key)."""
    issue = query_str(request, "issueId") or query_str(request, "issueKey")
    if issue is not None:
        record = await issue_record_or_404(session, issue)
        return [Place(record.key, record.project.key)]
    project = query_str(request, "projectId") or query_str(request, "projectKey")
    if project is not None:
        found = await project_of(session, project)
        return [Place(f"{found.key}-1", found.key)]
    return [Place(f"{p.key}-1", p.key) for p in (await list_projects(session))[:MAX_PROJECTS]]


def rest_prefix(request: Request, suffix: str) -> str:
    """The path the access rules see up to ``/rest/api/2`` (with any context path)."""
    path: str = request.scope["path"]
    return path[: len(path) - len(suffix)] if path.endswith(suffix) else "/rest/api/2"


async def my_permissions(request: Request) -> Response:
    """GET /mypermissions[?projectKey|projectId|issueKey|issueId][&permissions=A,B]."""
    wanted = query_list(request, "permissions")
    unknown = [k for k in wanted if k.upper() not in BY_KEY]
    if unknown:
        raise bad_request(f"Permission key '{unknown[0]}' is not valid.")
    async with database(request).session() as session:
        places = await _places(session, request)
    who, prefix = principal(request), rest_prefix(request, "/mypermissions")
    services = request.app.state.services
    address = services.client_address.of(request.scope)

    seen: dict[tuple[str, str], bool] = {}  # permissions share requests (EDIT, SCHEDULE…)

    def admits(method: str, path: str) -> bool:
        if (method, path) not in seen:
            seen[method, path] = services.policy.admits(who, method, prefix + path, address)
        return seen[method, path]

    admin = is_admin(request)
    keys = [k.upper() for k in wanted] or [p.key for p in PERMISSIONS]
    body = {}
    for key in dict.fromkeys(keys):
        permission = BY_KEY[key]
        have = holds(permission, admin=admin, admits=admits, places=places)
        body[key] = permission_json(permission, key, have)
    return JiraJSONResponse({"permissions": body})


routes = [Route("/mypermissions", my_permissions, methods=["GET"])]
