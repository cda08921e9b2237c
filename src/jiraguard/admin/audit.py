"""``GET /rest/jiraguard/1/audit``: the audit log, for Jira administrators only.

Filters: ``user`` (exact user name), ``decision`` (``allowed`` or ``denied``), ``from`` and
``to`` (inclusive; ISO 8601 or epoch milliseconds), ``kind`` (``auth``, ``token``,
``config``, ``user``); paged with ``startAt`` and ``maxResults`` (default 50, at most 1000). Newest
first, in Jira's paging envelope ``{"startAt", "maxResults", "total", "values"}``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.admin.common import require_admin, services
from jiraguard.errors import JiraError
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.audit import KINDS, AuditFilter, AuditLog, event_json

DEFAULT_PAGE = 50
MAX_PAGE = 1000
_MAX_OFFSET = 2**31 - 1


def parse_moment(value: str) -> datetime:
    """ISO 8601 (``2026-11-28T12:00:00Z``; no offset means UTC) or epoch milliseconds."""
    text = value.strip()
    if text.isascii() and text.isdigit() and len(text) <= 15:
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    moment = datetime.fromisoformat(text)  # ValueError for anything else
    # OverflowError for an offset that leaves datetime's range (year 1 at +01:00).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _moment(request: Request, name: str) -> datetime | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return parse_moment(value)
    except (ValueError, OverflowError, OSError) as exc:
        raise JiraError(
            400, [f"'{name}' must be an ISO 8601 date-time or epoch milliseconds."]
        ) from exc


def _number(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    if not value:
        return default
    text = value.strip()
    if not (text.isascii() and text.isdigit()):
        raise JiraError(400, [f"'{name}' must be a non-negative whole number."])
    return _MAX_OFFSET if len(text) > 10 else min(int(text), _MAX_OFFSET)


def audit_filter(request: Request) -> AuditFilter:
    """The filter a request asks for; JiraError(400) for a bad parameter."""
    params = request.query_params
    decision = params.get("decision") or None
    if decision not in (None, "allowed", "denied"):
        raise JiraError(400, ["'decision' must be 'allowed' or 'denied'."])
    kind = params.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise JiraError(400, [f"'kind' must be one of {', '.join(KINDS)}."])
    since, until = _moment(request, "from"), _moment(request, "to")
    if since is not None and until is not None and since > until:
        raise JiraError(400, ["'from' is after 'to'."])
    return AuditFilter(
        username=params.get("user") or None,
        allowed=None if decision is None else decision == "allowed",
        since=since,
        until=until,
        kind=kind,
    )


async def audit_events(request: Request) -> Response:
    """GET /audit → a page of events, newest first."""
    require_admin(request)
    where = audit_filter(request)
    start_at = _number(request, "startAt", 0)
    max_results = min(_number(request, "maxResults", DEFAULT_PAGE), MAX_PAGE)
    total, events = await AuditLog(services(request).db).search(
        where, start_at=start_at, max_results=max_results
    )
    return JiraJSONResponse(
        {
            "startAt": start_at,
            "maxResults": max_results,
            "total": total,
            "values": [event_json(e) for e in events],
        }
    )


routes = [Route("/audit", audit_events, methods=["GET"])]
