"""Which provider checks a token.

* A token shaped like a JWT whose ``iss`` is the issuer of a configured ``jwt`` provider goes
  to that provider only. Its signature, not its ``iss``, is what is trusted: ``iss`` only picks
  the keys to check it with.
* Every other token (opaque, or a JWT from an issuer no ``jwt`` provider names) is tried
  against the ``introspection`` and ``userinfo`` providers in the order they are configured.
  The first that accepts it wins. If none accepts it and one of them could not be reached,
  the answer is 503 (we could not decide), otherwise 401.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from jiraguard.auth.discovery import ProviderMetadata
from jiraguard.auth.errors import InvalidToken, ProviderUnavailable
from jiraguard.auth.provider_http import ProviderClients
from jiraguard.auth.validators.base import KeySet, TokenValidator, ValidatedToken
from jiraguard.auth.validators.introspection import IntrospectionValidator
from jiraguard.auth.validators.jwks import JWKSKeys, KeySource, StaticKey
from jiraguard.auth.validators.jwt import MAX_SEGMENT_BYTES, JWTValidator
from jiraguard.auth.validators.userinfo import UserinfoValidator
from jiraguard.settings import AuthSettings, ProviderSettings
from jiraguard.telemetry import Telemetry
from jiraguard.untrusted import base64url, load_json


def peek_issuer(token: str) -> str | None:
    """The unverified ``iss`` of a token shaped like a JWT (RFC 7519 §7.2), else None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = load_json(base64url(parts[1]), max_bytes=MAX_SEGMENT_BYTES)
    except ValueError:  # UntrustedInput (alphabet, depth, size, numbers) included
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) else None


@dataclass(frozen=True, slots=True)
class ProviderState:
    """A provider's health as this process knows it, from what it already holds: never a
    provider call (``/readyz``, ``/metrics`` and the status page read it)."""

    name: str
    method: str
    ready: bool
    detail: str
    """``ok...``, or what is wrong, in words for an operator."""
    keys: KeySet | None = None
    """The fetched signing keys' state, for providers that fetch a key set."""


@dataclass(slots=True)
class Attempt:
    """One provider's verdict on a token, for ``check-token`` and the admin test page."""

    provider: str
    method: str
    outcome: Literal["accepted", "rejected", "unavailable"]
    reason: str = ""
    claims: Mapping[str, Any] = field(default_factory=dict)


def build_validator(
    provider: ProviderSettings, auth: AuthSettings, client: httpx.AsyncClient
) -> TokenValidator:
    """The validator for one configured provider."""
    metadata = ProviderMetadata(provider, client)
    if provider.method == "introspection":
        return IntrospectionValidator(provider, metadata, client)
    if provider.method == "userinfo":
        return UserinfoValidator(provider, metadata, client)
    keys: KeySource
    if provider.public_key or provider.hmac_secret:
        secret = provider.hmac_secret.get_secret_value() if provider.hmac_secret else None
        keys = StaticKey(pem=provider.public_key, secret=secret)
    else:
        keys = JWKSKeys(
            metadata,
            client,
            refresh_interval=auth.jwks_refresh_interval,
            min_refresh_interval=auth.jwks_min_refresh_interval,
        )
    return JWTValidator(provider, keys, client)


