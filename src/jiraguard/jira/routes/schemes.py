"""Schemes and project categories, as far as creating a project needs them:
``/permissionscheme``, ``/notificationscheme``, ``/issuesecurityschemes`` (each also
``/{id}``) and ``/projectCategory``.

``jira``'s ``create_project(key, name)`` looks up a permission scheme (by the name
"Default Permission Scheme", else the first), an issue security scheme ("Default", else the
first) and a project category ("Default", else none), then posts their ids with
``notificationScheme: 10000`` [src client.py:5151-5320]. One scheme of each kind exists
(``catalog``); what a user may do is decided by jiraguard's access rules, so the schemes
grant nothing and hold no permissions, events or security levels. No project categories
exist: the list is empty, and ``POST /project`` refuses a ``categoryId``.

As in Jira, permission and issue security schemes are shown to administrators only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import not_found
from jiraguard.jira import catalog
from jiraguard.jira.catalog import Scheme
from jiraguard.jira.context import base_url, require_admin
from jiraguard.jira.views import API
from jiraguard.responses import JiraJSONResponse

Endpoint = Callable[[Request], Any]


def _scheme_json(base: str, scheme: Scheme, path: str, expand: str, members: str) -> dict[str, Any]:
    """A permission or notification scheme; ``members`` (its permissions or events) empty."""
    return {
        "expand": expand,
        "id": scheme.id,
        "self": f"{base}{API}/{path}/{scheme.id}",
        "name": scheme.name,
        "description": scheme.description,
        members: [],
    }


def _permission_scheme(base: str, scheme: Scheme) -> dict[str, Any]:
    expand = "permissions,user,group,projectRole,field,all"
    return _scheme_json(base, scheme, "permissionscheme", expand, "permissions")


def _notification_scheme(base: str, scheme: Scheme) -> dict[str, Any]:
    expand = "notificationSchemeEvents,user,group,projectRole,field,all"
    return _scheme_json(base, scheme, "notificationscheme", expand, "notificationSchemeEvents")


def _security_scheme(base: str, scheme: Scheme) -> dict[str, Any]:
    return {
        "self": f"{base}{API}/issuesecurityschemes/{scheme.id}",
        "id": scheme.id,
        "name": scheme.name,
        "description": scheme.description,
        "levels": [],
    }


def _scheme_routes(
    path: str,
    schemes: tuple[Scheme, ...],
    render: Callable[[str, Scheme], dict[str, Any]],
    envelope: Callable[[list[dict[str, Any]]], dict[str, Any]],
    *,
    admins_only: bool,
) -> list[Route]:
    """A list endpoint (in Jira's envelope for that kind) and a get-by-id endpoint."""

    def allowed(request: Request) -> None:
        if admins_only:
            require_admin(request)

    async def listing(request: Request) -> Response:
        allowed(request)
        base = base_url(request)
        return JiraJSONResponse(envelope([render(base, s) for s in schemes]))

    async def single(request: Request) -> Response:
        allowed(request)
        wanted = request.path_params["id"]
        found = next((s for s in schemes if str(s.id) == wanted), None)
        if found is None:
            raise not_found(f"No scheme with id '{wanted}' exists.")
        return JiraJSONResponse(render(base_url(request), found))

    return [
        Route(path, listing, methods=["GET"]),
        Route(f"{path}/{{id}}", single, methods=["GET"]),
    ]


def _paged(values: list[dict[str, Any]]) -> dict[str, Any]:
    total = len(values)
    return {"maxResults": 50, "startAt": 0, "total": total, "isLast": True, "values": values}


async def project_categories(request: Request) -> Response:
    """GET /projectCategory: a JSON array, empty (no categories exist)."""
    return JiraJSONResponse([])


async def project_category(request: Request) -> Response:
    """GET /projectCategory/{id}: 404, there are none."""
    wanted = request.path_params["id"]
    raise not_found(f"No project category with id '{wanted}' exists.")


routes = [
    *_scheme_routes(
        "/permissionscheme",
        catalog.PERMISSION_SCHEMES,
        _permission_scheme,
        lambda items: {"permissionSchemes": items},
        admins_only=True,
    ),
    *_scheme_routes(
        "/issuesecurityschemes",
        catalog.ISSUE_SECURITY_SCHEMES,
        _security_scheme,
        lambda items: {"issueSecuritySchemes": items},
        admins_only=True,
    ),
    *_scheme_routes(
        "/notificationscheme",
        catalog.NOTIFICATION_SCHEMES,
        _notification_scheme,
        _paged,
        admins_only=False,
    ),
    Route("/projectCategory", project_categories, methods=["GET"]),
    Route("/projectCategory/{id}", project_category, methods=["GET"]),
]
