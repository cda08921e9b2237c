"""DPoP proofs at the resource server (RFC 9449 §4.3, §7.1, §9), verified with PyJWT.

A proof is a JWS the client signs for each request with the key its token is bound to. It is
checked in the order of §4.3: one well-formed JWT, ``typ: dpop+jwt``, an asymmetric ``alg``
of ``auth.dpop_algorithms``, a public ``jwk`` in the header, its signature with that key;
then its claims: ``htm`` the request's method, ``htu`` the request's URI (without query and
fragment, compared after RFC 3986 syntax-based normalisation), ``iat`` within
``auth.dpop_max_age`` (and ``dpop_leeway``), ``ath`` the hash of the token, ``nonce`` the
server's current one when nonces are required, and last ``jti`` unused (a replay is refused,
not remembered twice). What it returns is the key's thumbprint, for the caller to compare with
the token's ``cnf.jkt``.

Verifying a proof costs one signature check; the key object of a thumbprint is kept (a small
LRU), so a client that reuses its key pays no key parsing after its first request.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import jwt

from jiraguard.auth.confirmation import access_token_hash, b64url, jwk_thumbprint
from jiraguard.auth.errors import InvalidDPoPProof, InvalidToken, UseDPoPNonce
from jiraguard.auth.replay import ReplayCache
from jiraguard.auth.validators.jwt import unverified_claims, unverified_header
from jiraguard.untrusted import base64url

MAX_PROOF_BYTES = 8 * 1024
"""Largest DPoP header read (a proof with a 4096-bit RSA key is about 1.5 KiB)."""
_MAX_JTI = 256
_MAX_HTU = 4096
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_KEY_CACHE_SIZE = 1024
_URI_CACHE_SIZE = 256
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.lru_cache(maxsize=_URI_CACHE_SIZE)
def normalised_uri(uri: str) -> tuple[str, str, str] | None:
    """``uri`` without query and fragment, normalised as RFC 3986 §6.2.2 says (scheme and host
    in lower case, the default port dropped, percent-encodings in upper case, an empty path
    as ``/``); None when it is not an absolute http(s) URI.

    A pure function of the text, so the answers for the last few hundred distinct URIs are
    kept: a client's proofs name the same few URIs, and each request needs two of them."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    authority = host if ":" not in host else f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        authority += f":{port}"
    path = _PERCENT.sub(lambda m: m.group(0).upper(), parts.path) or "/"
    return scheme, authority, path


class DPoPNonces:
    """Server nonces (RFC 9449 §8, §9) without shared state: the current minute's number and
    its HMAC under a key every process of a deployment derives the same way. A nonce is good
    for the minute it was made in and the next."""

    period = 60.0

    def __init__(self, key: bytes, clock: Callable[[], float] = time.time) -> None:
        self.key = hmac.new(key, b"dpop-nonce", "sha256").digest()
        self.clock = clock

    def _make(self, window: int) -> str:
        mac = hmac.new(self.key, str(window).encode(), "sha256").digest()[:16]
        return f"{window}.{b64url(mac)}"

    def current(self) -> str:
        return self._make(math.floor(self.clock() / self.period))

    def valid(self, nonce: Any) -> bool:
        if not isinstance(nonce, str) or len(nonce) > 64:
            return False
        window_text, _, _ = nonce.partition(".")
        if not window_text.isdigit():
            return False
        window = int(window_text)
        now = math.floor(self.clock() / self.period)
        return window in (now, now - 1) and hmac.compare_digest(nonce, self._make(window))


