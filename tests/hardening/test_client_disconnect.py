"""A client that goes away in the middle of its body is the client's doing: no ERROR and no
traceback in the log, and no 5xx recorded."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from jiraguard.app import create_app
from tests.conftest import HarnessFactory
from tests.support.asgi import post_scope
from tests.support.tokens import claims_for, hmac_provider, signed

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("path", ["/rest/api/2/issue", "/rest/pat/latest/tokens"])
async def test_a_half_closed_body_logs_no_error(
    harness: HarnessFactory, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    h = await harness([hmac_provider()])
    await h.add_user("alice", admin=True)
    app = create_app(h.settings, h.services)
    token = signed(claims_for("alice")).encode()
    messages = [
        {"type": "http.request", "body": b'{"fields": {"summ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = post_scope(
        path,
        [
            (b"authorization", b"Bearer " + token),
            (b"content-type", b"application/json"),
            (b"content-length", b"200"),
        ],
    )
    with caplog.at_level(logging.INFO):
        await app(scope, receive, send)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] < 500
