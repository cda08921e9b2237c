"""Faults a real provider will not produce on demand: garbage, errors, hangs, floods.

A tiny fake HTTP server stands in for the provider here, and only here. Whatever it does,
the answer is 503 (we could not decide), never 401 and never 500.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from jiraguard.store.audit import AuditFilter, AuditLog
from tests.auth.redis_support import unused_port
from tests.conftest import HarnessFactory, bearer

pytestmark = pytest.mark.anyio

BEHAVIOURS: dict[str, tuple[int, bytes, float]] = {
    "/garbage": (200, b"<html>surprise</html>", 0),
    "/array": (200, b"[1, 2, 3]", 0),
    "/error": (500, b'{"error": "server_error"}', 0),
    "/unavailable": (503, b"", 0),
    "/hang": (200, b'{"active": true}', 3.0),
    "/huge": (200, b'{"active": true, "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}', 0),
    "/ratelimited": (429, b"{}", 0),
}


class _Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        path = self.path.split("?")[0]
        status, body, delay = BEHAVIOURS.get(path, (404, b"", 0))
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def fake_provider() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize("path", sorted(BEHAVIOURS))
@pytest.mark.parametrize("method", ["introspection", "userinfo", "jwt"])
async def test_misbehaving_provider_gives_503(
    fake_provider: str, harness: HarnessFactory, path: str, method: str
) -> None:
    url = fake_provider + path
    provider = {
        "introspection": {
            "introspection_endpoint": url,
            "client_id": "c",
            "client_secret": "s",
        },
        "userinfo": {"userinfo_endpoint": url},
        "jwt": {"jwks_uri": url, "issuer": "https://issuer.test", "audience": ["a"]},
    }[method]
    h = await harness(
        [{"name": "fake", "method": method, **provider}], auth={"provider_timeout": 0.5}
    )
    # A JWT for the jwt provider (so it is routed there); any opaque string otherwise.
    token = (
        "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJpc3MiOiJodHRwczovL2lzc3Vlci50ZXN0In0.c2ln"
        if method == "jwt"
        else "opaque-token-value"
    )
    started = time.monotonic()
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert response.json()["errors"] == {}
    assert elapsed < 2.5  # the timeout held: no request waits on a hung provider
    assert token not in response.text


async def test_an_unreachable_provider_is_named_with_its_url_warned_once_and_audited(
    harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """The body names the provider and the URL (not how it failed); the log warns once per
    interval, saying how many failures it did not repeat; the audit record names the provider."""
    dead = f"http://127.0.0.1:{unused_port()}/introspect"
    gone = {
        "name": "node-intro",
        "method": "introspection",
        "introspection_endpoint": dead + "?secret=never-shown",
        "client_id": "c",
        "client_secret": "s",
    }
    h = await harness([gone])
    caplog.set_level(logging.INFO)
    for _ in range(3):
        response = await h.client.get("/rest/api/2/myself", headers=bearer("opaque-token-value"))
        assert response.status_code == 503
    assert response.json()["errorMessages"] == [
        f"The identity provider node-intro could not be asked at {dead} to check your "
        "credentials. Try again later."
    ]
    assert "never-shown" not in response.text
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"provider node-intro cannot be asked: the introspection endpoint ({dead}) could not "
        "be reached: ConnectError; its tokens are answered 503 until it recovers"
    ]
    # One interval later the next failure warns again, with the count of those not repeated.
    outages = h.services.telemetry.outages
    outages.clock = lambda: time.monotonic() + outages.interval
    await h.client.get("/rest/api/2/myself", headers=bearer("opaque-token-value"))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    assert "(2 more failures since the last warning)" in warnings[1]
    await h.services.audit.flush()
    _, events = await AuditLog(h.services.db).search(AuditFilter(), start_at=0, max_results=10)
    assert {(e.provider, e.status) for e in events} == {("node-intro", 503)}
