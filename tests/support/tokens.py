"""Tokens signed with a shared secret, for tests that need claims no real provider issues."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt

ISSUER = "https://hmac.test"
SECRET = "a-test-secret-of-at-least-thirty-two-bytes"
AUDIENCE = "jira"


def hmac_provider(name: str = "hmac", **extra: Any) -> dict[str, Any]:
    """Provider settings that check HS256 tokens signed with :data:`SECRET`."""
    return {
        "name": name,
        "method": "jwt",
        "issuer": ISSUER,
        "audience": [AUDIENCE],
        "algorithms": ["HS256"],
        "hmac_secret": SECRET,
        "leeway": 0,
        **extra,
    }


def claims_for(username: str, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": username,
        "preferred_username": username,
        "iat": now,
        "exp": now + 300,
        **extra,
    }


def signed(claims: dict[str, Any], **header: Any) -> str:
    """A correctly signed HS256 token with exactly these claims."""
    return jwt.encode(claims, SECRET, algorithm="HS256", headers=header or None)


def signed_raw(payload: bytes, header: bytes = b'{"alg":"HS256","typ":"JWT"}') -> str:
    """A correctly signed HS256 token whose payload segment is exactly ``payload``."""
    import hashlib
    import hmac

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = b64(header) + b"." + b64(payload)
    mac = hmac.new(SECRET.encode(), signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64(mac)).decode()


def dumps(claims: dict[str, Any]) -> bytes:
    return json.dumps(claims, separators=(",", ":")).encode()
