"""The fixed vocabularies: fields, issue types, priorities, statuses, status categories,
resolutions, issue link types, and the create metadata of a project (docs/jira-compat.md §3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import not_found
from jiraguard.jira import catalog, workflow
from jiraguard.jira.context import base_url, database, field_definitions
from jiraguard.jira.custom_fields import field_json, screen_json
from jiraguard.jira.fields import CREATE_SCREEN, FIELDS, screen_field_json
from jiraguard.jira.params import query_int
from jiraguard.jira.project_items import allowed_items
from jiraguard.jira.views import (
    API,
    issuetype_json,
    link_type_json,
    priority_json,
    resolution_json,
    status_category_json,
    status_json,
)
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.projects import find_project

T = TypeVar("T")


async def fields(request: Request) -> Response:
    """GET /field: every system field, then every custom field, with their ``clauseNames``."""
    custom = await field_definitions(request)
    return JiraJSONResponse([f.json() for f in FIELDS] + [field_json(f) for f in custom])


def _vocabulary(
    items: tuple[T, ...],
    render: Callable[[str, T], dict[str, Any]],
    ident: Callable[[T], int],
    label: str,
    name: Callable[[T], str] | None = None,
) -> tuple[Callable[[Request], Any], Callable[[Request], Any]]:
    """A list endpoint and a get-by-id endpoint for one catalog; with ``name``, the entry
    is also found by that (case-insensitive), as ``/status/{idOrName}`` is."""

    async def listing(request: Request) -> Response:
        """The whole catalog as a JSON array."""
        base = base_url(request)
        return JiraJSONResponse([render(base, item) for item in items])

    async def single(request: Request) -> Response:
        """One catalog entry by id, or 404."""
        wanted = request.path_params["id"]
        found = next((i for i in items if str(ident(i)) == wanted), None)
        if found is None and name is not None:
            found = next((i for i in items if name(i).casefold() == wanted.casefold()), None)
        if found is None:
            raise not_found(f"The {label} with id '{wanted}' does not exist")
        return JiraJSONResponse(render(base_url(request), found))

    return listing, single


issuetypes, issuetype = _vocabulary(
    catalog.ISSUE_TYPES, issuetype_json, lambda i: i.id, "issue type"
)
priorities, priority = _vocabulary(catalog.PRIORITIES, priority_json, lambda i: i.id, "priority")
statuses, status = _vocabulary(
    catalog.STATUSES, status_json, lambda i: i.id, "status", lambda i: i.name
)
categories, category = _vocabulary(
    catalog.STATUS_CATEGORIES,
    status_category_json,
    lambda i: i.id,
    "status category",
    lambda i: i.key,
)
resolutions, resolution = _vocabulary(
    catalog.RESOLUTIONS, resolution_json, lambda i: i.id, "resolution"
)
_link_types, link_type = _vocabulary(
    catalog.LINK_TYPES, link_type_json, lambda i: i.id, "issue link type"
)


async def link_types(request: Request) -> Response:
    """GET /issueLinkType: ``{issueLinkTypes: [...]}``."""
    base = base_url(request)
    return JiraJSONResponse(
        {"issueLinkTypes": [link_type_json(base, t) for t in catalog.LINK_TYPES]}
    )


def _page(request: Request, values: list[dict[str, Any]]) -> dict[str, Any]:
    start_at = query_int(request, "startAt", 0)
    max_results = min(query_int(request, "maxResults", 50, minimum=1), 1000)
    page = values[start_at : start_at + max_results]
    return {
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(values),
        "isLast": start_at + len(page) >= len(values),
        "values": page,
    }


async def _require_project(request: Request) -> None:
    async with database(request).session() as session:
        if await find_project(session, request.path_params["project"]) is None:
            raise not_found(
                f"No project could be found with key '{request.path_params['project']}'."
            )


async def createmeta_issuetypes(request: Request) -> Response:
    """``/issue/createmeta/{p}/issuetypes``: the project's issue types, paged."""
    await _require_project(request)
    base = base_url(request)
    return JiraJSONResponse(_page(request, [issuetype_json(base, t) for t in catalog.ISSUE_TYPES]))


async def createmeta_fields(request: Request) -> Response:
    """``/issue/createmeta/{p}/issuetypes/{id}``: the fields of a create screen, paged."""
    await _require_project(request)
    wanted = request.path_params["type"]
    if not any(str(t.id) == wanted for t in catalog.ISSUE_TYPES):
        raise not_found(f"The issue type with id '{wanted}' does not exist")
    base = base_url(request)
    custom = await field_definitions(request)
    async with database(request).session() as session:
        project = await find_project(session, request.path_params["project"])
        allowed = await allowed_items(session, base, project.id) if project is not None else {}
    fields = [screen_field_json(base, f, creating=True, allowed=allowed) for f in CREATE_SCREEN]
    fields += [screen_json(base, record) for record in custom]
    return JiraJSONResponse(_page(request, fields))


async def project_statuses(request: Request) -> Response:
    """GET /project/{key}/statuses: per issue type (``id``, ``name``, ``self``, ``subtask``),
    the statuses of its workflow; every type uses the one workflow (``jira/workflow.py``)."""
    await _require_project(request)
    base = base_url(request)
    used = [status_json(base, s) for s in workflow.STATUSES]
    return JiraJSONResponse(
        [
            {
                "self": f"{base}{API}/issuetype/{t.id}",
                "id": str(t.id),
                "name": t.name,
                "subtask": t.subtask,
                "statuses": [dict(s) for s in used],
            }
            for t in catalog.ISSUE_TYPES
        ]
    )


routes = [
    Route("/field", fields, methods=["GET"]),
    Route("/issuetype", issuetypes, methods=["GET"]),
    Route("/issuetype/{id}", issuetype, methods=["GET"]),
    Route("/priority", priorities, methods=["GET"]),
    Route("/priority/{id}", priority, methods=["GET"]),
    Route("/status", statuses, methods=["GET"]),
    Route("/status/{id}", status, methods=["GET"]),
    Route("/statuscategory", categories, methods=["GET"]),
    Route("/statuscategory/{id}", category, methods=["GET"]),
    Route("/resolution", resolutions, methods=["GET"]),
    Route("/resolution/{id}", resolution, methods=["GET"]),
    Route("/issueLinkType", link_types, methods=["GET"]),
    Route("/issueLinkType/{id}", link_type, methods=["GET"]),
    Route("/project/{project}/statuses", project_statuses, methods=["GET"]),
    Route("/issue/createmeta/{project}/issuetypes", createmeta_issuetypes, methods=["GET"]),
    Route("/issue/createmeta/{project}/issuetypes/{type}", createmeta_fields, methods=["GET"]),
]
