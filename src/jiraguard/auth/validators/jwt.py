"""Local JWT validation (RFC 7519, RFC 9068) with PyJWT.

Everything that decides whether a token is trusted comes from configuration, never from the
token: the algorithm allow-list, the issuer, the audience, the key. ``none`` cannot be
configured; HMAC needs its own secret and cannot be mixed with public-key algorithms; ``jku``,
``x5u``, ``x5c`` and embedded ``jwk`` headers are never read.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import httpx
import jwt
from jwt.algorithms import Algorithm

from jiraguard.auth.errors import InvalidToken, ProviderUnavailable
from jiraguard.auth.provider_http import get_json
from jiraguard.auth.validators.base import KeySet, ValidatedToken
from jiraguard.auth.validators.jwks import KeySource
from jiraguard.settings import ProviderSettings, safe_url
from jiraguard.untrusted import base64url, load_json

_MESSAGES: list[tuple[type[Exception], str]] = [
    (jwt.ExpiredSignatureError, "The access token expired"),
    (jwt.ImmatureSignatureError, "The access token is not valid yet"),
    (jwt.InvalidAudienceError, "The access token is not meant for this service (audience)"),
    (jwt.InvalidIssuerError, "The access token comes from an unexpected issuer"),
    (jwt.InvalidIssuedAtError, "The access token has an invalid iat claim"),
    (jwt.MissingRequiredClaimError, "The access token lacks a required claim"),
    (jwt.InvalidSignatureError, "The access token's signature does not verify"),
    (jwt.InvalidAlgorithmError, "The token's algorithm is not accepted"),
]


def _describe(exc: jwt.PyJWTError) -> str:
    for kind, message in _MESSAGES:
        if isinstance(exc, kind):
            if isinstance(exc, jwt.MissingRequiredClaimError):
                return f"{message}: {exc.claim}"
            return message
    return "The access token is malformed"


MAX_SEGMENT_BYTES = 16 * 1024
"""Largest decoded JOSE header or claims set read (the bearer parser caps tokens at 16 KiB)."""


class _SegmentReader(jwt.api_jws.PyJWS):
    """PyJWS, its segments read by :func:`~jiraguard.untrusted.base64url`: the same bytes
    and the same refusals (``tests/fuzz``), in C where PyJWT checks the alphabet one
    character at a time (about half of what ``jwt.decode`` took per token)."""

    @staticmethod
    def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
        try:
            return base64url(segment.decode("ascii"))
        except (UnicodeDecodeError, ValueError):  # UntrustedInput is a ValueError
            raise jwt.DecodeError(f"Invalid {name} padding") from None


class _Decoder(jwt.PyJWT):
    """``jwt.decode`` with :class:`_SegmentReader` and the claims read by
    :func:`~jiraguard.untrusted.load_json` (``_decode_payload`` is PyJWT's hook for how a
    payload is read); every check PyJWT makes of the header and the claims is its own."""

    def __init__(self) -> None:
        super().__init__()
        self._jws = _SegmentReader(options=self._get_sig_options())

    def _decode_payload(self, decoded: dict[str, Any]) -> dict[str, Any]:
        try:
            payload = load_json(decoded["payload"], max_bytes=MAX_SEGMENT_BYTES)
        except ValueError as exc:  # UntrustedInput is a ValueError
            raise jwt.DecodeError(f"Invalid payload string: {exc}") from None
        if not isinstance(payload, dict):
            raise jwt.DecodeError("Invalid payload string: must be a json object")
        return payload


_DECODER = _Decoder()
"""What checks a token's header and claims, once its signature verified."""

MAX_NUMERIC_DATE = 253402300799
"""9999-12-31T23:59:59Z: a NumericDate past it names no instant anything can compare to."""
_NUMERIC_DATES = ("exp", "nbf", "iat")
_STRINGS = ("iss", "sub", "jti", "client_id", "azp")


