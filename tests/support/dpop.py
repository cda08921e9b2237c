"""A DPoP client key (RFC 9449 §4): what a client holds to make proofs, built with PyJWT."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm


class DPoPKey:
    """A fresh ES256 key pair; :meth:`proof` signs one proof per call (a new ``jti``)."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.jwk: dict[str, Any] = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)

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
        return jwt.encode(claims, self.private, "ES256", headers={"typ": typ, "jwk": self.jwk})


def token_hash(token: str) -> str:
    """base64url(SHA-256(token)), the ``ath`` a proof for ``token`` carries."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
