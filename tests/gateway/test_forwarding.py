"""What the gateway forwards, and what it never does (RFC 9110 §7.6, RFC 6750 §2)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from starlette.types import Message

from jiraguard.auth.clientip import ClientAddress
from jiraguard.auth.signed_identity import sign
from jiraguard.proxy import UpstreamPool, UpstreamProxy
from jiraguard.settings import validate_settings
from tests.conftest import HarnessFactory, bearer
from tests.gateway.conftest import SECRET, gateway
from tests.gateway.upstreams import PAGE
from tests.support.idp import TestProvider, free_port

pytestmark = [pytest.mark.anyio, pytest.mark.idp]


def _headers(echo: httpx.Response) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in echo.json()["headers"]:
        found.setdefault(name, []).append(value)
    return found


async def test_authorization_never_reaches_upstream_and_identity_is_signed(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream)
    token = idp.jwt_token("alice")
    response = await h.client.get("/rest/api/2/myself?expand=groups", headers=bearer(token))
    assert response.status_code == 200, response.text
    seen = _headers(response)
    assert "authorization" not in seen
    assert token not in response.text
    assert seen["x-forwarded-user"] == ["alice"]
    (timestamp,) = seen["x-jiraguard-timestamp"]
    assert abs(int(timestamp) - time.time()) < 5
    target = "/rest/api/2/myself?expand=groups"
    assert response.json()["target"] == target
    assert seen["x-jiraguard-signature"] == [sign(SECRET, "alice", "GET", target, timestamp)]


async def test_unauthenticated_rest_call_is_refused_before_forwarding(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream)
    response = await h.client.get("/rest/api/2/myself")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "target" not in response.json()


@pytest.mark.parametrize(
    "spoofed",
    [
        {"X-Forwarded-User": "admin"},
        {"X-Jiraguard-Signature": "00" * 32, "X-Jiraguard-Timestamp": "1"},
        {"X-Jiraguard-User": "admin"},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
    ],
    ids=["user", "signature", "audit", "basic"],
)
async def test_spoofed_identity_is_stripped_on_paths_jiraguard_does_not_protect(
    harness: HarnessFactory, idp: TestProvider, upstream: str, spoofed: dict[str, str]
) -> None:
    h = await gateway(harness, idp, upstream)
    response = await h.client.get("/echo/secure/admin", headers=spoofed)
    assert response.status_code == 200
    seen = _headers(response)
    for name in spoofed:
        assert name.lower() not in seen


async def test_spoofed_identity_with_a_valid_token_is_replaced(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream)
    headers = {
        **bearer(idp.jwt_token("alice")),
        "X-Forwarded-User": "bob",
        "X-Jiraguard-Signature": "ab" * 32,
        "X-Jiraguard-Timestamp": "1700000000",
    }
    seen = _headers(await h.client.get("/rest/api/2/myself", headers=headers))
    assert seen["x-forwarded-user"] == ["alice"]
    assert seen["x-jiraguard-signature"] != ["ab" * 32]
    assert seen["x-jiraguard-timestamp"] != ["1700000000"]


async def test_service_account_mode(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(
        harness,
        idp,
        upstream,
        upstream={"identity": "service_account", "service_account_token": "svc-pat-value"},
    )
    seen = _headers(
        await h.client.get("/rest/api/2/myself", headers=bearer(idp.jwt_token("alice")))
    )
    assert seen["authorization"] == ["Bearer svc-pat-value"]
    assert seen["x-jiraguard-user"] == ["alice"]
    assert "x-forwarded-user" not in seen
    # Anonymous pass-through paths never borrow the service account.
    anonymous = _headers(await h.client.get("/echo/anything"))
    assert "authorization" not in anonymous
    assert "x-jiraguard-user" not in anonymous


async def test_service_account_basic(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(
        harness,
        idp,
        upstream,
        upstream={
            "identity": "service_account",
            "service_account_user": "svc",
            "service_account_password": "pw",
        },
    )
    seen = _headers(await h.client.get("/rest/api/2/myself", headers=bearer(idp.jwt_token("bob"))))
    assert seen["authorization"] == ["Basic c3ZjOnB3"]
    assert seen["x-jiraguard-user"] == ["bob"]


async def test_public_rule_forwards_without_identity(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(
        harness,
        idp,
        upstream,
        rules=[{"name": "open", "paths": ["/rest/api/2/serverInfo"], "action": "public"}],
    )
    response = await h.client.get("/rest/api/2/serverInfo", headers={"X-Forwarded-User": "x"})
    assert response.status_code == 200
    seen = _headers(response)
    assert "x-forwarded-user" not in seen
    assert "x-jiraguard-signature" not in seen


async def test_head_and_body_methods(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream)
    head = await h.client.head("/source/5000")
    assert (head.status_code, head.headers["content-length"], head.content) == (200, "5000", b"")
    put = await h.client.put("/echo/x", content=b"z" * 3000)
    assert (put.json()["method"], put.json()["length"]) == ("PUT", 3000)
    assert ["content-length", "3000"] in put.json()["headers"]
    empty = await h.client.delete("/echo/x")
    assert empty.json()["length"] == 0
    assert not any(name == "transfer-encoding" for name, _ in empty.json()["headers"])


async def test_hop_by_hop_request_headers_are_removed(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    """RFC 9110 §7.6.1: a proxy MUST remove Connection and the fields it lists."""
    h = await gateway(harness, idp, upstream)
    headers = {
        "Connection": "keep-alive, X-Hop",
        "X-Hop": "1",
        "Keep-Alive": "timeout=5",
        "TE": "trailers",
        "Trailer": "X-Checksum",
        "Upgrade": "websocket",
        "Proxy-Authorization": "Basic eDp5",
        "Proxy-Connection": "keep-alive",
        "X-End-To-End": "kept",
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Host": "evil.example",
    }
    response = await h.client.get("/echo/x", headers=headers)
    seen = _headers(response)
    for name in ("x-hop", "keep-alive", "te", "trailer", "upgrade", "proxy-authorization"):
        assert name not in seen
    assert "proxy-connection" not in seen
    assert seen["x-end-to-end"] == ["kept"]
    # The peer (127.0.0.1 in-process) is not a trusted proxy: its X-Forwarded-* are dropped.
    assert seen["x-forwarded-for"] == ["127.0.0.1"]
    assert seen["x-forwarded-host"] == ["jira.test"]
    assert seen["x-forwarded-proto"] == ["http"]
    assert seen["host"] == [upstream.removeprefix("http://")]
    assert seen["via"] == ["1.1 jiraguard"]  # RFC 9110 §7.6.3: a gateway MUST send Via


async def test_forwarded_chain_kept_from_a_trusted_proxy(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream, server={"trusted_proxies": ["127.0.0.0/8"]})
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    seen = _headers(await h.client.get("/echo/x", headers=headers))
    assert seen["x-forwarded-for"] == ["203.0.113.9, 127.0.0.1"]
    assert seen["x-forwarded-proto"] == ["https"]


async def test_hop_by_hop_response_headers_are_removed(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream)
    response = await h.client.get("/hop")
    assert response.status_code == 200
    for name in ("x-upstream-hop", "keep-alive", "proxy-authenticate", "upgrade"):
        assert name not in response.headers
    assert response.headers["x-end-to-end"] == "kept"


async def test_session_cookies_do_not_cross_protected_paths(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream)
    cookie = {"Cookie": "JSESSIONID=someone-elses"}
    rest = _headers(
        await h.client.get(
            "/rest/api/2/myself", headers={**bearer(idp.jwt_token("alice")), **cookie}
        )
    )
    assert "cookie" not in rest
    ui = _headers(await h.client.get("/echo/secure/Dashboard.jspa", headers=cookie))
    assert ui["cookie"] == ["JSESSIONID=someone-elses"]


async def test_query_token_is_not_forwarded(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    """RFC 6750 §2.3 tokens authenticate the caller and stop at the gateway."""
    h = await gateway(harness, idp, upstream, auth={"allow_query_token": True})
    token = idp.jwt_token("alice")
    response = await h.client.get(f"/rest/api/2/search?jql=a%3D1&access_token={token}&b=2")
    assert response.status_code == 200, response.text
    assert response.json()["target"] == "/rest/api/2/search?jql=a%3D1&b=2"
    assert token not in response.text


async def test_html_passes_through_byte_for_byte_with_context_path(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream + "/jira")
    async with h.client.stream("GET", "/secure/Dashboard.jspa") as response:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.status_code == 200
    assert body == PAGE
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers.get_list("set-cookie") == [
        "JSESSIONID=0123ABCD; Path=/; HttpOnly",
        "atlassian.xsrf.token=B1-x; Path=/secure",
    ]


async def test_location_is_rewritten_to_the_public_origin(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream + "/jira")
    response = await h.client.get("/redirect")
    assert response.status_code == 302
    assert response.headers["location"] == (
        "http://jira.test/login.jsp?os_destination=%2Fsecure%2FDashboard.jspa"
    )


async def test_context_path_prefixes_forwarded_targets(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream + "/jira")
    response = await h.client.get("/echo/a%2Fb/c/?q=%20x")
    assert response.json()["target"] == "/jira/echo/a%2Fb/c/?q=%20x"


async def test_rewritten_rest_paths_are_forwarded_canonical_and_encoded(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    """What the access rules judged is what Jira runs: /rest/api/latest as /rest/api/2."""
    h = await gateway(harness, idp, upstream + "/jira")
    response = await h.client.get(
        "/rest/api/latest/issue/%C3%A4%20b/?x=1", headers=bearer(idp.jwt_token("alice"))
    )
    assert response.status_code == 200, response.text
    target = "/jira/rest/api/2/issue/%C3%A4%20b?x=1"
    assert response.json()["target"] == target
    seen = _headers(response)
    (timestamp,) = seen["x-jiraguard-timestamp"]
    assert seen["x-jiraguard-signature"] == [sign(SECRET, "alice", "GET", target, timestamp)]


async def test_request_over_the_limit_by_content_length_is_refused_before_forwarding(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    """RFC 9110 §15.5.14 413 Content Too Large."""
    h = await gateway(harness, idp, "http://127.0.0.1:1", upstream={"max_request_bytes": 1024})
    response = await h.client.post("/echo/upload", content=b"x" * 2000)
    # The upstream is unreachable: a 413 proves nothing was attempted.
    assert response.status_code == 413
    assert response.json()["errorMessages"] == ["The request body is too large."]


async def test_streamed_request_over_the_limit_is_cut_off(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream, upstream={"max_request_bytes": 4096})

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b"y" * 1024

    response = await h.client.post("/sink", content=chunks())
    assert response.status_code == 413


async def test_response_over_the_limit_is_refused(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream, upstream={"max_response_bytes": 4096})
    response = await h.client.get("/source/8192")
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/json;charset=UTF-8"


async def test_upstream_down_is_502(harness: HarnessFactory, idp: TestProvider) -> None:
    h = await gateway(harness, idp, f"http://127.0.0.1:{free_port()}")
    response = await h.client.get("/rest/api/2/myself", headers=bearer(idp.jwt_token("alice")))
    assert response.status_code == 502
    assert response.json() == {"errorMessages": ["Jira could not be reached."], "errors": {}}


async def test_slow_upstream_is_504(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream, upstream={"read_timeout": 0.3})
    started = time.monotonic()
    response = await h.client.get("/slow")
    assert response.status_code == 504
    assert response.json()["errorMessages"] == ["Jira did not answer in time."]
    assert time.monotonic() - started < 0.9


@pytest.mark.parametrize("target", [b"/x\xff", b"/x#y", b"/x y", b"/x\x7f", b"/x\x00"])
async def test_target_no_url_can_hold_is_400_not_500(upstream: str, target: bytes) -> None:
    """No client input causes a 500: bytes no request line may hold (RFC 3986 §2, and the
    fragment, §3.5) are refused."""
    settings = validate_settings({"upstream": {"url": upstream, "shared_secret": "s"}}).upstream
    pool = UpstreamPool(settings)
    proxy = UpstreamProxy(
        settings,
        pool,
        client_address=ClientAddress([]),
        auth=lambda: validate_settings({}).auth,
        public_url=None,
    )
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": target.decode("latin-1"),
        "raw_path": target,
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 1),
        "scheme": "http",
    }
    try:
        await proxy(scope, receive, send)
    finally:
        await pool.aclose()
    assert sent[0]["status"] == 400
    assert b"The request target is not valid." in sent[1]["body"]


async def test_upstream_latency_is_in_the_metrics(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream)
    token = idp.jwt_token("alice")
    for _ in range(3):
        assert (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200
    metrics = await h.client.get("/metrics")
    assert 'jiraguard_upstream_response_seconds_count{status="2xx"} 3.0' in metrics.text


async def test_protected_paths_saved_at_run_time_apply_to_the_proxy_too(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    h = await gateway(harness, idp, upstream)
    token = idp.jwt_token("alice")
    before = await h.client.get("/echo/servlet/x", headers={"X-Forwarded-User": "mallory"})
    assert "x-forwarded-user" not in _headers(before)  # unprotected: spoofed identity stripped
    await h.services.config.save({"auth": {"protected_paths": ["/rest/", "/echo/"]}}, actor="t")
    assert (await h.client.get("/echo/servlet/x")).status_code == 401
    after = await h.client.get("/echo/servlet/x", headers=bearer(token))
    assert after.status_code == 200
    assert _headers(after)["x-forwarded-user"] == ["alice"]  # now protected: identity signed


async def test_the_hop_adds_no_header_of_its_own(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    """A transparent proxy sends the client's end-to-end fields and its forwarding fields,
    nothing else: no User-Agent, Accept, Accept-Encoding or Content-Type of the HTTP
    client's own, and no cookie from an earlier caller."""
    h = await gateway(harness, idp, upstream)
    await h.client.get("/jira/secure/Dashboard.jspa")  # Jira sets a cookie: not kept
    request = h.client.build_request("POST", "/echo/x", content=b"{}", headers={"X-Custom": "v"})
    for name in ("user-agent", "accept", "accept-encoding", "connection"):
        del request.headers[name]
    response = await h.client.send(request)
    names = sorted(name for name, _ in response.json()["headers"])
    assert names == [
        "content-length",
        "host",
        "via",
        "x-custom",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
    ]


