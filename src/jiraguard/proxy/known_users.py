"""Which users the upstream Jira knows, for ``identity = "oauth1_impersonation"``.

Jira runs a two-legged OAuth request whose ``xoauth_requestor_id`` names nobody it knows
**as anonymous**, instead of refusing it. So the gateway never sends a name Jira may not
know: before the first request of a user it asks Jira, with an impersonated
``GET /rest/api/2/myself``, and goes on only when the answer names that same user. A yes is
kept ``upstream.user_check_ttl`` seconds and dropped at once when Jira answers one of the
user's requests with 401; a no is kept a few seconds (a flood of one unknown user's token
does not become a flood of checks). Concurrent first requests of one user share one check.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable

from jiraguard.proxy.oauth1_signer import OAuth1Impersonation
from jiraguard.upstream import Upstream, UpstreamError

log = logging.getLogger(__name__)

NEGATIVE_TTL = 5.0
"""Seconds an unknown user stays unknown without asking Jira again."""
_MAX_ENTRIES = 100_000


class JiraUnavailable(Exception):
    """Jira could not say whether it knows the user (no answer, or not a usable one)."""


class KnownUsers:
    """Asks Jira whether it knows a user, and remembers the answer for a while."""

    def __init__(
        self,
        pool: Upstream,
        base: str,
        signer: OAuth1Impersonation,
        *,
        ttl: float,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``pool`` asks Jira; ``base`` is the upstream URL with its context path."""
        self.pool = pool
        self.myself = base.rstrip("/") + "/rest/api/2/myself"
        self.signer = signer
        self.ttl = ttl
        self.timeout = timeout
        self.clock = clock
        self._answers: dict[str, tuple[bool, float]] = {}
        self._checks: dict[str, asyncio.Task[bool]] = {}
        self.checks = 0
        """Questions sent to Jira (for tests and metrics)."""

    async def known(self, username: str) -> bool:
        """Whether Jira knows ``username`` (and it is allowed to log in); JiraUnavailable when
        Jira could not say."""
        key = username.casefold()
        answer = self._answers.get(key)
        if answer is not None and answer[1] > self.clock():
            return answer[0]
        task = self._checks.get(key)
        if task is None:
            task = asyncio.create_task(self._ask(username))
            self._checks[key] = task
            task.add_done_callback(lambda _: self._checks.pop(key, None))
        return await asyncio.shield(task)

    def forget(self, username: str) -> None:
        """Jira refused one of the user's requests: ask again next time."""
        self._answers.pop(username.casefold(), None)

    async def _ask(self, username: str) -> bool:
        self.checks += 1
        url = self.myself + "?" + self.signer.requestor_query(b"", username).decode("ascii")
        headers = [
            (b"authorization", self.signer.authorization("GET", url, None)),
            (b"accept", b"application/json"),
        ]
        try:
            status, body = await self.pool.ask("GET", url, headers, self.timeout)
        except UpstreamError as exc:
            raise JiraUnavailable(f"Jira could not be asked ({type(exc).__name__})") from exc
        if status >= 500:
            raise JiraUnavailable(f"Jira answered HTTP {status} about the user")
        known = status == 200 and _names(body, username)
        if status == 200 and not known:
            log.warning("Jira answered the check of a user with another user; refused")
        self._remember(username, known)
        return known

    def _remember(self, username: str, known: bool) -> None:
        if len(self._answers) >= _MAX_ENTRIES:
            self._answers.pop(next(iter(self._answers)))
        ttl = self.ttl if known else min(self.ttl, NEGATIVE_TTL)
        self._answers[username.casefold()] = (known, self.clock() + ttl)


def _names(body: bytes, username: str) -> bool:
    """Whether a ``myself`` answer is that of ``username`` (Jira user names are case-blind)."""
    try:
        user = json.loads(body)
    except ValueError:
        return False
    name = user.get("name") if isinstance(user, dict) else None
    return isinstance(name, str) and name.casefold() == username.casefold()
