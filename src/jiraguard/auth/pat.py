"""Personal access tokens: issuing, listing and revoking them (Jira Data Center's PAT model).

A token is ``tokens.prefix`` followed by 32 random bytes in base64url (256 bits), so it is
recognisable at a glance and by the request path, which never shows it to a provider. Only
its SHA-256 is stored; the token itself exists once, in the answer to whoever created it.
Every change is written to the audit log (kind ``token``) in the same transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jiraguard.auth.principal import fingerprint
from jiraguard.settings import TokenSettings
from jiraguard.store.db import Database
from jiraguard.store.tokens import NoSuchUser, TokenRecord, TokenStore, TooManyTokens

MAX_NAME_LENGTH = 255


def generate_token(prefix: str) -> str:
    """A new token: ``prefix`` + base64url of 32 bytes from the OS CSPRNG (256 bits)."""
    return prefix + secrets.token_urlsafe(32)


def utcnow() -> datetime:
    return datetime.now(UTC)


class TokenRequestError(Exception):
    """A create request the limits refuse (400, naming the limit)."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a change came from, for its audit record."""

    method: str
    path: str
    client_ip: str | None = None
    auth_method: str | None = None
    provider: str | None = None
    fingerprint: str | None = None


CLI = Origin(method="CLI", path="jiraguard token")
CLI_ACTOR = "the command line"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token just created: the only object that ever holds the raw token."""

    record: TokenRecord
    raw: str


class PersonalAccessTokens:
    """The rules around tokens (limits, lifetimes, audit) on top of :class:`TokenStore`."""

    def __init__(
        self,
        db: Database,
        settings: TokenSettings,
        *,
        audit: bool = True,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = TokenStore(db)
        self.settings = settings
        self.audit = audit
        self.clock = clock

    def lifetime(self, days: int | None) -> timedelta:
        """The lifetime for a requested ``expirationDuration``; TokenRequestError past limits."""
        if days is None:
            return timedelta(days=min(self.settings.default_lifetime_days, self._max_days))
        if days < 1:
            raise TokenRequestError("expirationDuration must be at least 1 day.")
        if days > self._max_days:
            raise TokenRequestError(
                f"expirationDuration must not exceed {self._max_days} days "
                "(tokens.max_lifetime_days)."
            )
        return timedelta(days=days)

    @property
    def _max_days(self) -> int:
        return self.settings.max_lifetime_days

    async def create(
        self, username: str, name: str, days: int | None, *, actor: str, origin: Origin
    ) -> IssuedToken:
        """Issue a token for ``username``; raises TokenRequestError or NoSuchUser."""
        name = name.strip()
        if not name:
            raise TokenRequestError("A token needs a name.")
        if len(name) > MAX_NAME_LENGTH:
            raise TokenRequestError(f"A token name has at most {MAX_NAME_LENGTH} characters.")
        lifetime = self.lifetime(days)
        raw = generate_token(self.settings.prefix)
        now = self.clock()
        event = self._event(
            origin, 201, f"created personal access token {{id}} '{name}' for {{owner}} by {actor}"
        )
        try:
            record = await self.store.create(
                username,
                name=name,
                token_hash=fingerprint(raw),  # the only form the store keeps
                created_at=now,
                expires_at=now + lifetime,
                max_per_user=self.settings.max_per_user,
                event=event,
            )
        except TooManyTokens as exc:
            raise TokenRequestError(
                f"{exc} Revoke one first (tokens.max_per_user = {exc.limit})."
            ) from exc
        return IssuedToken(record, raw)

    async def list(self, username: str | None = None) -> Sequence[TokenRecord]:
        return await self.store.list(username)

    async def revoke(
        self, token_id: int, *, actor: str, origin: Origin, owner: str | None = None
    ) -> TokenRecord | None:
        """Revoke a live token (only ``owner``'s, when given); None when there is none."""
        event = self._event(
            origin, 204, f"revoked personal access token {{id}} of {{owner}} by {actor}"
        )
        return await self.store.revoke(token_id, at=self.clock(), owner=owner, event=event)

    def _event(self, origin: Origin, status: int, reason: str) -> dict[str, Any] | None:
        if not self.audit:
            return None
        return {
            "at": self.clock(),
            "kind": "token",
            "allowed": True,
            "status": status,
            "reason": reason,
            "method": origin.method,
            "path": origin.path,
            "client_ip": origin.client_ip,
            "provider": origin.provider,
            "auth_method": origin.auth_method,
            "fingerprint": origin.fingerprint,
        }


__all__ = [
    "CLI",
    "CLI_ACTOR",
    "IssuedToken",
    "NoSuchUser",
    "Origin",
    "PersonalAccessTokens",
    "TokenRequestError",
    "generate_token",
]
