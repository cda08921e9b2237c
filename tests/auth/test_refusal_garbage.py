"""A refused token leaves nothing for the garbage collector: everything its refusal made is
freed by reference counting as the answer goes out.

An exception held by a local of a frame its traceback passes through is a cycle (traceback
→ frame → exception); under a flood of bad tokens every refusal left one of some forty
objects, freed only by the collector's passes. Driven here through the whole app (the
middlewares, the authenticator, the router, the validator, the audit), on ASGI directly.
"""

from __future__ import annotations

import base64
import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from starlette.types import Message

from jiraguard.app import create_app
from tests.conftest import HarnessFactory
from tests.support.asgi import request_scope
from tests.support.tokens import claims_for, hmac_provider, signed_raw

pytestmark = pytest.mark.anyio


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forged(i: int) -> str:
    """A well-formed HS256 token with a wrong signature, a new one each ``i``."""
    head, payload, _ = signed_raw(json.dumps(claims_for("alice", jti=f"f{i}")).encode()).split(".")
    return f"{head}.{payload}.{_b64(i.to_bytes(32, 'big'))}"


def _other_issuer(i: int) -> str:
    claims = {**claims_for("alice", jti=f"o{i}"), "iss": "https://elsewhere.example"}
    return signed_raw(json.dumps(claims).encode())


def _malformed(i: int) -> str:
    return f"not.a-jwt.{i}"


def _again(i: int) -> str:
    """The same forged token every time: refused from the cache after the first."""
    return _forged(0)


@contextmanager
def _collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def _status(app: Any, token: str | None, scheme: str = "Bearer") -> int:
    headers = [] if token is None else [(b"authorization", f"{scheme} {token}".encode())]
    scope = request_scope("GET", "/rest/api/2/myself", headers)
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status: int = sent[0]["status"]
    return status


async def test_refusals_leave_no_cycles(harness: HarnessFactory) -> None:
    h = await harness([hmac_provider()])
    app = create_app(h.settings, h.services)
    for make in (_forged, _other_issuer, _malformed, _again):
        assert await _status(app, make(0)) == 401  # first of its kind: whatever is made once
        with _collector_off():
            for i in range(1, 21):
                assert await _status(app, make(i)) == 401
            left = gc.collect()
        assert left == 0, f"{make.__name__}: {left} objects in cycles after 20 refusals"


async def test_refusals_without_a_token_leave_no_cycles(harness: HarnessFactory) -> None:
    h = await harness([hmac_provider()])
    app = create_app(h.settings, h.services)
    basic = base64.b64encode(b"alice:secret").decode()
    for token, scheme in ((None, "Bearer"), (basic, "Basic"), ("", "Bearer")):
        assert await _status(app, token, scheme) in (400, 401)
        with _collector_off():
            for _ in range(20):
                assert await _status(app, token, scheme) in (400, 401)
            left = gc.collect()
        assert left == 0, f"{scheme} {token!r}: {left} objects in cycles after 20 refusals"