async def test_header_values_go_on_byte_for_byte(
    harness: HarnessFactory, idp: TestProvider, upstream: str
) -> None:
    """Header values reach Jira as the client sent them: UTF-8 and obs-text (RFC 9110 §5.5,
    which Tomcat reads as ISO-8859-1) alike, never re-encoded."""
    h = await gateway(harness, idp, upstream)
    for value in ("Zoë ☃".encode(), b"Zo\xeb"):
        echoed = await h.client.get("/echo/x", headers=[(b"X-Name", value)])
        assert _headers(echoed)["x-name"] == [value.decode("latin-1")]  # read as latin-1


async def test_an_upstream_that_stops_reading_the_body_is_504_in_read_timeout() -> None:
    """A Jira that takes the connection but neither reads a large body nor answers (a fault
    no working server shows, hence a bare socket): the wait is bounded by ``read_timeout``,
    never a hang."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    settings = validate_settings(
        {"upstream": {"url": f"http://127.0.0.1:{port}", "shared_secret": "s", "read_timeout": 0.5}}
    ).upstream
    pool = UpstreamPool(settings)
    proxy = UpstreamProxy(
        settings,
        pool,
        client_address=ClientAddress([]),
        auth=lambda: validate_settings({}).auth,
        public_url=None,
    )
    sent: list[Message] = []
    chunks = iter([b"z" * 1024 * 1024] * 64)  # 64 MiB: far more than socket buffers hold

    async def receive() -> Message:
        chunk = next(chunks, b"")
        return {"type": "http.request", "body": chunk, "more_body": bool(chunk)}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/echo/upload",
        "raw_path": b"/echo/upload",
        "query_string": b"",
        "headers": [(b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 1),
        "scheme": "http",
    }
    started = time.monotonic()
    try:
        with anyio.fail_after(10):
            await proxy(scope, receive, send)
    finally:
        await pool.aclose()
        listener.close()
        for connection in accepted:
            connection.close()
    assert sent[0]["status"] == 504
    assert time.monotonic() - started < 5


async def test_a_question_of_our_own_reaches_jira_however_its_url_is_spelled(upstream: str) -> None:
    """``upstream.url`` with a host in capitals: the pool still knows its own server (the
    credential check and the user check build their URLs from the setting as written)."""
    spelled = upstream.replace("127.0.0.1", "LOCALHOST")
    url = spelled + "/echo/x?q=1"
    settings = validate_settings({"upstream": {"url": spelled, "shared_secret": "s"}}).upstream
    pool = UpstreamPool(settings)
    try:
        status, body = await pool.ask("GET", url, [(b"accept", b"application/json")], 5.0)
        with pytest.raises(ValueError, match="another server"):
            await pool.ask("GET", "http://192.0.2.1/echo/x", [], 5.0)
    finally:
        await pool.aclose()
    assert status == 200
    assert json.loads(body)["target"] == "/echo/x?q=1"
