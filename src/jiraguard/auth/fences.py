"""Fences: moments before which a cached decision about a user no longer counts.

A cached principal (or a rejection naming its user) carries the time its token was checked.
When a user is disabled or changed, that user's decisions checked before the change are
stale. A stale entry is a cache miss: the token is checked again, against the directory as
it is now. (A configuration change needs no fence: see ``Services.reconfigure``.)

This works the same for this process's memory and for entries another process put in Redis,
without finding or deleting them: a fence is a comparison on a cache hit, nothing more.
Fences are set by the change feed (:mod:`jiraguard.changes`).
"""

from __future__ import annotations

from jiraguard.auth.cache import CacheEntry

_MAX_USERS = 10_000


class Fences:
    def __init__(self, keep: float) -> None:
        """``keep``: seconds a user's fence is needed (the longest a cache entry lives)."""
        self.keep = keep
        self._users: dict[str, float] = {}
        self.any = False
        """Whether any fence is set (else no entry can be stale: :meth:`stale` is not asked)."""

    def user(self, username: str, at: float) -> None:
        """``username``'s decisions checked before ``at`` are stale."""
        name = username.lower()
        self._users[name] = max(self._users.get(name, 0.0), at)
        if len(self._users) > _MAX_USERS:
            # An entry checked before at - keep has expired from every cache by now.
            horizon = at - self.keep
            self._users = {n: t for n, t in self._users.items() if t > horizon}
        self.any = bool(self._users)

    def stale(self, entry: CacheEntry) -> bool:
        if self._users and entry.username is not None:
            fence = self._users.get(entry.username.lower())
            return fence is not None and entry.checked_at < fence
        return False
