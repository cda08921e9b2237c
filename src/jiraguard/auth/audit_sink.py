"""The audit log's sink into the database: a bounded queue and one background writer.

Accepted requests are the bulk of the traffic (a busy client makes hundreds a second, all
alike), so they are aggregated before they are written: identical accepted decisions — same
caller, token, client, method, path and outcome — within one flush window become one row
with a ``count`` and the times of the first (``at``) and last (``last_at``). Refusals are
aggregated the same way, by everything but the token: a flood of bad tokens from one client
(same reason, status, client address, method and path) is one row per window with a
``count``, the first token's ``fingerprint`` and the last one's ``last_fingerprint``, so no
flood of refusals becomes a flood of database writes.

:meth:`StoreAuditSink.submit` runs on the request path, so it only appends to an in-memory
queue and returns: it never awaits, never blocks, never raises. When the queue is full the
oldest record is dropped (counted in ``dropped``, warned about) rather than slowing requests.
A background task writes the queue in batches of ``audit.batch_size`` with one executemany
INSERT, at least every ``audit.flush_interval`` seconds, and applies retention
(``audit.retention_days``, ``audit.max_rows``) on start and every ``RETENTION_INTERVAL``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from jiraguard.auth.audit import Decision, accepted_decision
from jiraguard.auth.principal import Principal
from jiraguard.settings import AuditSettings
from jiraguard.store.audit import AuditLog
from jiraguard.store.db import Database

log = logging.getLogger(__name__)

RETENTION_INTERVAL = 600.0
"""Seconds between two retention passes."""
MIN_QUEUE = 10_000


def decision_row(
    decision: Decision,
    count: int = 1,
    last: float | None = None,
    last_fingerprint: str | None = None,
) -> dict[str, Any]:
    """The ``audit_events`` row of a request decision (kind ``auth``)."""
    return {
        "last_fingerprint": last_fingerprint,
        "count": count,
        "last_at": None if last is None else datetime.fromtimestamp(last, UTC),
        "at": datetime.fromtimestamp(decision.at, UTC),
        "kind": "auth",
        "allowed": decision.allowed,
        "status": decision.status,
        "reason": decision.reason,
        "method": decision.method,
        "path": decision.path,
        "client_ip": decision.client,
        "username": decision.username,
        "provider": decision.provider,
        "auth_method": decision.auth_method,
        "client_id": decision.client_id,
        "token_id": decision.token_id,
        "fingerprint": decision.fingerprint,
    }


def _outage(exc: BaseException) -> bool:
    """Whether a failed write means the database is unreachable (every row would fail), as
    opposed to the database refusing something in the rows."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OSError | TimeoutError)


class _Tally:
    __slots__ = ("count", "first", "last", "last_fingerprint")

    def __init__(self, first: Decision) -> None:
        self.first = first
        self.last = first.at
        self.count = 1
        self.last_fingerprint: str | None = None

    def row(self) -> dict[str, Any]:
        if self.count == 1:
            return decision_row(self.first)
        changed = self.last_fingerprint if self.last_fingerprint != self.first.fingerprint else None
        return decision_row(self.first, self.count, self.last, changed)


def _refusal_key(decision: Decision) -> tuple[Any, ...]:
    """What makes two refusals the same row: everything but the time and the token."""
    return (
        decision.status,
        decision.code,
        decision.reason,
        decision.method,
        decision.path,
        decision.client,
        decision.username,
        decision.provider,
        decision.auth_method,
        decision.client_id,
        decision.token_id,
    )


