"""``/version``: a project's versions (releases): create, read, update, delete, move, the
counts of their issues, and ``/project/{key}/versions``. Changes are for project
administrators (``project_items``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
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
    flag_member,
    item_id,
    project_of,
    require_project_admin,
    text_member,
)
from jiraguard.jira.views import API, MONTHS, version_json
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.models import Version
from jiraguard.store.versions import (
    delete_version,
    find_version,
    next_version_sequence,
    place_version,
    project_versions,
    version_issue_counts,
    version_name_taken,
)

WHAT = "versions"
NAME_REQUIRED = "You must specify a valid version name"
NAME_TAKEN = "A version with this name already exists in this project."
DATE_RULE = 'Invalid date format. Please enter the date in the format "d/MMM/yy".'
POSITIONS = ("First", "Last", "Earlier", "Later")
MOVE_RULE = "A version moves to a 'position' (First, Last, Earlier or Later) or 'after' a version."


def _today() -> date:
    return datetime.now(UTC).date()


def _missing(ident: str) -> JiraError:
    return not_found(f"Could not find version for id '{ident}'")


def _user_date(text: str) -> date:
    """``d/MMM/yy`` (``6/Jul/10``), Jira's default date picker format."""
    day, month, year = text.strip().split("/")
    if month.title() not in MONTHS or not (day.isdigit() and year.isdigit()):
        raise ValueError(text)
    number = int(year)
    return date(
        number + 2000 if number < 100 else number, MONTHS.index(month.title()) + 1, int(day)
    )


def _iso_date(text: str) -> date:
    """``yyyy-MM-dd``, or the date of a date-time some clients send (``…T15:22:00.000+10:00``)."""
    return date.fromisoformat(text[:10] if text[10:11] == "T" else text)


def _date(body: dict[str, Any], iso: str, user: str, errors: dict[str, str]) -> date | None:
    """``releaseDate``/``startDate`` (``yyyy-MM-dd``) or their ``user…`` forms (``d/MMM/yy``)."""
    for member, parse in ((iso, _iso_date), (user, _user_date)):
        value = body.get(member)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > 32:
            errors[iso] = DATE_RULE
            return None
        try:
            return parse(value.strip())
        except ValueError:
            errors[iso] = DATE_RULE
            return None
    return None


async def _apply(
    session: AsyncSession, version: Version, body: dict[str, Any], errors: dict[str, str]
) -> None:
    """Set the members ``body`` gives (Jira's names) on ``version``; problems in ``errors``."""
    name = clean_name(text_member(body, "name", errors), errors, NAME_REQUIRED)
    if name is not None:
        if await version_name_taken(session, version.project_id, name, other_than=version.id):
            errors["name"] = NAME_TAKEN
        else:
            version.name, version.lower_name = name, name.lower()
    description = text_member(body, "description", errors)
    if description is not None:
        version.description = description
    for member in ("archived", "released"):
        flag = flag_member(body, member, errors)
        if flag is not None:
            setattr(version, member, flag)
    start = _date(body, "startDate", "userStartDate", errors)
    release = _date(body, "releaseDate", "userReleaseDate", errors)
    version.start_date = start or version.start_date
    version.release_date = release or version.release_date
    if (
        version.start_date is not None
        and version.release_date is not None
        and version.start_date > version.release_date
    ):
        errors["startDate"] = "The start date must be before the release date."


async def _answer(request: Request, version_id: int, status: int = 200) -> Response:
    async with database(request).session() as session:
        version = await find_version(session, str(version_id))
        if version is None:
            raise _missing(str(version_id))
        body = version_json(base_url(request), version, today=_today())
        return JiraJSONResponse(body, status_code=status)


async def create(request: Request) -> Response:
    """POST /version → 201 with the version; ``project`` (key or id) or ``projectId``."""
    body = await read_json(request)
    require_project_admin(request, WHAT)
    try:
        async with database(request).transaction() as session:
            errors: dict[str, str] = {}
            project = await body_project(session, body, errors, "version")
            if body.get("name") is None:
                errors["name"] = NAME_REQUIRED
            if project is None:
                raise field_errors(errors)
            version = Version(project_id=project.id, name="", lower_name="", description="")
            version.archived = version.released = False
            version.sequence = await next_version_sequence(session, project.id)
            await _apply(session, version, body, errors)
            if errors:
                raise field_errors(errors)
            session.add(version)
            await session.flush()
            version_id = version.id
    except IntegrityError as exc:  # a concurrent create took the name
        raise field_errors({"name": NAME_TAKEN}) from exc
    return await _answer(request, version_id, 201)


async def get(request: Request) -> Response:
    """GET /version/{id}."""
    ident = request.path_params["id"]
    async with database(request).session() as session:
        version = await find_version(session, ident)
        if version is None:
            raise _missing(ident)
        return JiraJSONResponse(version_json(base_url(request), version, today=_today()))


async def update(request: Request) -> Response:
    """PUT /version/{id} → 200 with the version as it now is."""
    ident = request.path_params["id"]
    body = await read_json(request)
    require_project_admin(request, WHAT)
    try:
        async with database(request).transaction() as session:
            version = await find_version(session, ident)
            if version is None:
                raise _missing(ident)
            errors: dict[str, str] = {}
            await _apply(session, version, body, errors)
            if errors:
                raise field_errors(errors)
            version_id = version.id
    except IntegrityError as exc:
        raise field_errors({"name": NAME_TAKEN}) from exc
    return await _answer(request, version_id)


