"""The principal cache: what a token was found to be, keyed by its SHA-256 fingerprint.

An entry is a :class:`~jiraguard.auth.principal.Principal` (accepted) or a
:class:`Rejection` (a short negative entry, so a flood of one bad token does not become a
flood of provider calls). Callers give every entry its own lifetime; the cache never keeps an
entry past it. The interface is async so a shared (Redis) implementation fits behind it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from jiraguard.auth.principal import Principal

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Rejection:
    """A token found invalid, with the reason it was given."""

    description: str
    checked_at: float = field(default=0.0, compare=False)
    """Unix time the token was found invalid (see :class:`~jiraguard.auth.fences.Fences`)."""
    username: str | None = None
    """The user the token was refused for (a disabled user), if any."""


CacheEntry = Principal | Rejection


@dataclass(frozen=True, slots=True)
class CacheLevel:
    """One level of a cache as it reports itself (for ``/metrics`` and the status page)."""

    name: str
    """``local`` (this process's memory) or ``shared`` (Redis)."""
    hits: int
    misses: int
    entries: int | None = None
    """Entries held, where the level can say without a round trip (memory only)."""
    forged: int = 0
    """Entries found whose authentication code did not match (shared level only): planted
    by someone who can write to Redis, and treated as misses."""


class PrincipalCache(Protocol):
    async def get(self, key: str) -> CacheEntry | None:
        """The live entry for ``key``, or None."""
        ...

    def recent(self, key: str) -> CacheEntry | None:
        """The live entry for ``key`` if this process's memory holds it, found without
        waiting for anything (the request path's common case); None means "ask :meth:`get`",
        which counts the miss."""
        ...

    async def put(self, key: str, entry: CacheEntry, ttl: float) -> None:
        """Keep ``entry`` for ``ttl`` seconds at most (a ttl <= 0 stores nothing)."""
        ...

    async def clear(self) -> None: ...

    def levels(self) -> list[CacheLevel]:
        """Each level's counters, this process's memory first."""
        ...

    def reconfigured(self, namespace: str) -> None:
        """What decides a token's principal changed: this process forgets what it holds, and
        a shared level keeps its entries under ``namespace`` from now on (a digest of the new
        configuration, so processes that run the same configuration share entries)."""
        ...


class MemoryPrincipalCache:
    """A bounded in-process LRU with a deadline per entry.

    Principals and rejections are two lists, each of ``max_entries`` at most: a flood of
    distinct bad tokens (each refused once, never seen again) pushes out other rejections,
    never the principals of the users working meanwhile (whose tokens would each have to be
    checked again, at the provider for introspection)."""

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, CacheEntry]] = OrderedDict()
        """Principals, least recently used first."""
        self._rejections: OrderedDict[str, tuple[float, str, float, str | None]] = OrderedDict()
        """Rejections, least recently used first, as (deadline, description, checked_at,
        username): a tuple of strings and numbers, which the garbage collector stops
        tracking, where a :class:`Rejection` object it would walk on every full collection
        (a flood of forged tokens keeps ``max_entries`` of them: a pause of a tenth of a
        second, every few seconds)."""
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries) + len(self._rejections)

    async def get(self, key: str) -> CacheEntry | None:
        entry = self.recent(key)
        if entry is None:
            self.misses += 1
        return entry

    def recent(self, key: str) -> CacheEntry | None:
        entries = self._entries
        found = entries.get(key)
        if found is None:
            return self._rejection(key)
        deadline, entry = found
        if deadline <= self.clock():
            del entries[key]
            return None
        entries.move_to_end(key)
        self.hits += 1
        return entry

    def _rejection(self, key: str) -> Rejection | None:
        rejections = self._rejections
        found = rejections.get(key)
        if found is None:
            return None
        deadline, description, checked_at, username = found
        if deadline <= self.clock():
            del rejections[key]
            return None
        rejections.move_to_end(key)
        self.hits += 1
        return Rejection(description, checked_at, username)

    async def put(self, key: str, entry: CacheEntry, ttl: float) -> None:
        deadline = self.clock() + ttl
        if isinstance(entry, Rejection):
            self._entries.pop(key, None)  # a token's one answer: the newest
            _keep(
                self._rejections,
                key,
                ttl,
                self.max_entries,
                (deadline, entry.description, entry.checked_at, entry.username),
            )
        else:
            self._rejections.pop(key, None)
            _keep(self._entries, key, ttl, self.max_entries, (deadline, entry))

    async def clear(self) -> None:
        self._entries.clear()
        self._rejections.clear()

    def levels(self) -> list[CacheLevel]:
        return [CacheLevel("local", self.hits, self.misses, len(self))]

    def reconfigured(self, namespace: str) -> None:
        self._entries.clear()
        self._rejections.clear()


def _keep(entries: OrderedDict[str, _T], key: str, ttl: float, most: int, value: _T) -> None:
    """``value`` under ``key`` as the most recently used of ``entries`` (at most ``most``);
    a ttl <= 0 keeps nothing, and forgets what was there."""
    if ttl <= 0:
        entries.pop(key, None)
        return
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > most:
        entries.popitem(last=False)
