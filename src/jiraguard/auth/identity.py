"""Step 3 of the request path: from what a provider vouched for to a Jira user.

The username is read at the provider's ``username_attribute`` — a dotted path into the claims
or the provider's JSON answer, with fallbacks tried in order — and looked up in the user
directory (case-insensitively, as Jira does). An unknown or disabled user is an invalid token,
unless ``create_users`` lets jiraguard create the user from the claims.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jiraguard.auth.errors import InvalidToken
from jiraguard.auth.principal import Principal
from jiraguard.auth.validators.base import ValidatedToken
from jiraguard.store.users import UserDirectory, UserExists, UserRecord

_CLIENT_ID_CLAIMS = ("client_id", "azp", "cid", "appid")


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` (``realm_access.roles``); None when absent.

    A key that itself contains dots (``https://example.com/username``) is matched whole first.
    """
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def username_from(claims: Mapping[str, Any], attributes: Iterable[str]) -> str | None:
    """The first non-empty string (or integer, like GitHub's ids) at one of ``attributes``."""
    for attribute in attributes:
        value = claim_at(claims, attribute)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def scopes_from(claims: Mapping[str, Any]) -> frozenset[str]:
    """Scopes from ``scope`` (RFC 8693 §4.2, space-separated) or ``scp`` (string or list)."""
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            return frozenset(value.split())
        if isinstance(value, list):
            return frozenset(v for v in value if isinstance(v, str))
    return frozenset()


def client_id_from(claims: Mapping[str, Any]) -> str | None:
    for name in _CLIENT_ID_CLAIMS:
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


class IdentityMapper:
    """Maps validated tokens to principals through the user directory."""

    def __init__(self, users: UserDirectory, *, create_users: bool) -> None:
        self.users = users
        self.create_users = create_users

    async def principal(self, validated: ValidatedToken) -> Principal:
        provider = validated.provider
        username = username_from(validated.claims, provider.username_attribute)
        if username is None:
            attributes = ", ".join(provider.username_attribute)
            raise InvalidToken(f"The token carries no username (looked for {attributes})")
        user = await self.users.get(username)
        if user is None and self.create_users:
            user = await self._create(username, validated.claims)
        if user is None:
            raise InvalidToken(f"No Jira user is named {username}")
        if not user.active:
            raise InvalidToken(f"The Jira user {user.name} is disabled")
        return Principal(
            username=user.name,
            key=user.key,
            display_name=user.display_name,
            email=user.email,
            groups=user.groups,
            scopes=scopes_from(validated.claims),
            method=validated.method,
            provider=provider.name,
            client_id=client_id_from(validated.claims),
            expires_at=validated.expires_at,
        )

    async def _create(self, username: str, claims: Mapping[str, Any]) -> UserRecord | None:
        name = claims.get("name")
        email = claims.get("email")
        try:
            return await self.users.add(
                username,
                display_name=name if isinstance(name, str) and name else username,
                email=email if isinstance(email, str) else "",
            )
        except UserExists:  # created by a concurrent request
            return await self.users.get(username)
