"""What a token says about its holder: its confirmation (``cnf``) and how its user signed in.

* ``cnf.jkt`` (RFC 9449 §6): the token is bound to a DPoP key, named by its JWK SHA-256
  thumbprint (RFC 7638).
* ``cnf.x5t#S256`` (RFC 8705 §3.1): the token is bound to a client certificate, named by the
  SHA-256 of its DER encoding.
* ``acr``, ``amr``, ``auth_time`` (OpenID Connect Core §2, RFC 8176): what step-up rules
  (RFC 9470) ask for.

A ``cnf`` this module cannot read, or one that names only confirmation methods jiraguard
does not check (``jwk``, ``kid``, ...), refuses the token: a bound token is never taken as a
bearer token because its binding was not understood.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jiraguard.auth.errors import InvalidToken

_THUMBPRINT_MEMBERS = {
    # RFC 7638 §3.2: the required members of each key type, in lexicographic order.
    "EC": ("crv", "kty", "x", "y"),
    "RSA": ("e", "kty", "n"),
    "OKP": ("crv", "kty", "x"),
}
_MAX_THUMBPRINT = 128
"""A base64url SHA-256 is 43 characters; anything much longer is not a thumbprint."""


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The JWK SHA-256 thumbprint of a public key (RFC 7638 §3): the required members only,
    sorted, without whitespace, hashed. ValueError for a key type it has no members for."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None:
        raise ValueError("the key type has no thumbprint")
    required = {}
    for name in members:
        value = jwk.get(name)
        if not isinstance(value, str):
            raise ValueError(f"the key lacks {name}")
        required[name] = value
    canonical = json.dumps(required, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def certificate_thumbprint(der: bytes) -> str:
    """``x5t#S256`` of a certificate (RFC 8705 §3.1): base64url SHA-256 of its DER form."""
    return b64url(hashlib.sha256(der).digest())


def access_token_hash(token: str) -> str:
    """A DPoP proof's ``ath`` (RFC 9449 §4.2): base64url SHA-256 of the ASCII token."""
    return b64url(hashlib.sha256(token.encode("ascii")).digest())


@dataclass(frozen=True, slots=True)
class Confirmation:
    """The key or certificate a token is bound to; both None for a bearer token."""

    jkt: str | None = None
    x5t: str | None = None

    @property
    def bound(self) -> bool:
        return self.jkt is not None or self.x5t is not None


_KNOWN = {"jkt", "x5t#S256"}


def confirmation_of(claims: Mapping[str, Any]) -> Confirmation:
    """The token's ``cnf`` (RFC 7800 §3.1), from JWT claims or an introspection answer
    (RFC 7662 §2.2 carries it as a member); :class:`InvalidToken` when unusable."""
    cnf = claims.get("cnf")
    if cnf is None:
        return Confirmation()
    if not isinstance(cnf, dict) or not cnf:
        raise InvalidToken("The access token's confirmation (cnf) is malformed")
    if not _KNOWN.intersection(cnf):
        raise InvalidToken("The access token is bound by a method this service cannot check")
    values = [cnf.get("jkt"), cnf.get("x5t#S256")]
    for value in values:
        if value is not None and (
            not isinstance(value, str) or not 0 < len(value) <= _MAX_THUMBPRINT
        ):
            raise InvalidToken("The access token's confirmation (cnf) is malformed")
    return Confirmation(jkt=values[0], x5t=values[1])


@dataclass(frozen=True, slots=True)
class SignIn:
    """How the token's user authenticated, as far as the token says."""

    acr: str | None = None
    amr: frozenset[str] = frozenset()
    auth_time: float | None = None


def sign_in_of(claims: Mapping[str, Any]) -> SignIn:
    """``acr``, ``amr`` and ``auth_time`` of the claims; a value of the wrong JSON type
    counts as absent (a step-up rule then refuses, never admits)."""
    acr = claims.get("acr")
    amr = claims.get("amr")
    auth_time = claims.get("auth_time")
    return SignIn(
        acr=acr if isinstance(acr, str) else None,
        amr=(
            frozenset(m for m in amr if isinstance(m, str))
            if isinstance(amr, list)
            else frozenset()
        ),
        auth_time=(
            float(auth_time)
            if isinstance(auth_time, int | float) and not isinstance(auth_time, bool)
            else None
        ),
    )
