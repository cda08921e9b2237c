"""Audit log page: filter by user, decision, kind and time; paged, newest first; CSV export.

The filters are those of ``GET /rest/jiraguard/1/audit`` (the same parser); the page refreshes
its table by itself while "auto-refresh" is on (static/admin.js).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from jiraguard.admin.audit import audit_filter
from jiraguard.admin.common import services
from jiraguard.admin.ui.render import PageError, page, secure_headers
from jiraguard.admin.ui.session import AdminUser, admin_page
from jiraguard.errors import JiraError
from jiraguard.store.audit import KINDS, AuditFilter, AuditLog, event_json

PAGE_SIZE = 50
CSV_MAX_ROWS = 100_000
_COLUMNS = (
    "at", "kind", "allowed", "status", "reason", "method", "path", "clientIp", "username",
    "provider", "authMethod", "clientId", "tokenId", "fingerprint", "count", "lastAt",
)  # fmt: skip
_FILTERS = ("user", "decision", "kind", "from", "to")


def _filter(request: Request) -> AuditFilter:
    try:
        return audit_filter(request)
    except JiraError as exc:
        raise PageError(400, exc.message) from exc


def _start(request: Request) -> int:
    text = request.query_params.get("startAt", "0").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return 0
    return int(text)


@admin_page
async def audit_page(request: Request, admin: AdminUser) -> Response:
    where = _filter(request)
    start = _start(request)
    total, events = await AuditLog(services(request).db).search(
        where, start_at=start, max_results=PAGE_SIZE
    )
    chosen = {k: request.query_params.get(k, "") for k in _FILTERS}
    query = {k: v for k, v in chosen.items() if v}

    def link(start_at: int) -> str:
        return "?" + urlencode({**query, "startAt": start_at})

    template = "audit_rows.html" if request.query_params.get("rows") == "1" else "audit.html"
    return page(
        request,
        template,
        {
            "events": [event_json(e) for e in events],
            "total": total,
            "start": start,
            "end": start + len(events),
            "previous": link(max(0, start - PAGE_SIZE)) if start > 0 else None,
            "next": link(start + PAGE_SIZE) if start + PAGE_SIZE < total else None,
            "filters": chosen,
            "kinds": KINDS,
            "csv": "audit.csv?" + urlencode(query),
            "rows_url": "?" + urlencode({**query, "startAt": start, "rows": 1}),
        },
    )


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula is quoted (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@admin_page
async def audit_csv(request: Request, admin: AdminUser) -> Response:
    where = _filter(request)
    log = AuditLog(services(request).db)

    async def chunks() -> AsyncIterator[str]:
        # One chunk per batch of rows read: a synchronous iterator would cost one thread
        # hop per row (8-29 s for 10-20k rows), and reading everything first holds it all.
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(_COLUMNS)
        async for batch in log.batches(where, limit=CSV_MAX_ROWS):
            for event in batch:
                data = event_json(event)
                writer.writerow([_cell(data[c]) for c in _COLUMNS])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if buffer.tell():
            yield buffer.getvalue()

    response = StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="jiraguard-audit.csv"'},
    )
    return secure_headers(response)
