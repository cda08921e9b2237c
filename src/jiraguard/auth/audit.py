"""Step 5 of the request path: record each authentication decision.

A decision names the principal (or none), the provider and method, the request's method and
path, the client address and the token's fingerprint, never the token. Records go to the
``jiraguard.audit`` logger: refusals at INFO, acceptances at DEBUG (every request passes
here; the store-backed audit log comes with the access-rules work).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from jiraguard.auth.principal import Principal

log = logging.getLogger("jiraguard.audit")


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
    status: int
    method: str
    path: str
    client: str | None
    username: str | None = None
    provider: str | None = None
    auth_method: str | None = None
    fingerprint: str | None = None
    """SHA-256 of the token, first 16 hex digits: enough to correlate, useless to replay."""


class DecisionLog:
    """Counts decisions by outcome and writes refusals to the audit logger."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[bool, int]] = Counter()

    def accepted(self, method: str, path: str, principal: Principal) -> None:
        """The hot path: count, and log only when DEBUG is on."""
        self.counts[(True, 200)] += 1
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "allow %s %s user=%s provider=%s via=%s",
                method,
                path,
                principal.username,
                principal.provider or "-",
                principal.method,
            )

    def record(self, decision: Decision) -> None:
        self.counts[(decision.allowed, decision.status)] += 1
        level = logging.DEBUG if decision.allowed else logging.INFO
        if log.isEnabledFor(level):
            log.log(
                level,
                "%s %s %s -> %d %s user=%s provider=%s via=%s token=%s client=%s",
                "allow" if decision.allowed else "deny",
                decision.method,
                decision.path,
                decision.status,
                decision.reason,
                decision.username or "-",
                decision.provider or "-",
                decision.auth_method or "-",
                decision.fingerprint or "-",
                decision.client or "-",
            )