async def _target(
    session: AsyncSession, request: Request, name: str, project_id: int
) -> int | None:
    """The version a ``move…To`` parameter names: one of the same project, else 400."""
    ident = item_id(query_str(request, name), "version")
    if ident is None:
        return None
    target = await find_version(session, ident)
    if target is None or target.project_id != project_id:
        raise field_errors({name: f"The version with id '{ident}' does not exist in this project."})
    return target.id


async def remove(request: Request) -> Response:
    """DELETE /version/{id}[?moveFixIssuesTo=…&moveAffectedIssuesTo=…] → 204."""
    ident = request.path_params["id"]
    require_project_admin(request, WHAT)
    async with database(request).transaction() as session:
        version = await find_version(session, ident)
        if version is None:
            raise _missing(ident)
        fix = await _target(session, request, "moveFixIssuesTo", version.project_id)
        affected = await _target(session, request, "moveAffectedIssuesTo", version.project_id)
        await delete_version(session, version.id, move_fix_to=fix, move_affected_to=affected)
    return Response(status_code=204)


async def _new_index(
    session: AsyncSession, version: Version, body: dict[str, Any], errors: dict[str, str]
) -> int | None:
    """Where ``move`` puts the version in its project's list (0-based), or None on error."""
    order = [v.id for v in await project_versions(session, version.project_id)]
    here = order.index(version.id)
    position, after = body.get("position"), body.get("after")
    if (position is None) == (after is None):
        errors["position"] = MOVE_RULE
        return None
    if after is not None:
        ident = item_id(after, "version") if isinstance(after, str) else None
        target = await find_version(session, ident) if ident else None
        if target is None or target.project_id != version.project_id:
            errors["after"] = f"The version '{after}' does not exist in this project."
            return None
        there = order.index(target.id)
        return there + 1 if there < here else there  # its place once the version is taken out
    given = position.strip().lower() if isinstance(position, str) else None
    chosen = next((p for p in POSITIONS if p.lower() == given), None)
    if chosen is None:
        errors["position"] = MOVE_RULE
        return None
    moves = {"First": 0, "Last": len(order), "Earlier": here - 1, "Later": here + 1}
    return moves[chosen]


async def move(request: Request) -> Response:
    """POST /version/{id}/move: ``{"position": "First"|"Last"|"Earlier"|"Later"}`` or
    ``{"after": <a version's self URL or id>}`` → 200 with the version."""
    ident = request.path_params["id"]
    body = await read_json(request)
    require_project_admin(request, WHAT)
    async with database(request).transaction() as session:
        version = await find_version(session, ident)
        if version is None:
            raise _missing(ident)
        errors: dict[str, str] = {}
        index = await _new_index(session, version, body, errors)
        if index is None:
            raise field_errors(errors)
        await place_version(session, version, index)
        version_id = version.id
    return await _answer(request, version_id)


async def _counts(request: Request) -> tuple[str, tuple[int, int, int]]:
    """The path's version's ``self`` and its issue counts (fixed, affected, unresolved)."""
    ident = request.path_params["id"]
    async with database(request).session() as session:
        version = await find_version(session, ident)
        if version is None:
            raise _missing(ident)
        counts = await version_issue_counts(session, version.id)
    return f"{base_url(request)}{API}/version/{version.id}", counts


async def related_counts(request: Request) -> Response:
    """GET /version/{id}/relatedIssueCounts: the issues that name it, as Jira counts them."""
    url, (fixed, affected, _) = await _counts(request)
    return JiraJSONResponse(
        {
            "self": url,
            "issuesFixedCount": fixed,
            "issuesAffectedCount": affected,
            "issueCountWithCustomFieldsShowingVersion": 0,
        }
    )


async def unresolved_count(request: Request) -> Response:
    """GET /version/{id}/unresolvedIssueCount: its fix issues, and those still unresolved."""
    url, (fixed, _, unresolved) = await _counts(request)
    return JiraJSONResponse(
        {"self": url, "issuesCount": fixed, "issuesUnresolvedCount": unresolved}
    )


async def of_project(request: Request) -> Response:
    """GET /project/{key}/versions: a JSON array, in the project's order."""
    async with database(request).session() as session:
        project = await project_of(session, request.path_params["project"])
        base, today = base_url(request), _today()
        versions = await project_versions(session, project.id)
        return JiraJSONResponse([version_json(base, v, today=today) for v in versions])


routes = [
    Route("/version", create, methods=["POST"]),
    Route("/version/{id}", get, methods=["GET"]),
    Route("/version/{id}", update, methods=["PUT"]),
    Route("/version/{id}", remove, methods=["DELETE"]),
    Route("/version/{id}/move", move, methods=["POST"]),
    Route("/version/{id}/relatedIssueCounts", related_counts, methods=["GET"]),
    Route("/version/{id}/unresolvedIssueCount", unresolved_count, methods=["GET"]),
    Route("/project/{project}/versions", of_project, methods=["GET"]),
]
