"""The DPoP proof verifier meets client input first: whatever the ``DPoP`` header holds (bytes,
a JWS with hostile header members, a correctly signed proof with hostile claims), it answers
with a thumbprint or :class:`InvalidDPoPProof`, in bounded time."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiraguard.auth.dpop import DPoPVerifier, normalised_uri
from jiraguard.auth.errors import InvalidDPoPProof
from jiraguard.auth.replay import MemoryReplayCache
from tests.fuzz.support import HOSTILE_TEXT, JSON_SCALAR, JSON_VALUE, bounded, fuzz
from tests.support.dpop import DPoPKey

pytestmark = pytest.mark.fuzz

URL = "https://jira.example.com/rest/api/2/myself"
TOKEN = "token"
_KEY = DPoPKey()


def _verify(proof: bytes) -> str | None:
    verifier = DPoPVerifier(["ES256", "RS256", "EdDSA"], 300, 5, MemoryReplayCache(100))
    try:
        return asyncio.run(verifier.verify([proof], "GET", URL, TOKEN))
    except InvalidDPoPProof:
        return None


def _b64(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@fuzz(300)
@given(st.binary(max_size=300))
def test_any_header_bytes(raw: bytes) -> None:
    with bounded(raw):
        assert _verify(raw) is None


HEADERS = st.dictionaries(
    st.sampled_from(["alg", "typ", "jwk", "kid", "crit", "b64"]),
    st.one_of(JSON_SCALAR, JSON_VALUE, st.dictionaries(HOSTILE_TEXT, JSON_SCALAR, max_size=5)),
    max_size=5,
)


@fuzz(300)
@given(HEADERS, JSON_VALUE, st.binary(max_size=80))
def test_hostile_jose_headers(header: dict[str, Any], claims: Any, signature: bytes) -> None:
    proof = f"{_b64(header)}.{_b64(claims)}.{_b64(signature)}".encode()
    with bounded(proof):
        assert _verify(proof) is None


CLAIMS = st.dictionaries(
    st.sampled_from(["jti", "htm", "htu", "iat", "ath", "nonce"]),
    st.one_of(JSON_SCALAR, JSON_VALUE, HOSTILE_TEXT),
    max_size=6,
)


@fuzz(200)
@given(CLAIMS)
def test_signed_proofs_with_hostile_claims(claims: dict[str, Any]) -> None:
    """Correctly signed: accepted only when every claim is the one the request needs."""
    proof = jwt.encode(claims, _KEY.private, "ES256", headers={"typ": "dpop+jwt", "jwk": _KEY.jwk})
    with bounded(claims):
        accepted = _verify(proof.encode())
    if accepted is not None:
        assert claims["htm"] == "GET"
        assert normalised_uri(claims["htu"]) == normalised_uri(URL)
        assert abs(claims["iat"] - time.time()) < 320


@fuzz(200)
@given(HOSTILE_TEXT)
def test_uri_normalisation(text: str) -> None:
    with bounded(text):
        found = normalised_uri(text)
        assert found is None or found[0] in ("http", "https")
