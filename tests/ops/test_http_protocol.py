"""The served connection writes each answer at once (``jiraguard.http_protocol``).

On real loopback connections: what one turn of the event loop writes reaches the socket in
one call, in order; a large body is not held back; close sends what was written first and
abort drops it. Then uvicorn on the protocol, through a real client: keep-alive, a streamed
body of many MB, HEAD and ``Expect: 100-continue`` behave as uvicorn's own.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.types import Message, Receive, Scope, Send

from jiraguard.http_protocol import WRITE_THROUGH, CoalescingProtocol, CoalescingTransport
from tests.support.idp import free_port
from tests.support.servers import wait_until_serving

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class _Counted(asyncio.Protocol):
    """The peer: everything it received, and how."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.data += data

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set_result(None)


async def _pair() -> tuple[CoalescingTransport, list[bytes], _Counted, asyncio.Server]:
    """A coalescing transport over a real TCP connection, the calls it made to the socket's
    transport, and the peer."""
    loop = asyncio.get_running_loop()
    peer = _Counted()
    server = await loop.create_server(lambda: peer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
    calls: list[bytes] = []
    real_write = transport.write

    def write(data: bytes | bytearray | memoryview) -> None:
        calls.append(bytes(data))
        real_write(data)

    transport.write = write  # type: ignore[method-assign]
    return CoalescingTransport(transport, loop), calls, peer, server  # type: ignore[arg-type]


async def test_the_writes_of_one_turn_go_out_in_one_call_in_order() -> None:
    coalescing, calls, peer, server = await _pair()
    coalescing.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n")
    coalescing.write(b"hello")
    assert calls == []  # held for the end of the turn
    assert coalescing.get_write_buffer_size() == 43
    await asyncio.sleep(0)
    assert calls == [b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello"]
    coalescing.write(b"second")
    await asyncio.sleep(0)
    assert len(calls) == 2
    coalescing.close()
    await peer.closed
    assert bytes(peer.data) == b"".join(calls)
    server.close()


async def test_a_large_body_is_not_held_back() -> None:
    coalescing, calls, peer, server = await _pair()
    coalescing.write(b"head")
    coalescing.write(b"x" * WRITE_THROUGH)
    assert calls == [b"head" + b"x" * WRITE_THROUGH]  # at once, not at the end of the turn
    coalescing.close()
    await peer.closed
    server.close()


async def test_close_sends_what_was_written_and_abort_drops_it() -> None:
    coalescing, calls, peer, server = await _pair()
    coalescing.write(b"last words")
    coalescing.close()
    await peer.closed
    assert bytes(peer.data) == b"last words"

    coalescing, calls, peer, server2 = await _pair()
    coalescing.write(b"never sent")
    coalescing.abort()
    await peer.closed
    await asyncio.sleep(0)
    assert calls == []
    assert bytes(peer.data) == b""
    server.close()
    server2.close()


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(40):
            await send({"type": "http.response.body", "body": b"z" * 256 * 1024, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    body = b""
    while True:
        message: Message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    answer = b"got %d" % len(body)
    headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(answer))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        _app,
        host="127.0.0.1",
        port=port,
        http=CoalescingProtocol,
        lifespan="off",
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(f"{url}/", None)
    yield url
    server.should_exit = True
    thread.join(5)


async def test_uvicorn_on_it_answers_as_ever(served: str) -> None:
    async with httpx.AsyncClient(base_url=served) as client:
        for n in range(5):  # one kept-alive connection
            answer = await client.post("/echo", content=b"a" * n)
            assert (answer.status_code, answer.text) == (200, f"got {n}")
        head = await client.head("/echo")
        assert head.status_code == 200
        assert head.content == b""
        size = 0
        async with client.stream("GET", "/stream") as streamed:
            async for chunk in streamed.aiter_raw():
                size += len(chunk)
        assert size == 40 * 256 * 1024


def test_expect_100_continue_is_answered_before_the_body(served: str) -> None:
    port = int(served.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(
            b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\nexpect: 100-continue\r\n\r\n"
        )
        assert conn.recv(1024).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.sendall(b"body")
        answer = b""
        while not answer.endswith(b"got 4"):
            answer += conn.recv(1024)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
