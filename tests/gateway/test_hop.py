"""The hop's own duties (RFC 9112): framing, interim responses, keep-alive and the pool.

Against the stand-in upstream where uvicorn can show the behaviour, and against a scripted
server on a bare socket for what no working server sends (interim responses, a body that
ends with the connection, endless headers, a connection closed while idle).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jiraguard.proxy.hop import HopPool, Response, Timeouts
from jiraguard.upstream import UpstreamError, UpstreamTimeout

pytestmark = pytest.mark.anyio

TIMEOUTS = Timeouts(connect=2.0, read=2.0)
Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Scripted:
    """A server on a bare socket that answers each connection with ``script``; counts the
    connections it accepted and the requests' heads it read."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.heads: list[bytes] = []
        self.open = 0
        self.most_open = 0

    async def __aenter__(self) -> HopPool:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.pool = HopPool("127.0.0.1", port, None, limit=4)
        return self.pool

    async def __aexit__(self, *exc: object) -> None:
        await self.pool.aclose()
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            await self.script(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.open -= 1
            writer.close()

    async def head(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        self.heads.append(head)
        return head


async def _read(response: Response) -> bytes:
    body = b"".join([chunk async for chunk in response.chunks()])
    response.release()
    return body


async def _get(pool: HopPool, method: str = "GET") -> tuple[int, bytes]:
    response = await pool.send(method, b"/x", [(b"accept", b"*/*")], None, TIMEOUTS)
    return response.status, await _read(response)


async def test_keep_alive_carries_many_requests_on_one_connection() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await scripted.head(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")

    scripted = Scripted(script)
    async with scripted as pool:
        answers = [await _get(pool) for _ in range(5)]
    assert answers == [(200, b"ok")] * 5
    assert scripted.connections == 1
    first = scripted.heads[0]
    assert first.startswith(b"GET /x HTTP/1.1\r\nhost: 127.0.0.1:")
    assert first.endswith(b"\r\naccept: */*\r\n\r\n")  # nothing of the hop's own but Host


async def test_interim_responses_are_skipped() -> None:
    """RFC 9110 §15.2: a 1xx is followed by the final response, which is the answer."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await scripted.head(reader)
            writer.write(b"HTTP/1.1 103 Early Hints\r\nlink: </s.css>; rel=preload\r\n\r\n")
            writer.write(b"HTTP/1.1 201 Created\r\ncontent-length: 4\r\nx-a: b\r\n\r\ndone")

    scripted = Scripted(script)
    async with scripted as pool:
        response = await pool.send("GET", b"/x", [], None, TIMEOUTS)
        assert response.raw_headers == [(b"content-length", b"4"), (b"x-a", b"b")]
        assert (response.status, await _read(response)) == (201, b"done")
        assert await _get(pool) == (201, b"done")
    assert scripted.connections == 1


async def test_head_has_no_body_whatever_its_length_says() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await scripted.head(reader)
            if head.startswith(b"HEAD"):
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
            else:
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nget")

    scripted = Scripted(script)
    async with scripted as pool:
        async with asyncio.timeout(1):  # waiting for 1,000 bytes that never come: a hang
            assert await _get(pool, "HEAD") == (200, b"")
            assert await _get(pool) == (200, b"get")  # the same connection, not confused
    assert scripted.connections == 1


async def test_a_body_without_length_ends_with_the_connection() -> None:
    """RFC 9112 §6.3: no Content-Length, not chunked: the body is what comes until close;
    that connection is not used again."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await scripted.head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of ")
        await writer.drain()
        writer.write(b"it")
        await writer.drain()

    scripted = Scripted(script)
    async with scripted as pool:
        assert await _get(pool) == (200, b"all of it")
        assert await _get(pool) == (200, b"all of it")
    assert scripted.connections == 2


async def test_a_body_cut_short_is_an_error_not_a_short_answer() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await scripted.head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this")
        await writer.drain()

    scripted = Scripted(script)
    async with scripted as pool:
        response = await pool.send("GET", b"/x", [], None, TIMEOUTS)
        with pytest.raises(UpstreamError):
            await _read(response)
        response.release()
        assert pool.connections == 0  # the broken connection was not kept


async def test_connection_close_is_honoured() -> None:
    """A response saying ``Connection: close`` ends its connection's use, even when the
    server leaves the socket open."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await scripted.head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(3)  # a request sent on it anyway would wait for nothing

    scripted = Scripted(script)
    async with scripted as pool:
        async with asyncio.timeout(1):
            assert await _get(pool) == (200, b"ok")
            assert await _get(pool) == (200, b"ok")
    assert scripted.connections == 2


async def test_a_connection_the_server_closed_while_idle_is_not_used() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await scripted.head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        await asyncio.sleep(0.05)  # then the server drops the kept-alive connection

    scripted = Scripted(script)
    async with scripted as pool:
        assert await _get(pool) == (200, b"ok")
        await asyncio.sleep(0.3)
        assert await _get(pool) == (200, b"ok")
    assert scripted.connections == 2


async def test_a_second_answer_to_one_request_ends_the_connection() -> None:
    """Bytes after the answer, in the same segment: the answer stands as it was, and the
    connection is not used again (nothing of the extra answer reaches the next request)."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await scripted.head(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-a: 1\r\n\r\nok"
            b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\nx-smuggled: 1\r\n\r\nevil"
        )
        await writer.drain()
        await asyncio.sleep(1)

    scripted = Scripted(script)
    async with scripted as pool:
        response = await pool.send("GET", b"/x", [], None, TIMEOUTS)
        assert response.raw_headers == [(b"content-length", b"2"), (b"x-a", b"1")]
        assert await _read(response) == b"ok"
        assert pool.connections == 0


async def test_endless_headers_are_cut_off() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await scripted.head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(10_000):
            writer.write(b"x-filler: " + b"f" * 100 + b"\r\n")
            await writer.drain()

    scripted = Scripted(script)
    async with scripted as pool:
        with pytest.raises(UpstreamError, match="too large"):
            await pool.send("GET", b"/x", [], None, TIMEOUTS)


async def test_silence_is_a_timeout_and_a_slow_trickle_is_not() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await scripted.head(reader)
        if b"/silent" in head:
            await asyncio.sleep(5)
            return
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n")
        for byte in b"trickl":  # 0.6 s in all, never 0.3 s without a byte
            await asyncio.sleep(0.1)
            writer.write(bytes([byte]))
            await writer.drain()

    scripted = Scripted(script)
    short = Timeouts(connect=2.0, read=0.3)
    async with scripted as pool:
        with pytest.raises(UpstreamTimeout):
            await pool.send("GET", b"/silent", [], None, short)
        response = await pool.send("GET", b"/trickle", [], None, short)
        assert await _read(response) == b"trickl"


async def test_the_pool_never_opens_more_than_its_limit() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await scripted.head(reader)
            await asyncio.sleep(0.02)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")

    scripted = Scripted(script)
    async with scripted as pool:
        answers = await asyncio.gather(*(_get(pool) for _ in range(20)))
    assert answers == [(200, b"ok")] * 20
    assert scripted.most_open <= 4
    assert scripted.connections == 4


async def test_a_body_of_unknown_length_goes_chunked() -> None:
    received: list[bytes] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await scripted.head(reader)
        assert b"\r\ntransfer-encoding: chunked\r\n" in head
        while (size := int((await reader.readline()).strip(), 16)) != 0:
            received.append(await reader.readexactly(size))
            await reader.readexactly(2)
        await reader.readexactly(2)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")

    async def body() -> AsyncIterator[bytes]:
        for part in (b"one", b"", b"two"):
            yield part

    scripted = Scripted(script)
    async with scripted as pool:
        response = await pool.send("POST", b"/x", [], body(), TIMEOUTS)
        assert (response.status, await _read(response)) == (204, b"")
    assert received == [b"one", b"two"]


@settings(max_examples=60, deadline=None)
@given(
    before=st.binary(max_size=12),
    brk=st.sampled_from([b"\r", b"\n", b"\r\n"]),
    after=st.binary(max_size=12),
    in_name=st.booleans(),
)
def test_no_header_can_start_a_line_of_its_own(
    before: bytes, brk: bytes, after: bytes, in_name: bool
) -> None:
    """A CR or LF anywhere in what the hop is handed is refused before any byte is sent:
    no header or request can be smuggled onto the connection."""

    async def check() -> None:
        pool = HopPool("127.0.0.1", 9, None, limit=1)  # never connected to
        bad = before + brk + after
        header = (bad, b"v") if in_name else (b"x-a", bad)
        with pytest.raises(UpstreamError, match="CR or LF"):
            await pool.send("GET", b"/x", [(b"accept", b"*/*"), header], None, TIMEOUTS)
        assert pool.connections == 0

    asyncio.run(check())


_TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12).map(
    lambda name: "x-" + name
)
_VALUE = st.binary(max_size=40).map(
    lambda raw: bytes(b for b in raw if b == 0x09 or 0x20 <= b <= 0x7E or b >= 0x80).strip()
)


