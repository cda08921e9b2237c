"""The Redis client every shared part uses, and how a Redis outage is lived with.

The principal cache, the rate limiter, single flight and the change feed all talk to Redis
through :func:`make_redis`'s client, catch :data:`FAILURES` and report them to one
:class:`RedisOutage`: Redis being slow or down never fails a request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
"""What a Redis call can raise when Redis is down, slow or refuses: never a request failure."""


def make_redis(url: str, socket_timeout: float) -> Redis:
    """A client with a timeout on every call and no retries (one slow Redis must not make
    each request wait several timeouts; the next call reconnects anyway)."""
    client: Redis = Redis.from_url(
        url,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout,
        retry=None,
        retry_on_error=[],
        decode_responses=False,
    )
    return client


class RedisOutage:
    """Counts Redis failures and logs them without flooding the log (one warning per 10 s)."""

    interval = 10.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.errors = 0
        self._warned_at = float("-inf")

    def report(self, what: str, exc: BaseException) -> None:
        self.errors += 1
        now = self.clock()
        if now - self._warned_at >= self.interval:
            self._warned_at = now
            # The exception's text names host and port at most, never the URL's password.
            log.warning(
                "Redis unavailable (%s: %s: %s); continuing without it (%d errors so far)",
                what,
                type(exc).__name__,
                exc,
                self.errors,
            )