class DPoPVerifier:
    """Checks the ``DPoP`` header of a request that presents a DPoP-bound token."""

    def __init__(
        self,
        algorithms: Sequence[str],
        max_age: float,
        leeway: float,
        replay: ReplayCache,
        nonces: DPoPNonces | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.algorithms = frozenset(algorithms)
        self.max_age = max_age
        self.leeway = leeway
        self.replay = replay
        self.nonces = nonces
        """When set, every proof must carry a current nonce."""
        self.clock = clock
        self._keys: OrderedDict[tuple[str, str], jwt.PyJWK] = OrderedDict()
        self._headers: OrderedDict[str, tuple[str, jwt.PyJWK]] = OrderedDict()
        """Header segments already checked: the same bytes always pass the same checks."""

    async def verify(self, proofs: list[bytes], method: str, uri: str, token: str) -> str:
        """The thumbprint of the key that signed the request's one valid proof; raises
        :class:`InvalidDPoPProof` (or :class:`UseDPoPNonce`) otherwise."""
        if not proofs:
            raise InvalidDPoPProof("A DPoP-bound token needs a DPoP proof header")
        if len(proofs) > 1:  # RFC 9449 §4.3 check 1: "not more than one DPoP HTTP request header"
            raise InvalidDPoPProof("More than one DPoP header was sent")
        raw = proofs[0]
        if len(raw) > MAX_PROOF_BYTES or not raw.isascii():
            raise InvalidDPoPProof("The DPoP proof is malformed")
        proof = raw.decode("ascii").strip()
        segment = proof.partition(".")[0]
        known = self._headers.get(segment)  # a client's proofs share one header
        if known is None:
            known = self._checked_header(proof)
            self._headers[segment] = known
            if len(self._headers) > _KEY_CACHE_SIZE:
                self._headers.popitem(last=False)
        jkt, key = known
        signing_input, _, signature = proof.rpartition(".")
        try:
            # PyJWT's algorithm object checks the signature (DER conversion for ECDSA
            # included); the segments are decoded here, once, with the bounded readers.
            verified = key.Algorithm.verify(signing_input.encode("ascii"), key.key, _raw(signature))
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidDPoPProof("The DPoP proof is malformed") from exc
        if not verified:
            raise InvalidDPoPProof("The DPoP proof's signature does not verify")
        try:
            claims = unverified_claims(proof)
        except InvalidToken as exc:
            raise InvalidDPoPProof("The DPoP proof is malformed") from exc
        await self._claims(claims, method, uri, token, jkt)
        return jkt

    def _checked_header(self, proof: str) -> tuple[str, jwt.PyJWK]:
        """RFC 9449 §4.3 checks 3 to 6 on the JOSE header: the key's thumbprint and object."""
        header = _header(proof)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise InvalidDPoPProof("The DPoP proof's algorithm is not accepted")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() != "dpop+jwt":  # media types: any case
            raise InvalidDPoPProof("The DPoP proof's typ is not dpop+jwt")
        return self._key(header.get("jwk"), alg)

    def _key(self, jwk: Any, alg: str) -> tuple[str, jwt.PyJWK]:
        """RFC 9449 §4.3 check 6: ``jwk`` a public key (no private member), usable with ``alg``."""
        if not isinstance(jwk, dict) or _PRIVATE_MEMBERS.intersection(jwk):
            raise InvalidDPoPProof("The DPoP proof's jwk is not a public key")
        try:
            jkt = jwk_thumbprint(jwk)
        except ValueError as exc:
            raise InvalidDPoPProof("The DPoP proof's jwk is not a public key") from exc
        cached = self._keys.get((alg, jkt))
        if cached is not None:
            self._keys.move_to_end((alg, jkt))
            return jkt, cached
        try:
            key = jwt.PyJWK(jwk, algorithm=alg)
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidDPoPProof("The DPoP proof's jwk does not fit its algorithm") from exc
        self._keys[(alg, jkt)] = key
        if len(self._keys) > _KEY_CACHE_SIZE:
            self._keys.popitem(last=False)
        return jkt, key

    async def _claims(
        self, claims: dict[str, Any], method: str, uri: str, token: str, jkt: str
    ) -> None:
        jti, htm, htu, iat = (claims.get(n) for n in ("jti", "htm", "htu", "iat"))
        if not isinstance(jti, str) or not 0 < len(jti) <= _MAX_JTI:
            raise InvalidDPoPProof("The DPoP proof lacks a jti")
        if htm != method:
            raise InvalidDPoPProof("The DPoP proof is for another HTTP method (htm)")
        if not isinstance(htu, str) or len(htu) > _MAX_HTU:
            raise InvalidDPoPProof("The DPoP proof lacks htu")
        expected = normalised_uri(uri)
        if expected is None or normalised_uri(htu) != expected:
            raise InvalidDPoPProof("The DPoP proof is for another URI (htu)")
        if isinstance(iat, bool) or not isinstance(iat, int | float) or not math.isfinite(iat):
            raise InvalidDPoPProof("The DPoP proof lacks iat")
        now = self.clock()
        if iat > now + self.leeway or iat < now - self.max_age - self.leeway:
            raise InvalidDPoPProof("The DPoP proof is too old or from the future (iat)")
        ath = claims.get("ath")
        if not isinstance(ath, str) or not hmac.compare_digest(
            ath.encode("utf-8", "replace"), access_token_hash(token).encode("ascii")
        ):
            raise InvalidDPoPProof("The DPoP proof is not for this access token (ath)")
        if self.nonces is not None and not self.nonces.valid(claims.get("nonce")):
            raise UseDPoPNonce(
                "The DPoP proof needs the server's current nonce", self.nonces.current()
            )
        replay_key = hashlib.sha256(f"{jkt}\0{jti}".encode()).hexdigest()
        if not await self.replay.first_use(replay_key, self.max_age + 2 * self.leeway):
            raise InvalidDPoPProof("The DPoP proof was already used (jti)")


def _raw(segment: str) -> bytes:
    """A base64url segment's bytes (ValueError when it is not base64url)."""
    if not segment or len(segment) > MAX_PROOF_BYTES:
        raise ValueError("no signature")
    return base64url(segment)


def _header(proof: str) -> dict[str, Any]:
    if proof.count(".") != 2:
        raise InvalidDPoPProof("The DPoP proof is not a signed JWT")
    try:
        return unverified_header(proof)
    except InvalidToken as exc:
        raise InvalidDPoPProof("The DPoP proof is malformed") from exc
