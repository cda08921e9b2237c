"""Who a request runs as once its credentials are accepted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from jiraguard.store.users import UserRecord

ADMIN_GROUP = "jira-administrators"
"""Members of this group are Jira administrators, like users with the ``admin`` flag."""


def fingerprint(secret: str) -> str:
    """SHA-256 hex digest of a token: what caches, logs and audit records carry instead, and
    the only form the store keeps of a personal access token (a fast hash is enough there:
    the token carries 256 random bits, so there is nothing to brute-force)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated Jira user, immutable so one instance can be cached and shared."""

    username: str
    """The Jira user name (``name`` in Jira's user JSON)."""
    key: str
    """The Jira user key (``key``), stable across renames."""
    display_name: str
    email: str
    groups: frozenset[str] = frozenset()
    """Jira group names of the user."""
    scopes: frozenset[str] = frozenset()
    """OAuth scopes granted to the token (empty for local credentials)."""
    method: str = "jwt"
    """How the credentials were checked: jwt, introspection, userinfo or basic."""
    provider: str | None = None
    """The configured provider that accepted the token; None for local credentials."""
    client_id: str | None = None
    """The OAuth client the token was issued to, when the provider says."""
    expires_at: float | None = field(default=None, compare=False)
    """Unix time after which the credentials are no longer valid, when known."""
    fingerprint: str | None = field(default=None, compare=False)
    """First 16 hex digits of the token's SHA-256, for audit records."""
    token_id: str | None = None
    """The personal access token's id, when one was used."""
    admin: bool = False
    """The user's ``admin`` flag in the directory."""
    jkt: str | None = None
    """DPoP (RFC 9449): the thumbprint (RFC 7638) of the key the token is bound to
    (``cnf.jkt``); every request must then carry a proof signed with that key."""
    x5t: str | None = None
    """RFC 8705: the SHA-256 thumbprint of the client certificate the token is bound to
    (``cnf.x5t#S256``); every request must come over a connection with that certificate."""
    acr: str | None = None
    """The token's authentication context class (``acr``), for step-up rules (RFC 9470)."""
    amr: frozenset[str] = frozenset()
    """The token's authentication methods (``amr``), e.g. ``pwd``, ``mfa``."""
    auth_time: float | None = None
    """Unix time the user last authenticated (``auth_time``), when the token says."""
    checked_at: float = field(default=0.0, compare=False)
    """Unix time the credentials were checked: a cached principal checked before a change
    that concerns it (see :class:`~jiraguard.auth.fences.Fences`) is checked again."""

    @classmethod
    def of(cls, user: UserRecord, *, method: str, **details: Any) -> Principal:
        """The principal of a directory user, checked by ``method``."""
        return cls(
            username=user.name,
            key=user.key,
            display_name=user.display_name,
            email=user.email,
            groups=user.groups,
            method=method,
            admin=user.admin,
            **details,
        )

    @property
    def is_administrator(self) -> bool:
        """Jira administrators: the ``admin`` flag, or membership of ``jira-administrators``."""
        return self.admin or any(g.lower() == ADMIN_GROUP for g in self.groups)

    @property
    def is_authenticated(self) -> bool:
        return True
