"""The change feed: what every process must apply when one of them (or the CLI) changes it.

A change is a row in the ``changes`` table, written in the same transaction as what changed
(the configuration saved from the admin UI, a user disabled, a custom field added): the
database is the one source of truth. Each serving process follows the feed from the id it
started at:

* with Redis, the writer publishes a wake-up on ``{prefix}changes`` and every subscriber reads
  the feed at once (milliseconds);
* in any case each process reads the feed every ``server.changes_poll_interval`` seconds, so a
  message lost while Redis restarted (pub/sub keeps nothing) costs at most one interval, and a
  deployment without Redis gets the same guarantee.

The message carries nothing but the wake-up: whoever can write to Redis can make a process
read its own database, never tell it what changed.

Ids are handed out in commit order (see :func:`jiraguard.store.changes.record`), so
"everything after the last id I applied" never skips a change that committed late.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import delete, func, select

from jiraguard.redis_client import FAILURES, RedisOutage
from jiraguard.store.changes import CONFIG, CUSTOM_FIELDS, USER, record
from jiraguard.store.db import Database
from jiraguard.store.models import Change

log = logging.getLogger(__name__)

__all__ = ["CONFIG", "CUSTOM_FIELDS", "USER", "ChangeEvent", "ChangeFeed", "record", "wake"]

_KEEP = timedelta(days=1)
_BATCH = 1000


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    id: int
    at: float
    """Unix time of the change, from the writer's clock."""
    kind: str
    subject: str | None


def channel(prefix: str) -> str:
    return prefix + "changes"


async def wake(redis: Redis | None, prefix: str, outage: RedisOutage | None = None) -> None:
    """Tell every subscribed process to read the feed now (best effort: they poll anyway)."""
    if redis is None:
        return
    try:
        await redis.publish(channel(prefix), b"1")
    except FAILURES as exc:
        if outage is not None:
            outage.report("change notification", exc)
        else:
            log.warning("could not publish a change notification: %s", type(exc).__name__)


Apply = Callable[[Sequence[ChangeEvent]], Awaitable[None]]


class ChangeFeed:
    """Follows the feed for one process and hands new changes to ``apply``, in order."""

    def __init__(
        self,
        db: Database,
        apply: Apply,
        *,
        poll_interval: float,
        redis: Redis | None = None,
        prefix: str = "jiraguard:",
        outage: RedisOutage | None = None,
    ) -> None:
        self.db = db
        self.apply = apply
        self.poll_interval = poll_interval
        self.redis = redis
        self.prefix = prefix
        self.outage = outage or RedisOutage()
        self.last_id = 0
        self.subscribed = False
        """True while the pub/sub subscription is live (for ``/readyz`` and tests)."""
        self.wakeups = 0
        """Wake-ups received by pub/sub (for tests and metrics)."""
        self._tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()
        self._pruned_at = 0.0

    async def start(self) -> None:
        """Start from the newest change: a new process has nothing old to apply."""
        async with self.db.session() as session:
            self.last_id = int(await session.scalar(select(func.max(Change.id))) or 0)
        self._tasks.append(asyncio.create_task(self._poll(), name="changes-poll"))
        if self.redis is not None:
            self._tasks.append(asyncio.create_task(self._listen(), name="changes-listen"))

    async def stop(self) -> None:
        # Cancelled until done: on Python 3.11, asyncio.wait_for (which redis-py's reads use)
        # can swallow a cancellation that arrives as the read completes (fixed in 3.12).
        for task in self._tasks:
            while not task.done():
                task.cancel()
                await asyncio.wait([task], timeout=0.1)
            if not task.cancelled():
                with contextlib.suppress(Exception):
                    task.result()
        self._tasks.clear()

    async def catch_up(self) -> int:
        """Apply every change after the last one applied; returns how many there were."""
        async with self._lock:
            async with self.db.session() as session:
                rows = (
                    await session.scalars(
                        select(Change)
                        .where(Change.id > self.last_id)
                        .order_by(Change.id)
                        .limit(_BATCH)
                    )
                ).all()
            if not rows:
                return 0
            events = [ChangeEvent(row.id, _unix(row.at), row.kind, row.subject) for row in rows]
            try:
                await self.apply(events)
            finally:
                # Applied or not, never again: a change that fails to apply is logged by
                # ``apply``; retrying it every second would only repeat the log line.
                self.last_id = events[-1].id
            return len(events)

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self.catch_up()
                if loop.time() - self._pruned_at > 3600:
                    self._pruned_at = loop.time()
                    await self._prune()
            except Exception:  # the database is down: try again next interval
                log.warning("could not read the change feed", exc_info=True)

    async def _prune(self) -> None:
        async with self.db.transaction() as session:
            await session.execute(delete(Change).where(Change.at < datetime.now(UTC) - _KEEP))

    async def _listen(self) -> None:
        """Read the feed whenever a wake-up arrives; resubscribe (and catch up) after a Redis
        outage, since messages sent meanwhile are lost."""
        assert self.redis is not None
        backoff = self.poll_interval
        while True:
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(channel(self.prefix))
                    self.subscribed = True
                    backoff = self.poll_interval
                    await self._catch_up_logged()  # what was published while we were away
                    while True:
                        message = await pubsub.get_message(timeout=10.0)
                        if message is None:
                            await pubsub.ping()  # a dead connection shows here
                        elif message.get("type") == "message":
                            self.wakeups += 1
                            await self._catch_up_logged()
            except FAILURES as exc:
                self.outage.report("change subscription", exc)
            finally:
                self.subscribed = False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)

    async def _catch_up_logged(self) -> None:
        try:
            await self.catch_up()
        except Exception:
            log.warning("could not read the change feed", exc_info=True)


def _unix(moment: datetime) -> float:
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
