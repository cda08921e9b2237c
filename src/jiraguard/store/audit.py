"""The audit log in the database: batched inserts, filtered pages, retention.

Rows are plain mappings of :class:`~jiraguard.store.models.AuditEvent` columns. Text values
come from clients and tokens; here they become text every database holds (no NUL, lone
surrogates replaced, clipped to their column's length: :func:`jiraguard.untrusted.db_text`),
so one odd request path or claim can never make a batch fail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CursorResult,
    Result,
    delete,
    func,
    insert,
    select,
    text,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.db import Database
from jiraguard.store.models import AuditEvent
from jiraguard.untrusted import db_text

Kind = Literal["auth", "token", "config", "user"]
KINDS: tuple[Kind, ...] = ("auth", "token", "config", "user")

EXPORT_BATCH = 1000
"""Events read per query (and written per chunk) by an export."""

_LIMITS = {
    "kind": 16,
    "reason": 1024,
    "method": 16,
    "path": 2048,
    "client_ip": 64,
    "username": 255,
    "provider": 64,
    "auth_method": 32,
    "client_id": 255,
    "token_id": 64,
    "fingerprint": 16,
}


def _utc(moment: datetime) -> datetime:
    """Aware UTC; a naive value (SQLite keeps no offset) is UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def clean_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` ready to insert: text columns as :func:`~jiraguard.untrusted.db_text`, ``at``
    UTC."""
    out: dict[str, Any] = {column: None for column in _LIMITS}
    out.update({"kind": "auth", "reason": "", "method": "", "path": ""})
    for name, value in row.items():
        if name in _LIMITS and value is not None:
            value = db_text(value, _LIMITS[name])
        out[name] = value
    out["at"] = _utc(out["at"])
    if out.get("last_at") is not None:
        out["last_at"] = _utc(out["last_at"])
    return out


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which events to return; every field None means "any"."""

    username: str | None = None
    allowed: bool | None = None
    since: datetime | None = None
    """Inclusive lower bound on ``at``."""
    until: datetime | None = None
    """Inclusive upper bound on ``at``."""
    kind: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.username is not None:
            found.append(AuditEvent.username == self.username)
        if self.allowed is not None:
            found.append(AuditEvent.allowed.is_(self.allowed))
        if self.since is not None:
            found.append(AuditEvent.at >= _utc(self.since))
        if self.until is not None:
            found.append(AuditEvent.at <= _utc(self.until))
        if self.kind is not None:
            found.append(AuditEvent.kind == self.kind)
        return found


@dataclass(frozen=True, slots=True)
class MinuteCount:
    """Decisions of one kind in one minute: how many requests (rows' ``count`` summed)."""

    minute: int
    """Minutes since the Unix epoch (UTC) of the rows' ``at``."""
    allowed: bool
    status: int
    reason: str
    count: int


class AuditLog:
    """Queries on ``audit_events``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert_many(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """One executemany INSERT for a batch."""
        if not rows:
            return
        async with self.db.transaction() as session:
            await session.execute(insert(AuditEvent), [clean_row(r) for r in rows])

    async def search(
        self, where: AuditFilter, *, start_at: int, max_results: int
    ) -> tuple[int, Sequence[AuditEvent]]:
        """(total matching, one page of them newest first)."""
        conditions = where.conditions()
        async with self.db.session() as session:
            total = await session.scalar(
                select(func.count()).select_from(AuditEvent).where(*conditions)
            )
            page = await session.scalars(
                select(AuditEvent)
                .where(*conditions)
                .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                .offset(start_at)
                .limit(max_results)
            )
            return int(total or 0), page.all()

    async def per_minute(self, since: datetime, *, kind: str = "auth") -> list[MinuteCount]:
        """Events of ``kind`` since ``since`` counted per minute, decision, status and reason
        (one grouped query: at most minutes x distinct reasons rows come back)."""
        if self.db.engine.dialect.name == "sqlite":
            seconds: ColumnElement[Any] = sql_cast(func.strftime("%s", AuditEvent.at), BigInteger)
        else:
            seconds = sql_cast(func.floor(func.extract("epoch", AuditEvent.at)), BigInteger)
        minute = (seconds // 60).label("minute")
        query = (
            select(
                minute,
                AuditEvent.allowed,
                AuditEvent.status,
                AuditEvent.reason,
                func.sum(AuditEvent.count),
            )
            .where(AuditEvent.kind == kind, AuditEvent.at >= _utc(since))
            .group_by(text("minute"), AuditEvent.allowed, AuditEvent.status, AuditEvent.reason)
        )
        async with self.db.session() as session:
            rows = (await session.execute(query)).all()
        return [
            MinuteCount(int(m), bool(allowed), int(status), str(reason), int(total or 0))
            for m, allowed, status, reason, total in rows
        ]

    async def batches(
        self, where: AuditFilter, *, limit: int, batch_size: int = EXPORT_BATCH
    ) -> AsyncIterator[Sequence[AuditEvent]]:
        """Up to ``limit`` matching events newest first, ``batch_size`` per query, each query
        in its own session (a slow reader holds no connection). Rows written after the first
        batch are left out, so none shifts the pages and repeats."""
        async with self.db.session() as session:
            newest = await session.scalar(select(func.max(AuditEvent.id)))
        if newest is None:
            return
        conditions = [*where.conditions(), AuditEvent.id <= newest]
        offset = 0
        while offset < limit:
            size = min(batch_size, limit - offset)
            async with self.db.session() as session:
                page = (
                    await session.scalars(
                        select(AuditEvent)
                        .where(*conditions)
                        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                        .offset(offset)
                        .limit(size)
                    )
                ).all()
            if page:
                yield page
            if len(page) < size:
                return
            offset += len(page)

    async def prune(self, *, older_than: datetime, max_rows: int) -> int:
        """Delete rows before ``older_than``, then the oldest beyond ``max_rows``."""
        async with self.db.transaction() as session:
            removed = _rowcount(
                await session.execute(delete(AuditEvent).where(AuditEvent.at < _utc(older_than)))
            )
            # ids grow with insertion, so "beyond max_rows" is everything at or below the id
            # of the (max_rows + 1)-th newest row.
            cutoff = await session.scalar(
                select(AuditEvent.id).order_by(AuditEvent.id.desc()).offset(max_rows).limit(1)
            )
            if cutoff is not None:
                removed += _rowcount(
                    await session.execute(delete(AuditEvent).where(AuditEvent.id <= cutoff))
                )
            return removed


def _rowcount(result: Result[Any]) -> int:
    """Rows a DELETE removed (a DML statement's result is a CursorResult)."""
    return int(cast("CursorResult[Any]", result).rowcount or 0)


async def add_event(session: AsyncSession, row: Mapping[str, Any]) -> None:
    """Insert one event inside the caller's transaction (changes audited atomically)."""
    await session.execute(insert(AuditEvent), [clean_row(row)])


def event_json(event: AuditEvent) -> dict[str, Any]:
    """An event as the audit API and ``jiraguard audit --json`` show it."""
    return {
        "id": event.id,
        "at": _utc(event.at).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "kind": event.kind,
        "allowed": event.allowed,
        "status": event.status,
        "reason": event.reason,
        "method": event.method,
        "path": event.path,
        "clientIp": event.client_ip,
        "username": event.username,
        "provider": event.provider,
        "authMethod": event.auth_method,
        "clientId": event.client_id,
        "tokenId": event.token_id,
        "fingerprint": event.fingerprint,
        "lastFingerprint": event.last_fingerprint,
        "count": event.count,
        "lastAt": None
        if event.last_at is None
        else _utc(event.last_at).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