@st.composite
def _answers(draw: st.DrawFn) -> tuple[bytes, int, list[tuple[bytes, bytes]], bytes, str, bool]:
    """A response as a server may send it: interim responses first, any final status,
    headers, a body framed by length, by chunks (cut anywhere) or by the connection's end."""
    status = draw(st.sampled_from([200, 201, 204, 301, 304, 400, 404, 409, 500, 503]))
    headers = [
        (name.encode(), value)
        for name, value in draw(st.lists(st.tuples(_TOKEN, _VALUE), max_size=6))
    ]
    body = b"" if status in (204, 304) else draw(st.binary(max_size=3000))
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    head_request = draw(st.booleans())
    wire = b"".join(
        b"HTTP/1.1 %d Interim\r\nx-hint: %d\r\n\r\n" % (code, n)
        for n, code in enumerate(draw(st.lists(st.sampled_from([100, 102, 103]), max_size=2)))
    )
    wire += b"HTTP/1.1 %d Whatever\r\n" % status + b"".join(b"%s: %s\r\n" % h for h in headers)
    if status in (204, 304):
        framing = "length"
        wire += b"\r\n"
    elif framing == "length":
        wire += b"content-length: %d\r\n\r\n" % len(body) + (b"" if head_request else body)
    elif framing == "chunked":
        wire += b"transfer-encoding: chunked\r\n\r\n"
        if not head_request:
            cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=5)))
            pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
            wire += b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p) + b"0\r\n\r\n"
    else:
        wire += b"connection: close\r\n\r\n" + (b"" if head_request else body)
    return wire, status, headers, b"" if head_request else body, framing, head_request


