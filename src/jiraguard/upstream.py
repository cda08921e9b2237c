"""Talking to the upstream Jira: what a sender promises and how it can fail.

The gateway's connection pool (:class:`jiraguard.proxy.UpstreamPool`) forwards client
requests and also asks Jira questions of jiraguard's own: whom a Jira credential belongs to
(:mod:`jiraguard.auth.jira_credentials`) and whether Jira knows a user
(:mod:`jiraguard.proxy.known_users`). Those callers see only :class:`Upstream` and the
errors below, never the HTTP library under the pool.
"""

from __future__ import annotations

from typing import Protocol

RawHeaders = list[tuple[bytes, bytes]]

MAX_ANSWER_BYTES = 1024 * 1024
"""Largest answer to a question of jiraguard's own (a user with very many groups stays far
below)."""


class UpstreamError(Exception):
    """Jira could not be reached, refused the connection, or broke off its answer."""


class UpstreamTimeout(UpstreamError):
    """Jira did not connect or answer within the configured timeouts."""


class AnswerTooLarge(UpstreamError):
    """Jira's answer to a question of ours is larger than :data:`MAX_ANSWER_BYTES`."""


class Upstream(Protocol):
    """Whatever sends jiraguard's own requests to Jira (the gateway's connection pool)."""

    async def ask(
        self, method: str, url: str, headers: RawHeaders, seconds: float
    ) -> tuple[int, bytes]:
        """Send one bodiless request to the absolute ``url``: Jira's status and body (at most
        :data:`MAX_ANSWER_BYTES`) within ``seconds``. :class:`UpstreamError` when Jira could
        not answer."""
        ...
