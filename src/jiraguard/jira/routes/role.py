"""Project roles: ``/role[/{id}]``, ``/project/{key}/role[/{id}]`` (docs/jira-compat.md §5.4).

The roles are Jira Server's defaults (``catalog.PROJECT_ROLES``), the same in every
project: each has one actor, its group (``Administrators`` is ``jira-administrators``, and
so on). That is what comment visibility and project administration already go by, so a
role's members are changed through its group (``POST /group/user``); adding or removing
actors of a role is refused with 400 rather than kept somewhere nothing reads.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import JiraError, bad_request, forbidden, not_found
from jiraguard.jira import catalog
from jiraguard.jira.catalog import ProjectRole
from jiraguard.jira.context import base_url, database, is_admin
from jiraguard.jira.project_items import project_of
from jiraguard.jira.views import API
from jiraguard.responses import JiraJSONResponse

GROUP_ACTOR = "atlassian-group-role-actor"
FIXED = (
    "The members of the project role '{role}' are the members of the group '{group}', in "
    "every project: add or remove users in that group instead (POST or DELETE /group/user)."
)
NO_ROLE = "Can not retrieve a role actor for a null project role."
ADMINS_ONLY = "You cannot edit the configuration of this project."


def _actors(base: str, role: ProjectRole) -> list[dict[str, Any]]:
    """The role's actors: its groups (ids are stable per role and group)."""
    return [
        {
            "id": role.id * 10 + index,
            "displayName": group,
            "type": GROUP_ACTOR,
            "name": group,
            "avatarUrl": f"{base}/secure/useravatar?size=xsmall&avatarId=10123",
        }
        for index, group in enumerate(role.groups)
    ]


def role_json(base: str, role: ProjectRole, self_url: str) -> dict[str, Any]:
    """A role with its actors, as ``/role/{id}`` and ``/project/{k}/role/{id}`` show it."""
    return {
        "self": self_url,
        "name": role.name,
        "id": role.id,
        "description": role.description,
        "actors": _actors(base, role),
    }


def _role(ident: str) -> ProjectRole:
    found = next((r for r in catalog.PROJECT_ROLES if str(r.id) == ident), None)
    if found is None:
        raise not_found(NO_ROLE)
    return found


async def all_roles(request: Request) -> Response:
    """GET /role: every role, with its actors."""
    base = base_url(request)
    return JiraJSONResponse(
        [role_json(base, r, f"{base}{API}/role/{r.id}") for r in catalog.PROJECT_ROLES]
    )


async def one_role(request: Request) -> Response:
    """GET /role/{id}."""
    base, role = base_url(request), _role(request.path_params["id"])
    return JiraJSONResponse(role_json(base, role, f"{base}{API}/role/{role.id}"))


async def _project_key(request: Request) -> str:
    async with database(request).session() as session:
        return (await project_of(session, request.path_params["project"])).key


async def project_roles(request: Request) -> Response:
    """GET /project/{key}/role: ``{name: self URL}``; ``jira`` reads the id off the URL."""
    key, base = await _project_key(request), base_url(request)
    return JiraJSONResponse(
        {r.name: f"{base}{API}/project/{quote(key)}/role/{r.id}" for r in catalog.PROJECT_ROLES}
    )


async def project_role(request: Request) -> Response:
    """GET /project/{key}/role/{id}: the role with its actors."""
    key, base = await _project_key(request), base_url(request)
    role = _role(request.path_params["id"])
    return JiraJSONResponse(
        role_json(base, role, f"{base}{API}/project/{quote(key)}/role/{role.id}")
    )


def _refusal(role: ProjectRole) -> JiraError:
    return bad_request(FIXED.format(role=role.name, group=", ".join(role.groups)))


async def change_actors(request: Request) -> Response:
    """POST/PUT/DELETE /project/{key}/role/{id}: refused (403 for non-administrators, as
    Jira; 400 for administrators, see the module's docstring)."""
    await _project_key(request)
    role = _role(request.path_params["id"])
    if not is_admin(request):
        raise forbidden(ADMINS_ONLY)
    raise _refusal(role)


routes = [
    Route("/role", all_roles, methods=["GET"]),
    Route("/role/{id}", one_role, methods=["GET"]),
    Route("/project/{project}/role", project_roles, methods=["GET"]),
    Route("/project/{project}/role/{id}", project_role, methods=["GET"]),
    Route("/project/{project}/role/{id}", change_actors, methods=["POST", "PUT", "DELETE"]),
]
