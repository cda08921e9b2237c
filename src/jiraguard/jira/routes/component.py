"""``/component``: a project's components: create, read, update, delete, and
``/project/{key}/components``. Changes are for project administrators (``project_items``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import JiraError, field_errors, not_found
from jiraguard.jira.context import base_url, database
from jiraguard.jira.params import query_str, read_json
from jiraguard.jira.project_items import (
    body_project,
    clean_name,
    item_id,
    project_of,
    require_project_admin,
    text_member,
)
from jiraguard.jira.views import component_json
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.components import (
    component_name_taken,
    delete_component,
    find_component,
    project_components,
)
from jiraguard.store.directory import user_by_name
from jiraguard.store.models import Component

WHAT = "components"
ASSIGNEE_TYPES = ("PROJECT_DEFAULT", "COMPONENT_LEAD", "PROJECT_LEAD", "UNASSIGNED")
NAME_REQUIRED = "The component name specified is invalid - cannot be an empty string."


def _missing(ident: str) -> JiraError:
    return not_found(f"The component with id {ident} does not exist.")


def _taken(name: str) -> str:
    return f"A component with the name {name} already exists in this project."


async def _apply(
    session: AsyncSession, component: Component, body: dict[str, Any], errors: dict[str, str]
) -> None:
    """Set the members ``body`` gives (Jira's names) on ``component``."""
    name = clean_name(text_member(body, "name", errors), errors, NAME_REQUIRED)
    if name is not None:
        taken = await component_name_taken(
            session, component.project_id, name, other_than=component.id
        )
        if taken:
            errors["name"] = _taken(name)
        else:
            component.name, component.lower_name = name, name.lower()
    description = text_member(body, "description", errors)
    if description is not None:
        component.description = description
    lead = body.get("leadUserName")
    if lead is None and isinstance(body.get("lead"), dict):
        lead = body["lead"].get("name")
    if lead is not None:
        if not isinstance(lead, str):
            errors["leadUserName"] = "'leadUserName' must be a string."
        elif not lead.strip():
            component.lead = None
        else:
            user = await user_by_name(session, lead.strip())
            if user is None or not user.active:
                errors["leadUserName"] = f"The user {lead} does not exist."
            else:
                component.lead = user
    kind = text_member(body, "assigneeType", errors)
    if kind is not None:
        if kind not in ASSIGNEE_TYPES:
            errors["assigneeType"] = f"Invalid assignee type '{kind}'."
        else:
            component.assignee_type = kind


async def _answer(request: Request, component_id: int, status: int = 200) -> Response:
    async with database(request).session() as session:
        component = await find_component(session, str(component_id))
        if component is None:
            raise _missing(str(component_id))
        return JiraJSONResponse(component_json(base_url(request), component), status_code=status)


async def create(request: Request) -> Response:
    """POST /component → 201 with the component; ``project`` is the project's key."""
    body = await read_json(request)
    require_project_admin(request, WHAT)
    name = body.get("name")
    try:
        async with database(request).transaction() as session:
            errors: dict[str, str] = {}
            project = await body_project(session, body, errors, "component")
            if name is None:
                errors["name"] = NAME_REQUIRED
            if project is None:
                raise field_errors(errors)
            component = Component(project_id=project.id, name="", lower_name="", description="")
            component.assignee_type = "PROJECT_DEFAULT"
            component.project = project
            await _apply(session, component, body, errors)
            if errors:
                raise field_errors(errors)
            session.add(component)
            await session.flush()
            component_id = component.id
    except IntegrityError as exc:  # a concurrent create took the name
        raise field_errors({"name": _taken(str(name))}) from exc
    return await _answer(request, component_id, 201)


async def get(request: Request) -> Response:
    """GET /component/{id}."""
    ident = request.path_params["id"]
    async with database(request).session() as session:
        component = await find_component(session, ident)
        if component is None:
            raise _missing(ident)
        return JiraJSONResponse(component_json(base_url(request), component))


async def update(request: Request) -> Response:
    """PUT /component/{id} → 200 with the component as it now is."""
    ident = request.path_params["id"]
    body = await read_json(request)
    require_project_admin(request, WHAT)
    try:
        async with database(request).transaction() as session:
            component = await find_component(session, ident)
            if component is None:
                raise _missing(ident)
            errors: dict[str, str] = {}
            await _apply(session, component, body, errors)
            if errors:
                raise field_errors(errors)
            component_id = component.id
    except IntegrityError as exc:
        raise field_errors({"name": _taken(str(body.get("name")))}) from exc
    return await _answer(request, component_id)


async def remove(request: Request) -> Response:
    """DELETE /component/{id}[?moveIssuesTo=…] → 204."""
    ident = request.path_params["id"]
    require_project_admin(request, WHAT)
    async with database(request).transaction() as session:
        component = await find_component(session, ident)
        if component is None:
            raise _missing(ident)
        move = item_id(query_str(request, "moveIssuesTo"), "component")
        target = None
        if move is not None:
            found = await find_component(session, move)
            if found is None or found.project_id != component.project_id:
                raise field_errors(
                    {"moveIssuesTo": f"The component with id {move} does not exist."}
                )
            target = found.id
        await delete_component(session, component.id, move_to=target)
    return Response(status_code=204)


async def of_project(request: Request) -> Response:
    """GET /project/{key}/components: a JSON array, by name."""
    async with database(request).session() as session:
        project = await project_of(session, request.path_params["project"])
        base = base_url(request)
        components = await project_components(session, project.id)
        return JiraJSONResponse([component_json(base, c) for c in components])


routes = [
    Route("/component", create, methods=["POST"]),
    Route("/component/{id}", get, methods=["GET"]),
    Route("/component/{id}", update, methods=["PUT"]),
    Route("/component/{id}", remove, methods=["DELETE"]),
    Route("/project/{project}/components", of_project, methods=["GET"]),
]