class ProviderRouter:
    """Routes each token to the provider(s) that may check it (rule in the module doc)."""

    def __init__(
        self,
        validators: Sequence[TokenValidator],
        auth: AuthSettings | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.validators = list(validators)
        self.auth = auth
        """The settings the validators were built with (None: built by hand)."""
        self.telemetry = telemetry
        self._by_issuer: dict[str, TokenValidator] = {}
        self._undiscovered: list[JWTValidator] = []
        for validator in validators:
            if isinstance(validator, JWTValidator):
                self._by_issuer.update(dict.fromkeys(validator.issuers, validator))
                if validator.undiscovered:
                    self._undiscovered.append(validator)
        self._opaque = [v for v in validators if v.provider.method != "jwt"]
        self._discovering = asyncio.Lock()
        self._discovery_outage: ProviderUnavailable | None = None
        self._retry_discovery_at = 0.0

    @classmethod
    def from_settings(
        cls,
        providers: Sequence[ProviderSettings],
        auth: AuthSettings,
        client: httpx.AsyncClient | ProviderClients,
        *,
        previous: ProviderRouter | None = None,
        telemetry: Telemetry | None = None,
    ) -> ProviderRouter:
        """Validators for the enabled ``providers``, each calling its provider through
        ``client`` (or the client of ``ProviderClients`` that trusts its CA bundle); those of
        ``previous`` whose settings are unchanged are kept, with the keys and metadata they
        already fetched."""
        kept = previous.validators if previous is not None and previous.auth == auth else []
        validators = []
        for provider in providers:
            if provider.enabled:
                same = next((v for v in kept if v.provider == provider), None)
                http = (
                    client.for_provider(provider, auth)
                    if isinstance(client, ProviderClients)
                    else client
                )
                validators.append(same or build_validator(provider, auth, http))
        return cls(validators, auth, telemetry)

    def routes_to_jwt(self, token: str) -> bool:
        """Whether ``token`` is a JWT whose ``iss`` names a configured ``jwt`` provider."""
        issuer = peek_issuer(token)
        return issuer is not None and issuer in self._by_issuer

    def candidates(self, token: str) -> list[TokenValidator]:
        issuer = peek_issuer(token)
        jwt_provider = self._by_issuer.get(issuer) if issuer is not None else None
        return [jwt_provider] if jwt_provider is not None else self._opaque

    async def _discover(self, issuer: str) -> None:
        """Read the ``issuer_discovery`` documents not read yet (once, whoever asks first),
        when a token names an issuer not known yet. If one could not be read and ``issuer``
        is still unknown, the answer is 503: that provider might have accepted it."""
        async with self._discovering:
            if time.monotonic() < self._retry_discovery_at and self._discovery_outage:
                outage: ProviderUnavailable | None = self._discovery_outage
                self._undiscovered_fail(issuer, outage)
                return
            outage = None
            for validator in list(self._undiscovered):
                try:
                    issuers = await validator.discover_issuers()
                except ProviderUnavailable as exc:
                    exc.provider = exc.provider or validator.provider.name
                    if self.telemetry is not None:
                        self.telemetry.outages.failed(validator.provider.name, exc)
                    outage = outage or exc
                    continue
                self._by_issuer.update(dict.fromkeys(issuers, validator))
                self._undiscovered.remove(validator)
            self._discovery_outage = outage
            if outage is not None:  # not asked again before then, whatever tokens arrive
                retry = self.auth.jwks_min_refresh_interval if self.auth is not None else 10.0
                self._retry_discovery_at = time.monotonic() + retry
        self._undiscovered_fail(issuer, outage)

    def _undiscovered_fail(self, issuer: str, outage: ProviderUnavailable | None) -> None:
        if outage is not None and issuer not in self._by_issuer:
            # Each request's own: the kept outage raised again would carry the tracebacks of
            # every request it was raised in before (their frames kept with it, growing
            # until the retry), and the challenge scheme the last of them set on it.
            raise ProviderUnavailable(outage.description, url=outage.url, provider=outage.provider)

    async def validate(self, token: str, trace: list[Attempt] | None = None) -> ValidatedToken:
        if self._undiscovered:
            issuer = peek_issuer(token)
            if issuer is not None and issuer not in self._by_issuer:
                await self._discover(issuer)
        candidates = self.candidates(token)
        if not candidates:
            if peek_issuer(token) is not None:
                # Not echoed: the value is the caller's; check-token and the admin UI show it.
                raise InvalidToken("No provider is configured for the token's issuer (iss)")
            raise InvalidToken("No configured provider accepts tokens like this one")
        rejection: InvalidToken | None = None
        outage: ProviderUnavailable | None = None
        for validator in candidates:
            provider = validator.provider
            started = time.perf_counter()
            try:
                validated = await validator.validate(token)
            except InvalidToken as exc:
                self._observe(provider, "rejected", started)
                rejection = rejection or exc
                if trace is not None:
                    trace.append(
                        Attempt(provider.name, provider.method, "rejected", exc.description)
                    )
            except ProviderUnavailable as exc:
                if exc.provider is None:
                    exc.provider = provider.name
                self._observe(provider, "unavailable", started)
                if self.telemetry is not None:
                    self.telemetry.outages.failed(provider.name, exc)
                outage = outage or exc
                if trace is not None:
                    trace.append(
                        Attempt(provider.name, provider.method, "unavailable", exc.description)
                    )
            else:
                self._observe(provider, "accepted", started)
                if self.telemetry is not None:
                    self.telemetry.outages.recovered(provider.name)
                if trace is not None:
                    trace.append(
                        Attempt(provider.name, provider.method, "accepted", claims=validated.claims)
                    )
                return validated
        error = outage or rejection
        assert error is not None
        # Raised with no local still naming it: the traceback holds this frame, and a frame
        # holding its own exception is a cycle only the garbage collector frees (some forty
        # objects a refused token, collected a gen-0 pass at a time).
        del outage, rejection
        try:
            raise error
        finally:
            del error

    def states(self, now: float | None = None) -> list[ProviderState]:
        """Per provider, in configuration order.

        A provider with a fetched key set fails once a fetch was attempted and no keys are
        held (unreachable since start-up; held keys keep working through an outage). Before
        the first token nothing was attempted, so it is ready. Other providers are asked on
        the request path: one fails while its last answer was "unavailable" (requests with
        such tokens get 503), until a check succeeds again.
        """
        now = time.time() if now is None else now
        last_checks = self.telemetry.last_check if self.telemetry is not None else {}
        states = []
        for validator in self.validators:
            provider = validator.provider
            keys = validator.key_set()
            if keys is not None:
                if keys.age is not None:
                    ready, detail = True, "ok"
                elif keys.fetches == 0:
                    ready, detail = True, "ok (keys not fetched yet)"
                else:
                    ready, detail = False, "no signing keys: the JWKS could not be fetched"
            else:
                last = last_checks.get(provider.name)
                if last is None:
                    ready, detail = True, "ok (not asked yet)"
                elif last[0] == "unavailable":
                    ago = max(0, int(now - last[1]))
                    ready = False
                    detail = f"unreachable: the last token check could not reach it ({ago} s ago)"
                else:
                    ready, detail = True, "ok"
            states.append(ProviderState(provider.name, provider.method, ready, detail, keys))
        return states

    def _observe(self, provider: ProviderSettings, outcome: str, started: float) -> None:
        if self.telemetry is not None:
            elapsed = time.perf_counter() - started
            self.telemetry.validation.observe((provider.method, outcome), elapsed)
            self.telemetry.last_check[provider.name] = (outcome, time.time())
            if outcome == "unavailable":
                self.telemetry.provider_errors.labels(provider.name).inc()
