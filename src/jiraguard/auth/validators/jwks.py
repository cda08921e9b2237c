"""Signing keys for local JWT validation: a provider's JWKS, or one configured key.

The key set is fetched on first use and kept. It is fetched again after
``jwks_refresh_interval``; when that fails, the keys already held stay in use, so a provider
outage does not stop tokens it signed earlier. A token naming a ``kid`` we do not hold makes
one refetch (key rotation), at most once per ``jwks_min_refresh_interval``, so a flood of
forged ``kid`` values cannot turn into a flood of requests to the provider.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from jiraguard.auth.discovery import ProviderMetadata
from jiraguard.auth.errors import InvalidToken, ProviderUnavailable
from jiraguard.auth.provider_http import get_json
from jiraguard.auth.validators.base import KeySet

log = logging.getLogger(__name__)

_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}


def key_fits(key: Any, alg: str) -> bool:
    """Whether ``key`` is of the type ``alg`` needs (no RSA key for ES256, no key for HS*)."""
    if alg.startswith(("RS", "PS")):
        return isinstance(key, rsa.RSAPublicKey)
    if alg in _CURVES:
        return isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, _CURVES[alg])
    if alg == "EdDSA":
        return isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)
    return False


@dataclass(frozen=True, slots=True)
class _Key:
    key: Any
    alg: str | None


class KeySource(Protocol):
    async def key(self, kid: str | None, alg: str) -> Any:
        """The verification key for a token's ``kid`` and ``alg``, or InvalidToken."""
        ...

    def key_set(self) -> KeySet | None:
        """The fetched key set's state (None for a configured key)."""
        ...


class StaticKey:
    """One configured PEM public key or HMAC secret."""

    def __init__(self, *, pem: str | None = None, secret: str | None = None) -> None:
        self._pem = load_pem_public_key(pem.encode()) if pem else None
        self._secret = secret.encode() if secret else None
        self._fits: dict[str, bool] = {}
        """:func:`key_fits` by algorithm (of the provider's allow-list), worked out once: its
        abstract-class tests took longer than the rest of finding the key."""

    async def key(self, kid: str | None, alg: str) -> Any:
        if alg.startswith("HS"):
            if self._secret is None:
                raise InvalidToken("The token's algorithm is not accepted")
            return self._secret
        fits = self._fits.get(alg)
        if fits is None:
            fits = self._fits[alg] = self._pem is not None and key_fits(self._pem, alg)
        if not fits:
            raise InvalidToken("The token's algorithm does not fit the configured key")
        return self._pem

    def key_set(self) -> KeySet | None:
        return None


class JWKSKeys:
    """A provider's JSON Web Key Set (RFC 7517), cached and refreshed as described above."""

    def __init__(
        self,
        metadata: ProviderMetadata,
        client: httpx.AsyncClient,
        *,
        refresh_interval: float,
        min_refresh_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.metadata = metadata
        self.client = client
        self.refresh_interval = refresh_interval
        self.min_refresh_interval = min_refresh_interval
        self.clock = clock
        self._by_kid: dict[str | None, list[_Key]] = {}
        self._found: dict[tuple[str | None, str], Any] = {}
        """Keys already found for a ``kid`` and ``alg`` in this key set (never a miss: a token
        can name any ``kid``). The type checks behind a find are slow abstract-class tests."""
        self.fetched_at: float | None = None
        self._attempted_at = float("-inf")
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key(self, kid: str | None, alg: str) -> Any:
        now = self.clock()
        if self.fetched_at is None:
            await self._refresh(now, keep_on_failure=False)
        elif now - self.fetched_at >= self.refresh_interval:
            await self._refresh(now, keep_on_failure=True)
        found = self._find(kid, alg)
        if found is None and now - self._attempted_at >= self.min_refresh_interval:
            await self._refresh(now, keep_on_failure=False)
            found = self._find(kid, alg)
        if found is None:
            raise InvalidToken("The token is signed with a key the provider does not publish")
        return found

    async def load(self) -> int:
        """Fetch the key set now (``config check``); the number of usable signing keys."""
        await self._refresh(self.clock(), keep_on_failure=False)
        return sum(len(keys) for keys in self._by_kid.values())

    def key_set(self) -> KeySet:
        age = None if self.fetched_at is None else max(0.0, self.clock() - self.fetched_at)
        return KeySet(self.fetches, age)

    def _find(self, kid: str | None, alg: str) -> Any:
        found = self._found.get((kid, alg))
        if found is None:
            found = self._search(kid, alg)
            if found is not None:
                self._found[(kid, alg)] = found
        return found

    def _search(self, kid: str | None, alg: str) -> Any:
        candidates = self._by_kid.get(kid, [])
        if kid is None and not candidates:
            # No kid in the token: acceptable only when exactly one key could fit.
            every = [k for keys in self._by_kid.values() for k in keys]
            candidates = [k for k in every if key_fits(k.key, alg)]
            if len(candidates) != 1:
                return None
        for candidate in candidates:
            # RFC 7517 §4.4: a key that names its alg is for that alg only.
            if key_fits(candidate.key, alg) and candidate.alg in (None, alg):
                return candidate.key
        return None

    async def _refresh(self, started: float, *, keep_on_failure: bool) -> None:
        async with self._lock:
            if self._attempted_at >= started:  # another request refreshed meanwhile
                return
            self._attempted_at = self.clock()
            try:
                self._by_kid, self._found = self._parse(await self._fetch()), {}
                self.fetched_at = self.clock()
            except ProviderUnavailable:
                if not (keep_on_failure and self._by_kid):
                    raise
                log.warning(
                    "could not refresh the keys of provider %s; keeping the old ones",
                    self.metadata.provider.name,
                )

    async def _fetch(self) -> dict[str, Any]:
        self.fetches += 1
        url = await self.metadata.endpoint("jwks_uri")
        return await get_json(self.client, url, "the JWKS endpoint")

    def _parse(self, document: dict[str, Any]) -> dict[str | None, list[_Key]]:
        entries = document.get("keys")
        if not isinstance(entries, list):
            raise ProviderUnavailable("the JWKS document has no keys list")
        keys: dict[str | None, list[_Key]] = {}
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            if entry.get("kty") == "oct":
                continue  # symmetric keys are never taken from a key set
            try:
                parsed = jwt.PyJWK(entry)
            except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError):
                continue  # an unusable key is skipped, the others still serve
            kid = entry.get("kid")
            alg = entry.get("alg")
            key = _Key(parsed.key, alg if isinstance(alg, str) else None)
            keys.setdefault(kid if isinstance(kid, str) else None, []).append(key)
        if not keys:
            raise ProviderUnavailable("the JWKS document has no usable signing keys")
        return keys
