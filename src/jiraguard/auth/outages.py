"""Provider outages in the log: one WARNING per provider per interval, not one per request.

Every request refused because its provider could not be asked is an audit record of its own
(``jiraguard.audit``, INFO). An outage also deserves an operator's attention, once: the first
failure of a provider logs a WARNING naming the provider, the URL and how it failed; further
failures within :data:`WARNING_INTERVAL` seconds are counted and said with the next warning.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from jiraguard.auth.errors import ProviderUnavailable

log = logging.getLogger("jiraguard.providers")

WARNING_INTERVAL = 60.0
"""Seconds between two warnings about the same provider."""


@dataclass(slots=True)
class _Outage:
    warned_at: float
    unsaid: int = 0
    """Failures since the last warning, said with the next one."""
    down: bool = True


class OutageWarnings:
    """Rate-limits the warnings about providers that could not be asked (one per interval)."""

    def __init__(
        self,
        interval: float = WARNING_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self._outages: dict[str, _Outage] = {}

    def failed(self, provider: str, error: ProviderUnavailable) -> None:
        """``provider`` could not be asked: warn now, or count it for the next warning."""
        now = self.clock()
        outage = self._outages.get(provider)
        if outage is not None and now - outage.warned_at < self.interval:
            outage.unsaid += 1
            outage.down = True
            return
        unsaid = outage.unsaid if outage is not None else 0
        self._outages[provider] = _Outage(now)
        more = f" ({unsaid} more failures since the last warning)" if unsaid else ""
        log.warning(
            "provider %s cannot be asked: %s%s; its tokens are answered 503 until it recovers",
            provider,
            error.description,
            more,
        )

    def recovered(self, provider: str) -> None:
        """A check by ``provider`` succeeded (said once; a flapping provider still gets one
        warning per interval)."""
        outage = self._outages.get(provider)
        if outage is not None and outage.down:
            outage.down = False
            log.info("provider %s answers again", provider)
