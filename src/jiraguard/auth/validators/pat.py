"""Personal access tokens on the request path: checked against the store, never a provider.

A bearer token that starts with ``tokens.prefix`` is decided here and only here. It is looked
up by its SHA-256 (a unique index), so each request sees revocation, expiry and a disabled
owner at once: personal access tokens are never put in the principal cache. The database
compares hashes, not tokens: timing can tell an attacker at most a prefix of a SHA-256 that
they cannot invert, which is why no constant-time comparison is needed on this path.

``lastAccessedAt`` is written at most once per ``tokens.last_used_resolution`` per token,
off the request path (a background task with its own session; a failed write is logged).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from jiraguard.auth.errors import InvalidToken
from jiraguard.auth.principal import Principal, fingerprint
from jiraguard.settings import TokenSettings
from jiraguard.store.db import Database
from jiraguard.store.tokens import TokenStore

log = logging.getLogger(__name__)

METHOD = "pat"
_MAX_TRACKED = 100_000
"""Tokens whose last write time we remember; past this, entries older than the resolution go."""


class PATValidator:
    """Turns a personal access token into the principal of its owner."""

    def __init__(
        self,
        db: Database,
        settings: TokenSettings,
        *,
        clock: Callable[[], float] = time.time,
        track_use: bool = True,
    ) -> None:
        """``track_use=False`` leaves ``lastAccessedAt`` alone (``check-token`` is no use)."""
        self.store = TokenStore(db)
        self.track_use = track_use
        self.settings = settings
        self.clock = clock
        self._written: dict[int, float] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self.writes = 0
        """``lastAccessedAt`` writes scheduled since start (for tests and metrics)."""

    def recognises(self, token: str) -> bool:
        """True for tokens in our format: those are never shown to a provider."""
        return token.startswith(self.settings.prefix)

    async def authenticate(self, token: str) -> Principal:
        """The owner's principal; InvalidToken when unknown, revoked, expired or disabled."""
        if not self.settings.enabled:
            raise InvalidToken("Personal access tokens are disabled")
        digest = fingerprint(token)
        found = await self.store.by_hash(digest)
        if found is None:
            raise InvalidToken("The personal access token is not valid")
        record, user = found
        now = self.clock()
        if record.revoked_at is not None:
            raise InvalidToken("The personal access token was revoked")
        if record.expires_at.timestamp() <= now:
            raise InvalidToken("The personal access token expired")
        if not user.active:
            raise InvalidToken(f"The Jira user {user.name} is disabled")
        self._note_use(record.id, now)
        return Principal.of(
            user,
            method=METHOD,
            expires_at=record.expires_at.timestamp(),
            fingerprint=fingerprint(token)[:16],
            token_id=str(record.id),
        )

    def _note_use(self, token_id: int, now: float) -> None:
        if not self.track_use:
            return
        last = self._written.get(token_id)
        if last is not None and now - last < self.settings.last_used_resolution:
            return
        if len(self._written) >= _MAX_TRACKED:
            horizon = now - self.settings.last_used_resolution
            self._written = {k: v for k, v in self._written.items() if v > horizon}
        self._written[token_id] = now
        self.writes += 1
        task = asyncio.create_task(self._touch(token_id, datetime.fromtimestamp(now, UTC)))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _touch(self, token_id: int, at: datetime) -> None:
        try:
            await self.store.touch(token_id, at)
        except Exception:  # a lost lastAccessedAt must never fail a request or crash a task
            log.warning("could not record the last use of personal access token %d", token_id)

    async def wait_idle(self) -> None:
        """Wait for the scheduled ``lastAccessedAt`` writes (tests, shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def aclose(self) -> None:
        await self.wait_idle()
