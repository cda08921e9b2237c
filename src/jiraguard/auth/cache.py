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
from typing import Protocol

from jiraguard.auth.principal import Principal


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
    """A bounded in-process LRU with a deadline per entry."""

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, CacheEntry]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> CacheEntry | None:
        entry = self.recent(key)
        if entry is None:
            self.misses += 1
        return entry

    def recent(self, key: str) -> CacheEntry | None:
        found = self._entries.get(key)
        if found is None:
            return None
        deadline, entry = found
        if deadline <= self.clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry

    async def put(self, key: str, entry: CacheEntry, ttl: float) -> None:
        if ttl <= 0:
            self._entries.pop(key, None)
            return
        self._entries[key] = (self.clock() + ttl, entry)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def clear(self) -> None:
        self._entries.clear()

    def levels(self) -> list[CacheLevel]:
        return [CacheLevel("local", self.hits, self.misses, len(self._entries))]

    def reconfigured(self, namespace: str) -> None:
        self._entries.clear()
