"""Step 5 of the request path: record each authentication decision.

A :class:`Decision` names the principal (or none), the provider and method, the request's
method and path, the client address and the token's fingerprint, never the token. The
:class:`DecisionLog` counts decisions, logs refusals (``jiraguard.audit`` logger: INFO, or
DEBUG when the request log says them) and hands every record to an :class:`AuditSink`,
which must not block: the request path never waits for a write.

A refusal's line is said at once; the same refusal again (same status, reason, method, path
and client) within :data:`REPEAT_WINDOW` seconds is counted instead, and the count said in one
line when the window ends, with the last token's fingerprint: a flood of bad tokens is not a
flood of log lines, and the audit sink still gets every record.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from jiraguard.auth.principal import Principal
from jiraguard.logs import write_line

log = logging.getLogger("jiraguard.audit")


@dataclass(slots=True)
class Decision:
    """One decision, as the audit log keeps it; never changed once made (not frozen: a
    frozen dataclass sets each field through ``object.__setattr__``, and every refusal makes
    one)."""

    allowed: bool
    reason: str
    status: int
    method: str
    path: str
    client: str | None
    username: str | None = None
    provider: str | None = None
    auth_method: str | None = None
    """jwt, introspection, userinfo, pat or basic."""
    client_id: str | None = None
    token_id: str | None = None
    """Personal access token id, when one was used."""
    fingerprint: str | None = None
    """SHA-256 of the token, first 16 hex digits: enough to correlate, useless to replay."""
    at: float = field(default_factory=time.time)
    code: str = "authenticated"
    """A bounded name of the reason (``invalid_token``, ``basic_auth_blocked``, ...), for
    metrics; ``reason`` is the full text."""


class AuditSink(Protocol):
    """Where decisions go to be kept. Both methods must return at once (queue, then batch)."""

    def submit(self, decision: Decision) -> None:
        """Keep one decision (refusals, and anything decided off the hot path)."""
        ...

    def accepted(self, principal: Principal, method: str, path: str, client: str | None) -> None:
        """Keep an accepted request: the hot path, so no record is built here."""
        ...


def accepted_decision(
    principal: Principal, method: str, path: str, client: str | None, at: float
) -> Decision:
    """The audit record of an accepted request."""
    return Decision(
        allowed=True,
        reason="authenticated",
        status=200,
        method=method,
        path=path,
        client=client,
        username=principal.username,
        provider=principal.provider,
        auth_method=principal.method,
        client_id=principal.client_id,
        token_id=principal.token_id,
        fingerprint=principal.fingerprint,
        at=at,
    )


_DEBUG = logging.DEBUG

REPEAT_WINDOW = 1.0
"""Seconds a refusal's line stands for the same refusals after it."""
_REPEAT_KINDS = 1024
"""Most kinds of refusal counted in one window; refusals of any other kind are each said."""

_Kind = tuple[int, str, str, str, str | None]
"""What makes refusals the same: status, reason, method, path, client."""


@dataclass(slots=True)
class _Since:
    """A refusal said in the current window: its line's level, and the same refusals since."""

    level: int
    count: int = 0
    last: str | None = None
    """The fingerprint of the last one's token."""


class _Repeats:
    """The refusals said in the current window, and how many of each came again since."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._since: dict[_Kind, _Since] = {}
        self._timer: asyncio.TimerHandle | None = None

    def counted(self, decision: Decision, level: int) -> bool:
        """Whether ``decision`` is a repeat, now counted; else the caller says its line."""
        kind = (decision.status, decision.reason, decision.method, decision.path, decision.client)
        since = self._since.get(kind)
        if since is not None:
            since.count += 1
            since.last = decision.fingerprint
            return True
        if len(self._since) < _REPEAT_KINDS and self._open():
            self._since[kind] = _Since(level)
        return False

    def _open(self) -> bool:
        """Whether a window is open (one is opened when none is): only inside an event
        loop, whose timer ends it; elsewhere every refusal is said."""
        if self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return False
            self._timer = loop.call_later(self.window, self.close)
        return True

    def close(self) -> None:
        """End the window: say how many of each kind came again."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        since, self._since = self._since, {}
        for (status, reason, method, path, client), said in since.items():
            if said.count and log.isEnabledFor(said.level):
                line = (
                    f"deny {method} {path} -> {status} {reason} client={client or '-'}: "
                    f"{said.count} more in {self.window:g} s, the last token={said.last or '-'}"
                )
                write_line(log, said.level, line, {}, "close")


class DecisionLog:
    """Counts decisions, writes refusals to the audit logger, feeds the sink."""

    def __init__(
        self,
        sink: AuditSink | None = None,
        *,
        record_allowed: bool = True,
        refusal_level: int = logging.INFO,
        repeat_window: float = REPEAT_WINDOW,
    ) -> None:
        """``refusal_level``: where refusals are logged; DEBUG when the request log line
        (which names the decision and its reason) already says it, so each is said once.
        ``repeat_window``: seconds a refusal's line stands for the same refusals after it."""
        self.sink = sink
        self.repeats = _Repeats(repeat_window)
        self.record_allowed = record_allowed
        self._tally = sink.accepted if sink is not None and record_allowed else None
        """Where an accepted request goes (None: nowhere): looked up once, not per request."""
        self.refusal_level = refusal_level
        self._recorded: dict[tuple[bool, int, str, str], int] = {}
        """Decisions recorded one by one (refusals, and any off the hot path), by
        (allowed, status, reason code, source)."""
        self._accepted: dict[str, int] = {}
        """Accepted requests by source (provider or local method): one string key to count
        by on every request."""

    @property
    def counts(self) -> dict[tuple[bool, int, str, str], int]:
        """Decisions by (allowed, status, reason code, provider or local method)."""
        counts = dict(self._recorded)
        for source, count in self._accepted.items():
            key = (True, 200, "authenticated", source)
            counts[key] = counts.get(key, 0) + count
        return counts

    def accepted(self, method: str, path: str, client: str | None, principal: Principal) -> None:
        """The hot path: count; log only at DEBUG; hand to the sink when asked to."""
        source = principal.provider or principal.method
        accepted = self._accepted
        accepted[source] = accepted.get(source, 0) + 1
        if log.isEnabledFor(_DEBUG):
            log.debug(
                "allow %s %s user=%s provider=%s via=%s",
                method,
                path,
                principal.username,
                principal.provider or "-",
                principal.method,
            )
        tally = self._tally
        if tally is not None:
            tally(principal, method, path, client)

    def record(self, decision: Decision) -> None:
        """A refusal (or any decision made off the hot path)."""
        source = decision.provider or decision.auth_method or "none"
        key = (decision.allowed, decision.status, decision.code, source)
        self._recorded[key] = self._recorded.get(key, 0) + 1
        level = logging.DEBUG if decision.allowed else self.refusal_level
        if log.isEnabledFor(level) and (
            decision.allowed or not self.repeats.counted(decision, level)
        ):
            # Written without a log record under serve's configuration (write_line).
            write_line(log, level, _line(decision), {}, "record")
        if self.sink is not None:
            self.sink.submit(decision)


def _line(decision: Decision) -> str:
    """What the audit logger says of ``decision`` (never the token: its fingerprint)."""
    return (
        f"{'allow' if decision.allowed else 'deny'} {decision.method} {decision.path} -> "
        f"{decision.status} {decision.reason} user={decision.username or '-'} "
        f"provider={decision.provider or '-'} via={decision.auth_method or '-'} "
        f"token={decision.fingerprint or '-'} client={decision.client or '-'}"
    )