class StoreAuditSink:
    """An :class:`~jiraguard.auth.audit.AuditSink` that batches decisions into the store."""

    def __init__(
        self,
        db: Database,
        settings: AuditSettings,
        *,
        queue_size: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.log = AuditLog(db)
        self.settings = settings
        self.clock = clock
        self.capacity = queue_size or max(MIN_QUEUE, 20 * settings.batch_size)
        self.dropped = 0
        """Records dropped because the queue was full or a write failed."""
        self.rejected = 0
        """Rows the database refused one by one (dropped, counted in ``dropped`` too); the
        rest of their batch was written."""
        self._queue: deque[Decision] = deque()
        self._accepted: dict[tuple[Any, ...], _Tally] = {}
        """Accepted decisions of this flush window, aggregated by everything but time."""
        self._refused: dict[tuple[Any, ...], _Tally] = {}
        """Refusals of this flush window, aggregated by everything but time and token."""
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._last_prune = float("-inf")
        self._warned_at = float("-inf")

    def accepted(self, principal: Principal, method: str, path: str, client: str | None) -> None:
        """Count an accepted request into its window's tally; never blocks."""
        now = self.clock()
        # The token's fingerprint stands for the token and so for the principal it maps to.
        key = (principal.fingerprint or principal.key, principal.method, method, path, client)
        tally = self._accepted.get(key)
        if tally is not None:
            tally.count += 1
            tally.last = now
        elif len(self._accepted) < self.capacity:
            self._accepted[key] = _Tally(accepted_decision(principal, method, path, client, now))
        else:
            self._enqueue(accepted_decision(principal, method, path, client, now))

    def submit(self, decision: Decision) -> None:
        """Keep a decision; never blocks. A refusal joins its window's tally (see the module
        docstring); anything else is queued, and a full queue loses its oldest record."""
        if not decision.allowed:
            key = _refusal_key(decision)
            tally = self._refused.get(key)
            if tally is not None:
                tally.count += 1
                tally.last = decision.at
                tally.last_fingerprint = decision.fingerprint
                return
            self._make_room()
            self._refused[key] = _Tally(decision)
            return
        self._enqueue(decision)

    def _enqueue(self, decision: Decision) -> None:
        self._make_room()
        self._queue.append(decision)
        if len(self._queue) >= self.settings.batch_size:
            self._wake.set()

    def _make_room(self) -> None:
        """Keep what waits to be written (queue and refusal tallies) within ``capacity``:
        the oldest queued record goes first, then the oldest refusal tally."""
        if len(self._queue) + len(self._refused) < self.capacity:
            return
        if self._queue:
            self._queue.popleft()
            self.dropped += 1
        else:
            oldest = next(iter(self._refused))
            self.dropped += self._refused.pop(oldest).count
        now = time.monotonic()
        if now - self._warned_at >= 10:  # one warning per 10 s, not one per request
            self._warned_at = now
            log.warning(
                "audit queue full (%d records): dropping the oldest; %d dropped so far",
                self.capacity,
                self.dropped,
            )

    @property
    def pending(self) -> int:
        return len(self._queue) + len(self._accepted) + len(self._refused)

    def start(self) -> None:
        """Start the background writer (from the app's lifespan)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="jiraguard-audit-writer")

    async def stop(self) -> None:
        """Stop the writer and write what is still queued."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.flush()

    async def flush(self) -> int:
        """Write everything queued now, in batches; returns the number of records written."""
        written = 0
        async with self._lock:
            tallies = [*self._accepted.values(), *self._refused.values()]
            self._accepted, self._refused = {}, {}
            rows = [tally.row() for tally in tallies]
            while self._queue:
                rows.append(decision_row(self._queue.popleft()))
            rows.sort(key=lambda row: row["at"])
            for start in range(0, len(rows), self.settings.batch_size):
                batch = rows[start : start + self.settings.batch_size]
                try:
                    await self.log.insert_many(batch)
                except Exception as exc:
                    if _outage(exc):  # the database is down: keep serving, count the loss
                        lost = sum(int(row["count"]) for row in rows[start:])
                        self.dropped += lost
                        log.exception("could not write %d audit records", lost)
                        break
                    # One row the database refuses must not take the others with it.
                    done, outage = await self._one_by_one(batch)
                    written += done
                    if outage:
                        lost = sum(int(row["count"]) for row in rows[start + len(batch) :])
                        self.dropped += lost
                        break
                    continue
                written += sum(int(row["count"]) for row in batch)
        return written

    async def _one_by_one(self, batch: list[dict[str, Any]]) -> tuple[int, bool]:
        """Insert a refused batch row by row: (records written, whether the database went
        away meanwhile). Each row still refused is dropped and counted in ``rejected``."""
        written = 0
        for index, row in enumerate(batch):
            try:
                await self.log.insert_many([row])
            except Exception as exc:
                if _outage(exc):
                    lost = sum(int(r["count"]) for r in batch[index:])
                    self.dropped += lost
                    log.exception("could not write %d audit records", lost)
                    return written, True
                self.rejected += 1
                self.dropped += int(row["count"])
                log.error(
                    "audit record refused by the database and dropped (%s: %s); %d refused so far",
                    type(exc).__name__,
                    str(exc)[:200],
                    self.rejected,
                )
                continue
            written += int(row["count"])
        return written, False

    async def prune(self) -> int:
        """Apply retention now: older than ``retention_days``, then beyond ``max_rows``."""
        self._last_prune = time.monotonic()
        older_than = datetime.fromtimestamp(self.clock(), UTC) - timedelta(
            days=self.settings.retention_days
        )
        removed = await self.log.prune(older_than=older_than, max_rows=self.settings.max_rows)
        if removed:
            log.info("audit retention removed %d records", removed)
        return removed

    async def _run(self) -> None:
        while True:
            try:
                if time.monotonic() - self._last_prune >= RETENTION_INTERVAL:
                    await self.prune()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._wake.wait(), max(self.settings.flush_interval, 0.05)
                    )
                self._wake.clear()
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the writer alive whatever one pass does
                log.exception("audit writer pass failed")
                await asyncio.sleep(max(self.settings.flush_interval, 1.0))