def _segment(token: str, index: int) -> Any:
    """Segment ``index`` of a compact JWS as JSON, read with :func:`load_json`'s bounds."""
    parts = token.split(".", 2)
    if len(parts) <= index:
        raise InvalidToken("The access token is malformed")
    try:
        return load_json(base64url(parts[index]), max_bytes=MAX_SEGMENT_BYTES)
    except ValueError as exc:  # UntrustedInput is a ValueError
        raise InvalidToken("The access token is malformed") from exc


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header of a compact JWS (RFC 7515 §7.1), parsed without checking anything.

    PyJWT's ``get_unverified_header`` decodes the whole token; on the hot path only the first
    segment is needed to pick the key.
    """
    header = _segment(token, 0)
    if not isinstance(header, dict):
        raise InvalidToken("The access token is malformed")
    return header


_HEADERS_KEPT = 256
"""Most JOSE headers :func:`token_header` keeps."""
_LONGEST_KEPT = 1024
"""Longest header segment it keeps (a provider's are under 200 characters)."""
_headers: dict[str, Mapping[str, Any]] = {}


def token_header(token: str) -> Mapping[str, Any]:
    """:func:`unverified_header`, read-only, kept by its segment: a provider's tokens share
    one header (its algorithm, type and key id), and so do the tokens of a flood forged from
    one, so each is read once. Bounded in number and length; a header that is refused is
    read again each time."""
    segment = token.partition(".")[0]
    header = _headers.get(segment)
    if header is None:
        header = MappingProxyType(unverified_header(token))
        if len(segment) <= _LONGEST_KEPT:
            if len(_headers) >= _HEADERS_KEPT:
                _headers.clear()
            _headers[segment] = header
    return header


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims set, bounded (:func:`~jiraguard.untrusted.load_json`) and with its
    registered claims of the right JSON type (:func:`check_claim_types`), before PyJWT (which
    would convert a string ``exp``, and recurse without a bound) reads it."""
    claims = _segment(token, 1)
    if not isinstance(claims, dict):
        raise InvalidToken("The access token is malformed")
    check_claim_types(claims)
    return claims


def check_claim_types(claims: dict[str, Any]) -> None:
    """RFC 7519 §4.1: ``exp``/``nbf``/``iat`` are NumericDates (JSON numbers, here within
    years 1970 to 9999), ``iss``/``sub``/``jti`` strings (and ``client_id``/``azp``, RFC 9068 and
    OpenID Connect), ``aud`` a string or an array of strings; else :class:`InvalidToken`."""
    for name in _NUMERIC_DATES:
        value = claims.get(name)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 <= value <= MAX_NUMERIC_DATE
        ):
            raise InvalidToken(f"The access token has an invalid {name} claim")
    for name in _STRINGS:
        if name in claims and not isinstance(claims[name], str):
            raise InvalidToken(f"The access token has an invalid {name} claim")
    audience = claims.get("aud")
    if "aud" in claims and not (
        isinstance(audience, str)
        or (isinstance(audience, list) and all(isinstance(a, str) for a in audience))
    ):
        raise InvalidToken("The access token has an invalid aud claim")


def _typ_matches(actual: Any, expected: str) -> bool:
    # RFC 9068 §4: "at+jwt"; media types may carry the "application/" prefix (RFC 7515 §4.1.9).
    if not isinstance(actual, str):
        return False
    normalised: str = actual.lower().removeprefix("application/")
    return normalised == expected.lower().removeprefix("application/")


async def discovered_issuer(client: httpx.AsyncClient, url: str) -> str:
    """The ``issuer`` a discovery document names (an https URL), else ProviderUnavailable."""
    document = await get_json(client, url, "the discovery document")
    issuer = document.get("issuer")
    if not isinstance(issuer, str) or not issuer.startswith("https://"):
        raise ProviderUnavailable("the discovery document names no https issuer", url=safe_url(url))
    return issuer


class JWTValidator:
    """Validates JWT access tokens of one provider locally."""

    method = "jwt"

    def __init__(
        self,
        provider: ProviderSettings,
        keys: KeySource,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        """``client`` reads the ``issuer_discovery`` documents, when the provider names any."""
        self.provider = provider
        self.keys = keys
        self.client = client
        self.issuers = [i for i in (provider.issuer, *provider.issuers) if i]
        """The accepted ``iss`` values: configured, then those discovered."""
        self.undiscovered = list(provider.issuer_discovery)
        self._algorithms = frozenset(provider.algorithms)
        self._audience = list(provider.audience) if provider.verify_audience else None
        self._client_ids = frozenset(provider.allowed_client_ids)
        self._verifiers: dict[str, Algorithm] = {
            alg: jwt.get_algorithm_by_name(alg) for alg in provider.algorithms
        }
        self._prepared: dict[str, tuple[Any, Any]] = {}
        """By algorithm: the key last used and PyJWT's ``prepare_key`` of it, whose
        abstract-class tests are not worth repeating for the same key object."""
        # The signature is checked first, by PyJWT's algorithm objects (below); PyJWT's decode
        # then checks the claims, as it would with verify_signature on.
        self._options: Any = {
            "verify_signature": False,
            "verify_exp": True,
            "verify_nbf": True,
            "verify_iat": True,
            "verify_sub": True,
            "verify_jti": True,
            "require": list(provider.required_claims),
            "verify_aud": provider.verify_audience,
            "verify_iss": bool(self.issuers or self.undiscovered),
        }

    async def discover_issuers(self) -> list[str]:
        """Read the ``issuer_discovery`` documents not read yet; their issuers are accepted
        from then on. :class:`ProviderUnavailable` (naming the URL) when one cannot be read."""
        while self.undiscovered:
            url = self.undiscovered[0]
            if self.client is None:
                raise ProviderUnavailable("no client to read the discovery document", url=url)
            issuer = await discovered_issuer(self.client, url)
            if issuer not in self.issuers:
                self.issuers.append(issuer)
            self.undiscovered.pop(0)
        return list(self.issuers)

    def key_set(self) -> KeySet | None:
        return self.keys.key_set()

    async def validate(self, token: str) -> ValidatedToken:
        header = token_header(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise InvalidToken("The token's algorithm is not accepted")
        if self.provider.token_type and not _typ_matches(
            header.get("typ"), self.provider.token_type
        ):
            raise InvalidToken(f"The token's type is not {self.provider.token_type}")
        kid = header.get("kid")
        key = await self.keys.key(kid if isinstance(kid, str) else None, alg)
        self._verify_signature(token, alg, key)
        unverified_claims(token)  # signed, so now worth reading
        try:
            claims: dict[str, Any] = _DECODER.decode(
                token,
                key,
                algorithms=[alg],
                audience=self._audience,
                issuer=self.issuers,
                leeway=self.provider.leeway,
                options=self._options,
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(_describe(exc)) from exc
        for claim, accepted in self.provider.required_claim_values.items():
            value = claims.get(claim)
            if not isinstance(value, str) or value not in accepted:
                raise InvalidToken(
                    f"The access token's {claim} claim is not an accepted value "
                    f"(accepted: {', '.join(accepted)})"
                )
        if self._client_ids:
            client = claims.get("client_id", claims.get("azp"))
            if client not in self._client_ids:
                raise InvalidToken("The access token was issued to a client that is not allowed")
        exp = claims.get("exp")
        return ValidatedToken(
            self.provider,
            self.method,
            claims,
            expires_at=float(exp) if isinstance(exp, int | float) else None,
            header=header,
        )

    def _verify_signature(self, token: str, alg: str, key: Any) -> None:
        """The JWS signature (RFC 7515 §5.2) with the key configured for ``alg``, before any
        claim is looked at: a forged token costs one signature check, nothing more."""
        if token.count(".") != 2:
            raise InvalidToken("The access token is malformed")
        signing_input, _, signature = token.rpartition(".")
        verifier = self._verifiers[alg]
        try:
            prepared = self._prepared.get(alg)
            if prepared is None or prepared[0] is not key:  # the same key, token after token
                prepared = self._prepared[alg] = (key, verifier.prepare_key(key))
            valid = verifier.verify(
                signing_input.encode("ascii"), prepared[1], base64url(signature)
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:  # a key that cannot be used
            raise InvalidToken("The access token is malformed") from exc
        if not valid:
            raise InvalidToken("The access token's signature does not verify")
