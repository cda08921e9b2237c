"""``/project``: list, get by key or id, and (administrators only) create, update, delete."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import JiraError, field_errors, forbidden, not_found
from jiraguard.jira import catalog
from jiraguard.jira.context import acting_user, base_url, database, is_admin
from jiraguard.jira.params import query_list, read_json
from jiraguard.jira.views import API, project_json
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.directory import user_by_name
from jiraguard.store.models import Project, User
from jiraguard.store.projects import delete_project, find_project, list_projects, name_taken

PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{1,9}$")
KEY_RULE = (
    "Project keys must start with an uppercase letter, followed by one or more uppercase "
    "alphanumeric characters."
)
PROJECT_TYPES = ("software", "business", "service_desk")
ADMIN_ONLY = "You must have global administrator rights in order to modify projects."


def _expands(request: Request, name: str) -> bool:
    return any(e.lower() == name for e in query_list(request, "expand"))


def _project_json(request: Request, project: Project) -> dict[str, Any]:
    """A project with the expansions asked for: ``issueTypes``, ``projectKeys``."""
    body = project_json(base_url(request), project, issue_types=_expands(request, "issuetypes"))
    if _expands(request, "projectkeys"):
        body["projectKeys"] = [project.key]  # keys never change here, so only the one
    return body


def _missing(key: str) -> JiraError:
    return not_found(f"No project could be found with key '{key}'.")


async def list_all(request: Request) -> Response:
    """GET /project: a JSON array of every project (``expand=issueTypes`` works)."""
    async with database(request).session() as session:
        projects = await list_projects(session)
        return JiraJSONResponse([_project_json(request, p) for p in projects])


async def get(request: Request) -> Response:
    """GET /project/{idOrKey}[?expand=issueTypes]."""
    key = request.path_params["project"]
    async with database(request).session() as session:
        project = await find_project(session, key)
        if project is None:
            raise _missing(key)
        return JiraJSONResponse(_project_json(request, project))


async def _admin(session: AsyncSession, request: Request) -> User:
    user = await acting_user(session, request)
    if not is_admin(request):
        raise forbidden(ADMIN_ONLY)
    return user


def _text(body: dict[str, Any], name: str, errors: dict[str, str], field: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        errors[field] = f"'{name}' must be a string."
        return None
    return value


async def _apply(
    session: AsyncSession, project: Project, body: dict[str, Any], errors: dict[str, str]
) -> None:
    """Set name, description, type and lead from ``body`` (Jira's field names)."""
    name = _text(body, "name", errors, "projectName")
    if name is not None:
        if not name.strip() or len(name) > 80:
            errors["projectName"] = "You must specify a valid project name."
        elif await name_taken(session, name, other_than=project.id):
            errors["projectName"] = "A project with that name already exists."
        else:
            project.name = name.strip()
    description = _text(body, "description", errors, "description")
    if description is not None:
        project.description = description
    kind = _text(body, "projectTypeKey", errors, "projectType")
    if kind is not None:
        if kind not in PROJECT_TYPES:
            errors["projectType"] = f"Invalid project type '{kind}'."
        else:
            project.project_type_key = kind
    assignee_type = _text(body, "assigneeType", errors, "assigneeType")
    if assignee_type is not None:
        if assignee_type not in catalog.ASSIGNEE_TYPES:
            errors["assigneeType"] = f"Invalid assignee type '{assignee_type}'."
        else:
            project.assignee_type = assignee_type
    lead = _text(body, "lead", errors, "projectLead")
    if lead is not None:
        user = await user_by_name(session, lead)
        if user is None:
            errors["projectLead"] = "The project lead you specified does not exist."
        else:
            project.lead = user


SCHEMES = (
    ("permissionScheme", catalog.PERMISSION_SCHEMES, "permission scheme"),
    ("notificationScheme", catalog.NOTIFICATION_SCHEMES, "notification scheme"),
    ("issueSecurityScheme", catalog.ISSUE_SECURITY_SCHEMES, "issue security scheme"),
)


def _schemes(body: dict[str, Any], errors: dict[str, str]) -> None:
    """Scheme ids and ``categoryId`` in a create: each must name one that exists (one scheme
    of each kind does, no category does; ``jira/routes/schemes.py``)."""
    for member, schemes, label in SCHEMES:
        value = body.get(member)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | str):
            errors[member] = f"The {label} id must be a number."
        elif all(str(s.id) != str(value).strip() for s in schemes):
            errors[member] = f"The {label} with id '{value}' does not exist."
    category = body.get("categoryId")
    if category is not None:
        errors["projectCategory"] = f"The project category with id '{category}' does not exist."


async def create(request: Request) -> Response:
    """POST /project → 201 ``{self, id, key}``; administrators only.

    ``assigneeType`` (``PROJECT_LEAD``/``UNASSIGNED``, by default ``UNASSIGNED``) is kept;
    scheme ids are checked; ``projectTemplateKey``, ``url`` and ``avatarId`` are accepted
    and ignored.
    """
    body = await read_json(request)
    try:
        async with database(request).transaction() as session:
            admin = await _admin(session, request)
            errors: dict[str, str] = {}
            key = _text(body, "key", errors, "projectKey") or ""
            if not PROJECT_KEY.match(key):
                errors["projectKey"] = KEY_RULE
            elif await find_project(session, key) is not None:
                errors["projectKey"] = f"Project '{key}' uses this project key."
            if body.get("name") is None:
                errors["projectName"] = "You must specify a valid project name."
            _schemes(body, errors)
            project = Project(key=key, name="", description="", project_type_key="software")
            project.lead = admin
            await _apply(session, project, body, errors)
            if errors:
                raise field_errors(errors)
            session.add(project)
            await session.flush()
            project_id = project.id
    except IntegrityError as exc:  # a concurrent create took the key or the name
        raise field_errors({"projectKey": f"Project '{key}' uses this project key."}) from exc
    self_url = f"{base_url(request)}{API}/project/{project_id}"
    return JiraJSONResponse({"self": self_url, "id": project_id, "key": key}, status_code=201)


async def update(request: Request) -> Response:
    """PUT /project/{k}: name, description, lead, type; the key cannot change here."""
    key = request.path_params["project"]
    body = await read_json(request)
    try:
        async with database(request).transaction() as session:
            await _admin(session, request)
            project = await find_project(session, key)
            if project is None:
                raise _missing(key)
            errors: dict[str, str] = {}
            new_key = body.get("key")
            if new_key is not None and new_key != project.key:
                errors["projectKey"] = "Changing the project key is not supported."
            await _apply(session, project, body, errors)
            if errors:
                raise field_errors(errors)
            project_id = project.id
    except IntegrityError as exc:
        raise field_errors({"projectName": "A project with that name already exists."}) from exc
    async with database(request).session() as session:
        fresh = await find_project(session, str(project_id))
        assert fresh is not None
        return JiraJSONResponse(project_json(base_url(request), fresh))


async def remove(request: Request) -> Response:
    """DELETE /project/{k} → 204, with all its issues."""
    key = request.path_params["project"]
    async with database(request).transaction() as session:
        await _admin(session, request)
        project = await find_project(session, key)
        if project is None:
            raise _missing(key)
        await delete_project(session, project.id)
    return Response(status_code=204)


routes = [
    Route("/project", list_all, methods=["GET"]),
    Route("/project", create, methods=["POST"]),
    Route("/project/{project}", get, methods=["GET"]),
    Route("/project/{project}", update, methods=["PUT"]),
    Route("/project/{project}", remove, methods=["DELETE"]),
]
