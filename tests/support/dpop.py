"""A DPoP client key (RFC 9449 §4): what a client holds to make proofs, built with PyJWT."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


class DPoPKey:
    """A fresh key pair (ES256, or RS256 / PS256 with a 2048-bit RSA key); :meth:`proof`
    signs one proof per call (a new ``jti``)."""

    def __init__(self, alg: str = "ES256") -> None:
        self.alg = alg
        self.private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        if alg == "ES256":
            self.private = ec.generate_private_key(ec.SECP256R1())
            self.jwk: dict[str, Any] = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        else:
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self.jwk = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)

    def proof(
        self,
        method: str,
        url: str,
        *,
        token: str | None = None,
        iat: float | None = None,
        jti: str | None = None,
        nonce: str | None = None,
        ath: str | None = None,
        typ: str = "dpop+jwt",
    ) -> str:
        """A proof for ``method`` ``url`` (and ``token``'s hash as ``ath``)."""
        claims: dict[str, Any] = {
            "jti": jti or uuid.uuid4().hex,
            "htm": method,
            "htu": url,
            "iat": int(time.time() if iat is None else iat),
        }
        if token is not None:
            claims["ath"] = ath or token_hash(token)
        if nonce is not None:
            claims["nonce"] = nonce
        headers = {"typ": typ, "jwk": self.jwk}
        return jwt.encode(claims, self.private, self.alg, headers=headers)


def token_hash(token: str) -> str:
    """base64url(SHA-256(token)), the ``ath`` a proof for ``token`` carries."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
