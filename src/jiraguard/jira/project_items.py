"""What a project's versions and components share: who may change them, the project a
create names, and their names and descriptions as a request gives them."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from jiraguard.errors import forbidden, not_found
from jiraguard.jira.context import is_admin
from jiraguard.jira.views import component_ref_json, version_ref_json
from jiraguard.store.components import project_components
from jiraguard.store.models import Project
from jiraguard.store.projects import find_project
from jiraguard.store.versions import project_versions

MAX_NAME = 255
NO_PERMISSION = "You must have global or project administrator rights in order to modify {what}."


def require_project_admin(request: Request, what: str) -> None:
    """403 unless the caller administers projects: a Jira administrator, or a member of the
    ``Administrators`` project role (the ``jira-administrators`` group, ``catalog``)."""
    if not is_admin(request):
        raise forbidden(NO_PERMISSION.format(what=what))


async def project_of(session: AsyncSession, key: str) -> Project:
    """The project named in a ``/project/{key}/…`` path, or 404 as ``/project/{key}`` does."""
    project = await find_project(session, key)
    if project is None:
        raise not_found(f"No project could be found with key '{key}'.")
    return project


async def body_project(
    session: AsyncSession, body: dict[str, Any], errors: dict[str, str], what: str
) -> Project | None:
    """The project a create names: ``project`` (a key, or an id) or ``projectId``."""
    value = body.get("project", body.get("projectId"))
    if isinstance(value, dict):  # {"key": …} or {"id": …}, as issues name projects
        value = value.get("key", value.get("id"))
    if value is None:
        errors["project"] = f"Project must be specified to create a {what}."
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors["project"] = "The project must be given by its key or its id."
        return None
    project = await find_project(session, str(value).strip())
    if project is None:
        errors["project"] = f"Project with key '{value}' either does not exist or you do not "
        errors["project"] += f"have permission to create {what}s in it."
    return project


def text_member(body: dict[str, Any], name: str, errors: dict[str, str]) -> str | None:
    """``body[name]`` when it is a string; absent → None; any other type → an error."""
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        errors[name] = f"'{name}' must be a string."
        return None
    return value


def flag_member(body: dict[str, Any], name: str, errors: dict[str, str]) -> bool | None:
    """``body[name]`` as a boolean (``true`` or ``"true"``, as Jira's JSON mapper reads it)."""
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    errors[name] = f"'{name}' must be true or false."
    return None


def clean_name(
    value: str | None, errors: dict[str, str], message: str, key: str = "name"
) -> str | None:
    """A name, stripped: empty, or past 255 characters, is an error under ``key``."""
    if value is None:
        return None
    name = value.strip()
    if not name:
        errors[key] = message
        return None
    if len(name) > MAX_NAME:
        errors[key] = f"The name must not be longer than {MAX_NAME} characters."
        return None
    return name


def item_id(value: str | None, kind: str) -> str | None:
    """The id in a ``move…To`` parameter: the id itself, or the item's ``self`` URL."""
    if value is None:
        return None
    marker = f"/{kind}/"
    return value.rsplit(marker, 1)[1].rstrip("/") if marker in value else value.strip()


async def allowed_items(
    session: AsyncSession, base: str, project_id: int
) -> dict[str, list[dict[str, Any]]]:
    """The ``allowedValues`` of createmeta and editmeta: the project's versions (unarchived,
    as Jira offers them) and components."""
    versions = [
        version_ref_json(base, v)
        for v in await project_versions(session, project_id)
        if not v.archived
    ]
    components = [
        component_ref_json(base, c) for c in await project_components(session, project_id)
    ]
    return {"fixVersions": versions, "versions": list(versions), "components": components}
