"""This process's counters over the last hour, for the admin status page's charts.

The principal cache's hits and lookups and the providers' requests (count, total seconds,
answers by status class) and errors are counters the request path keeps anyway. A background
task copies them into a :class:`Sample` every :data:`INTERVAL` seconds and keeps an hour of
them; the page turns consecutive samples into rates. Nothing is added to the request path,
and a sample costs no I/O: it reads numbers in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from jiraguard.auth.cache import CacheLevel, PrincipalCache
from jiraguard.telemetry import Telemetry

log = logging.getLogger(__name__)

INTERVAL = 10.0
"""Seconds between two samples."""
KEEP = 3600.0
"""Seconds of samples kept."""


@dataclass(frozen=True, slots=True)
class HostCalls:
    """Requests to one provider host since start: how many, their seconds summed, and how
    many were answered with a 5xx status."""

    count: float = 0.0
    seconds: float = 0.0
    failed: float = 0.0


@dataclass(frozen=True, slots=True)
class Sample:
    """The counters at one moment (each counts since this process started)."""

    at: float
    """Unix time."""
    cache_hits: int = 0
    """Lookups answered from the cache, at any level."""
    cache_lookups: int = 0
    """Lookups of the principal cache (its first level's hits and misses)."""
    hosts: dict[str, HostCalls] = field(default_factory=dict)
    """Per provider host (discovery, keys, introspection, userinfo requests)."""
    errors: dict[str, float] = field(default_factory=dict)
    """Per provider name: token checks that could not reach it or got an unusable answer."""


def cache_counts(levels: Sequence[CacheLevel]) -> tuple[int, int]:
    """(hits at any level, lookups): a miss in this process's memory that the shared level
    answers is one lookup and one hit."""
    if not levels:
        return 0, 0
    first = levels[0]
    return sum(level.hits for level in levels), first.hits + first.misses


def read_sample(cache: PrincipalCache, telemetry: Telemetry, at: float) -> Sample:
    """The counters now, read from memory."""
    hits, lookups = cache_counts(cache.levels())
    hosts: dict[str, dict[str, float]] = {}
    for metric in telemetry.provider_requests.collect():
        for sample in metric.samples:
            host = sample.labels.get("host", "")
            totals = hosts.setdefault(host, {"count": 0.0, "seconds": 0.0, "failed": 0.0})
            if sample.name.endswith("_count"):
                totals["count"] += sample.value
                if sample.labels.get("status") == "5xx":
                    totals["failed"] += sample.value
            elif sample.name.endswith("_sum"):
                totals["seconds"] += sample.value
    errors: dict[str, float] = {}
    for metric in telemetry.provider_errors.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                name = sample.labels.get("provider", "")
                errors[name] = errors.get(name, 0.0) + sample.value
    return Sample(
        at=at,
        cache_hits=hits,
        cache_lookups=lookups,
        hosts={host: HostCalls(**totals) for host, totals in hosts.items()},
        errors=errors,
    )


class Sampler:
    """Keeps an hour of :class:`Sample` s of this process, one every ``interval`` seconds."""

    def __init__(
        self,
        read: Callable[[float], Sample],
        *,
        interval: float = INTERVAL,
        keep: float = KEEP,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.read = read
        self.interval = interval
        self.clock = clock
        self._samples: deque[Sample] = deque(maxlen=int(keep / interval) + 1)
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> Sample:
        """Take a sample now and keep it."""
        taken = self.read(self.clock())
        self._samples.append(taken)
        return taken

    def series(self, since: float | None = None) -> list[Sample]:
        """The samples kept (those at or after ``since``), oldest first, and one read now."""
        kept: Iterable[Sample] = self._samples
        if since is not None:
            kept = (s for s in kept if s.at >= since)
        return [*kept, self.read(self.clock())]

    def start(self) -> None:
        if self._task is None:
            self.sample()
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.sample()
            except Exception:  # a sample must never end the series
                log.exception("status sample failed")
