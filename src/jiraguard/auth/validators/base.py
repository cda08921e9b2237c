"""The contract every token validator keeps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from jiraguard.settings import ProviderSettings


@dataclass(frozen=True, slots=True)
class ValidatedToken:
    """What a provider vouched for: the claims (or the provider's JSON answer) of a token."""

    provider: ProviderSettings
    method: str
    claims: Mapping[str, Any]
    expires_at: float | None = None
    """Unix time the token stops being valid, when the provider says."""
    header: Mapping[str, Any] = field(default_factory=dict)
    """The JWT header, for JWTs."""


@dataclass(frozen=True, slots=True)
class KeySet:
    """What a validator holds of its provider's published signing keys."""

    fetches: int
    """Fetch attempts since start."""
    age: float | None
    """Seconds since the last successful fetch; None while none has succeeded."""


class TokenValidator(Protocol):
    """Checks tokens for one configured provider.

    ``validate`` returns the token's claims, or raises
    :class:`~jiraguard.auth.errors.InvalidToken` when the token is bad and
    :class:`~jiraguard.auth.errors.ProviderUnavailable` when it could not be checked.
    """

    provider: ProviderSettings

    async def validate(self, token: str) -> ValidatedToken: ...

    def key_set(self) -> KeySet | None:
        """The provider's key set as held here; None when the validator fetches none (a
        static key, or a method that asks the provider about every token)."""
        ...
