"""``/issue/{k}/worklog``: list (paged), add, get, update and delete one (the author's or an
administrator's).

``timeSpent`` uses Jira's duration syntax (``"1h 30m"``) or ``timeSpentSeconds`` gives
seconds (number or numeric string, as ``jira`` sends it); ``started`` is a Jira date-time
(``2026-11-28T12:00:00.000+0000``) and defaults to now. Each change keeps the issue's time
spent and moves its remaining estimate as ``adjustEstimate`` asks (``estimates``), with
changelog items for both, as Jira records them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import field_errors, forbidden, not_found
from jiraguard.jira.context import acting_user, base_url, database, is_admin, issue_or_404
from jiraguard.jira.durations import parse_duration
from jiraguard.jira.estimates import Adjustment, adjusted, read_adjustment
from jiraguard.jira.params import query_int, query_str, read_json
from jiraguard.jira.timetracking import time_change
from jiraguard.jira.views import paged, worklog_json
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.ids import MAX_ID, is_digits
from jiraguard.store.issues import record_changes
from jiraguard.store.models import Issue, User, Worklog, utcnow
from jiraguard.store.worklogs import find_worklog, page_worklogs

MAX_PAGE = 5000
_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z")


def parse_started(value: str) -> datetime | None:
    """A Jira date-time (``…T12:00:00.000+0000``) or ISO 8601; naive values are UTC."""
    for layout in _FORMATS:
        try:
            return datetime.strptime(value, layout)
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _seconds(body: dict[str, Any], errors: dict[str, str]) -> int:
    """Seconds from ``timeSpentSeconds`` or ``timeSpent``; 0 after recording an error."""
    raw = body.get("timeSpentSeconds")
    if raw is not None:
        text = str(raw).strip() if not isinstance(raw, bool) else ""
        if is_digits(text) and 0 < int(text) <= MAX_ID:
            return int(text)
        errors["timeLogged"] = "Invalid time duration entered."
        return 0
    spent = body.get("timeSpent")
    if spent is None:
        errors["timeLogged"] = "You must indicate the time spent working."
        return 0
    seconds = parse_duration(spent) if isinstance(spent, str) else None
    if not seconds:
        errors["timeLogged"] = "Invalid time duration entered."
        return 0
    return seconds


async def list_worklogs(request: Request) -> Response:
    """GET …/worklog: ``{startAt, maxResults, total, worklogs}``."""
    start_at = query_int(request, "startAt", 0)
    asked = query_str(request, "maxResults") is not None
    max_results = min(query_int(request, "maxResults", MAX_PAGE), MAX_PAGE)
    async with database(request).session() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        total, worklogs = await page_worklogs(session, issue.id, start_at, max_results)
        items = [worklog_json(base_url(request), w) for w in worklogs]
    # Without maxResults, Jira echoes the number of worklogs returned (docs/jira-compat.md §5).
    shown = max_results if asked else len(items)
    return JiraJSONResponse(
        paged("worklogs", items, start_at=start_at, max_results=shown, total=total)
    )


@dataclass(frozen=True, slots=True)
class WorklogInput:
    """A checked worklog body; None members were not given (an update keeps them)."""

    seconds: int | None
    started: datetime | None
    comment: str | None


def _parse(body: dict[str, Any], *, partial: bool) -> WorklogInput:
    """Check a worklog body; 400 with every problem under its field."""
    errors: dict[str, str] = {}
    given = "timeSpentSeconds" in body or "timeSpent" in body
    seconds = _seconds(body, errors) if given or not partial else None
    started = None
    if body.get("started") is not None:
        started = parse_started(body["started"]) if isinstance(body["started"], str) else None
        if started is None:
            errors["started"] = (
                "Invalid date format. Please enter the date in the format "
                "yyyy-MM-dd'T'HH:mm:ss.SSSZ."
            )
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        errors["comment"] = "The comment must be a string."
    if errors:
        raise field_errors(errors)
    return WorklogInput(seconds, started, comment)


async def _render(request: Request, worklog_id: int, status_code: int) -> Response:
    async with database(request).session() as session:
        fresh = await session.get(Worklog, worklog_id)
        if fresh is None:  # deleted in between
            raise not_found(f"Cannot find worklog with id: '{worklog_id}'.")
        return JiraJSONResponse(worklog_json(base_url(request), fresh), status_code=status_code)


async def _log_time(
    session: AsyncSession, issue: Issue, me: User, adjustment: Adjustment, old: int, new: int
) -> None:
    """A worklog of ``old`` seconds is now ``new`` (0: none): the issue's time spent follows,
    its remaining estimate moves as ``adjustment`` says; both go in the changelog."""
    spent = (issue.time_spent or 0) - old + new
    time_spent = spent if spent > 0 else None
    remaining = adjusted(issue.remaining_estimate, adjustment, old, new)
    changes = [
        time_change("timespent", issue.time_spent, time_spent),
        time_change("timeestimate", issue.remaining_estimate, remaining),
    ]
    issue.time_spent, issue.remaining_estimate = time_spent, remaining
    await record_changes(session, issue, me.id, [c for c in changes if c is not None])


async def add(request: Request) -> Response:
    """POST → 201 with the worklog; ``adjustEstimate`` (default ``auto``) moves the issue's
    remaining estimate."""
    given = _parse(await read_json(request), partial=False)
    assert given.seconds is not None  # required unless partial
    adjustment = read_adjustment(request, "add")
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        issue = await issue_or_404(session, request.path_params["issue"])
        worklog = Worklog(
            issue_id=issue.id,
            author_id=me.id,
            update_author_id=me.id,
            comment=given.comment or "",
            started=given.started or utcnow(),
            time_spent_seconds=given.seconds,
        )
        session.add(worklog)
        await session.flush()
        await _log_time(session, issue, me, adjustment, 0, given.seconds)
        issue.updated_at = worklog.created_at
        worklog_id = worklog.id
    return await _render(request, worklog_id, 201)


async def _own_worklog(session: AsyncSession, request: Request, me: User) -> tuple[Issue, Worklog]:
    """The issue and the worklog in the path, if the caller wrote it or is an
    administrator (else 403)."""
    issue = await issue_or_404(session, request.path_params["issue"])
    wanted = request.path_params["worklog"]
    worklog = await find_worklog(session, issue.id, wanted)
    if worklog is None:
        raise not_found(f"Cannot find worklog with id: '{wanted}'.")
    if worklog.author_id != me.id and not is_admin(request):
        raise forbidden("You do not have the permission to change this worklog.")
    return issue, worklog


async def get(request: Request) -> Response:
    """GET …/worklog/{id}: one worklog of the issue."""
    async with database(request).session() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        wanted = request.path_params["worklog"]
        worklog = await find_worklog(session, issue.id, wanted)
        if worklog is None:
            raise not_found(f"Cannot find worklog with id: '{wanted}'.")
        return JiraJSONResponse(worklog_json(base_url(request), worklog))


async def update(request: Request) -> Response:
    """PUT …/worklog/{id} → 200 with the worklog; only the given members change;
    ``adjustEstimate`` as on add, without ``manual``."""
    given = _parse(await read_json(request), partial=True)
    adjustment = read_adjustment(request, "update")
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        issue, worklog = await _own_worklog(session, request, me)
        old = worklog.time_spent_seconds
        if given.seconds is not None:
            worklog.time_spent_seconds = given.seconds
        await _log_time(session, issue, me, adjustment, old, worklog.time_spent_seconds)
        if given.started is not None:
            worklog.started = given.started
        if given.comment is not None:
            worklog.comment = given.comment
        worklog.update_author_id = me.id
        worklog.updated_at = utcnow()
        worklog_id = worklog.id
    return await _render(request, worklog_id, 200)


async def remove(request: Request) -> Response:
    """DELETE …/worklog/{id} → 204; ``adjustEstimate`` (``manual`` with ``increaseBy``)."""
    adjustment = read_adjustment(request, "delete")
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        issue, worklog = await _own_worklog(session, request, me)
        await _log_time(session, issue, me, adjustment, worklog.time_spent_seconds, 0)
        await session.delete(worklog)
    return Response(status_code=204)


routes = [
    Route("/issue/{issue}/worklog", list_worklogs, methods=["GET"]),
    Route("/issue/{issue}/worklog", add, methods=["POST"]),
    Route("/issue/{issue}/worklog/{worklog}", get, methods=["GET"]),
    Route("/issue/{issue}/worklog/{worklog}", update, methods=["PUT"]),
    Route("/issue/{issue}/worklog/{worklog}", remove, methods=["DELETE"]),
]