@settings(max_examples=120, deadline=None)
@given(answers=st.lists(_answers(), min_size=1, max_size=3), split=st.integers(1, 64))
def test_any_well_formed_answer_comes_through_whole(
    answers: list[tuple[bytes, int, list[tuple[bytes, bytes]], bytes, str, bool]], split: int
) -> None:
    """Whatever the status, headers, framing and the way the bytes are cut into segments,
    the caller gets the final status, the headers as sent and the body, and a connection is
    kept exactly when the answer allows it."""

    async def check() -> None:
        queue = list(answers)

        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while queue:
                await scripted.head(reader)
                wire, *_, framing, _ = queue.pop(0)
                for at in range(0, len(wire), split):
                    writer.write(wire[at : at + split])
                    await writer.drain()
                if framing == "close":
                    return

        scripted = Scripted(script)
        async with scripted as pool:
            for _, status, headers, body, framing, head_request in answers:
                method = "HEAD" if head_request else "GET"
                async with asyncio.timeout(5):
                    response = await pool.send(method, b"/x", [], None, TIMEOUTS)
                    assert response.status == status
                    framing_names = {b"content-length", b"transfer-encoding", b"connection"}
                    assert [h for h in response.raw_headers if h[0] not in framing_names] == headers
                    assert await _read(response) == body
                assert pool.connections == (0 if framing == "close" else 1)

    asyncio.run(check())


@settings(max_examples=150, deadline=None)
@given(garbage=st.binary(min_size=1, max_size=300))
def test_an_answer_that_is_not_http_is_an_upstream_error(garbage: bytes) -> None:
    """Bytes that are no HTTP response: UpstreamError (502 at the gateway) or, if they
    happen to be one, an answer; never another exception, never a hang."""

    async def check() -> None:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await scripted.head(reader)
            writer.write(garbage)
            await writer.drain()

        scripted = Scripted(script)
        async with scripted as pool:
            async with asyncio.timeout(5):
                try:
                    response = await pool.send("GET", b"/x", [], None, Timeouts(2.0, 0.5))
                    await _read(response)
                except UpstreamError:
                    pass
            assert pool.connections <= 1

    asyncio.run(check())
