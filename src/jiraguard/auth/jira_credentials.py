"""Jira's own credentials, checked by asking Jira (``[upstream] pass_jira_credentials``).

In gateway mode a script may keep calling with a Jira personal access token, or a break-glass
administrator with a Basic login that ``auth`` exempts. Such a credential is shown to Jira
itself, ``GET /rest/api/2/myself?expand=groups`` with the credential's own
``Authorization``: 200 names the user (cached like an introspection answer, by the
credential's SHA-256), 401 or 403 means Jira refuses it (401), anything else means Jira could
not tell us (503). The gateway then forwards the request with that ``Authorization``
unchanged, so Jira decides as it always did; the access rules, rate limits and audit apply
to the caller as to everyone else.
"""

from __future__ import annotations

import json
from typing import Any

from jiraguard.auth.errors import InvalidToken, ProviderUnavailable
from jiraguard.auth.principal import Principal
from jiraguard.upstream import Upstream, UpstreamError

METHOD = "jira"
"""The :attr:`Principal.method` of a caller that Jira's own credentials identified: the
gateway forwards its ``Authorization`` unchanged (and never a provider token's)."""


class JiraCredentials:
    """Asks the upstream Jira whom an ``Authorization`` value belongs to."""

    def __init__(self, upstream: Upstream, base_url: str, timeout: float) -> None:
        """``base_url``: the upstream Jira with its context path (``upstream.url``)."""
        self.upstream = upstream
        self.url = base_url.rstrip("/") + "/rest/api/2/myself?expand=groups"
        self.timeout = timeout

    async def principal(self, authorization: bytes) -> Principal:
        """The user Jira says the credential belongs to; InvalidToken when Jira refuses it,
        ProviderUnavailable when Jira could not be asked."""
        headers = [(b"authorization", authorization), (b"accept", b"application/json")]
        try:
            status, body = await self.upstream.ask("GET", self.url, headers, self.timeout)
        except UpstreamError as exc:
            raise ProviderUnavailable(f"Jira could not be asked ({type(exc).__name__})") from exc
        if status in (401, 403):
            raise InvalidToken("Jira does not accept these credentials")
        if status != 200:
            raise ProviderUnavailable(f"Jira answered HTTP {status} about the caller")
        return _principal(body)


def _principal(body: bytes) -> Principal:
    try:
        user: Any = json.loads(body)
    except ValueError as exc:
        raise ProviderUnavailable("Jira's answer about the caller is not JSON") from exc
    name = user.get("name") if isinstance(user, dict) else None
    if not isinstance(name, str) or not name:
        raise ProviderUnavailable("Jira's answer about the caller names no user")
    groups = user.get("groups", {})
    items = groups.get("items", []) if isinstance(groups, dict) else []
    return Principal(
        username=name,
        key=_text(user, "key") or name,
        display_name=_text(user, "displayName") or name,
        email=_text(user, "emailAddress"),
        groups=frozenset(
            g["name"] for g in items if isinstance(g, dict) and isinstance(g.get("name"), str)
        ),
        method=METHOD,
    )


def _text(user: dict[str, Any], key: str) -> str:
    value = user.get(key)
    return value if isinstance(value, str) else ""
