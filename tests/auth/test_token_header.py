"""The JOSE header of a token is read once per spelling of it: a provider's tokens, and a
flood of tokens forged from one, share it. What is kept is read-only and bounded."""

from __future__ import annotations

import base64
import json

import pytest

from jiraguard.auth.errors import InvalidToken
from jiraguard.auth.validators import jwt as jwt_validator
from jiraguard.auth.validators.jwt import token_header, unverified_header


def _b64(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def test_tokens_with_one_header_share_its_reading() -> None:
    head = _b64({"alg": "RS256", "typ": "JWT", "kid": "shared"})
    first = token_header(f"{head}.{_b64({'jti': 1})}.c2ln")
    second = token_header(f"{head}.{_b64({'jti': 2})}.b3RoZXI")
    assert second is first
    assert dict(first) == unverified_header(f"{head}.e30.c2ln")
    with pytest.raises(TypeError):
        first["alg"] = "none"  # type: ignore[index]


def test_a_refused_header_is_not_kept_and_the_kept_ones_are_bounded() -> None:
    jwt_validator._headers.clear()
    with pytest.raises(InvalidToken):
        token_header("bm90IGpzb24.e30.c2ln")  # "not json"
    assert jwt_validator._headers == {}
    for i in range(jwt_validator._HEADERS_KEPT + 10):
        token_header(f"{_b64({'alg': 'RS256', 'kid': str(i)})}.e30.c2ln")
    assert 0 < len(jwt_validator._headers) <= jwt_validator._HEADERS_KEPT
    long = _b64({"alg": "RS256", "kid": "k" * 2000})
    assert token_header(f"{long}.e30.c2ln")["kid"] == "k" * 2000
    assert long not in jwt_validator._headers
