"""The hop to Jira: HTTP/1.1 over a pool of keep-alive connections, bytes in, bytes out.

A gateway's client does one thing: write the request it was handed, exactly, and hand back
the response as Jira sent it. So this one is small: the request line and headers are written
as the bytes they came in (nothing added but ``Host`` and, for a body of unknown length,
chunked framing), and responses are parsed by ``httptools`` (llhttp, the parser Node.js and
uvicorn use, in C). The general-purpose clients it replaces cost 50-60 µs of CPU per request
on the client side (cookie jars, URL objects, header dictionaries, tracing) against about 12
here (``bench/README.md``).

What it takes care of (RFC 9112): a response to ``HEAD`` has no body whatever its
``Content-Length``; ``1xx`` interim responses are skipped; a response without a length is
read to the end of the connection, which is then closed; a connection is reused only when
the response said keep-alive, its body was read to the end and the request's body was
written to the end. Timeouts: ``connect`` bounds the wait for a pooled connection and the
TCP/TLS handshake; ``read`` bounds every wait for Jira's bytes (the status line, then each
chunk), not the time the caller takes to consume them. Failures are
:class:`~jiraguard.upstream.UpstreamError` (:class:`~jiraguard.upstream.UpstreamTimeout` for
a timeout); a body iterator's own exception ends the request and is raised as an
``UpstreamError`` whose cause it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast

import httptools

from jiraguard.upstream import RawHeaders, UpstreamError, UpstreamTimeout

Body = bytes | AsyncIterator[bytes] | None

_HIGH_WATER = 256 * 1024
"""Response bytes buffered before reading from Jira pauses until the caller takes some."""

_MAX_HEAD_BYTES = 256 * 1024
"""Most bytes of header fields read from Jira in one response (Jira's own large cookies and
CSP headers stay far below; a response that never ends its headers is cut here)."""

_WITH_LENGTH = frozenset({b"POST", b"PUT", b"PATCH"})
"""Methods whose request says ``Content-Length: 0`` when it has no body (RFC 9110 §8.6: a
user agent should send it when the method defines a meaning for content)."""


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float
    read: float


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection to Jira, carrying one request at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._parser: httptools.HttpResponseParser | None = None
        self._head: asyncio.Future[None] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._drain: asyncio.Future[None] | None = None
        self._failure: UpstreamError | None = None
        self.status = 0
        self.headers: RawHeaders = []
        self._framed = False
        """The response has a length or chunked framing (else it ends with the connection)."""
        self.complete = False
        self._head_only = False
        self._last_bytes = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self.keep_alive = False
        self._head_bytes = 0

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self._last_bytes = self.loop.time()
        if self._parser is None:  # bytes while no request is out: the connection is unusable
            self._fail(UpstreamError("Jira sent bytes no request asked for"))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"Jira's response cannot be read: {type(exc).__name__}"))

    def eof_received(self) -> bool:
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        reading_body = self._parser is not None and self._head is not None and self._head.done()
        if reading_body and not self.complete and not self._framed and self._failure is None:
            self.on_message_complete()  # RFC 9112 §6.3: the body ends with the connection
            return
        self._fail(UpstreamError("Jira closed the connection"))
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def pause_writing(self) -> None:
        self._drain = self.loop.create_future()

    def resume_writing(self) -> None:
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        self._drain = None

    # -- httptools callbacks ---------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.complete:  # a second answer to one request: the connection is not to be used
            self._fail(UpstreamError("Jira sent more than one response to a request"))
            raise self._failure  # type: ignore[misc]  # stops the parser (data_received)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        self._head_bytes += len(name) + len(value)
        if self._head_bytes > _MAX_HEAD_BYTES:
            self._fail(UpstreamError("Jira's response headers are too large"))
            raise self._failure  # type: ignore[misc]  # stops the parser (data_received)

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            self.headers = []  # an interim response (RFC 9110 §15.2): the final one follows
            return
        self.status = status
        self._framed = self._head_only or status in (204, 304) or _framed(self.headers)
        if self._head is not None and not self._head.done():
            self._head.set_result(None)
        if self._head_only:
            self.on_message_complete()

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.status == 0:  # the end of an interim response
            return
        if self.complete:
            return
        self.complete = True
        parser = self._parser
        self.keep_alive = bool(parser is not None and parser.should_keep_alive() and self._framed)
        self._parser = None  # any further byte before the next request is an error
        self._wake()

    # -- the caller's side -----------------------------------------------------------------

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, failure: UpstreamError) -> None:
        if self._failure is None:
            self._failure = failure
        for future in (self._head, self._waiter):
            if future is not None and not future.done():
                future.set_exception(self._failure)
                # Whoever waits gets it; no one waiting (the body writer failed first) is no
                # error to report at collection.
                future.exception()
        if self.transport is not None:
            self.transport.abort()
        self.closed = True

    def start(self, head_only: bool) -> None:
        """Get ready for one response (``head_only``: to a HEAD request)."""
        self._parser = httptools.HttpResponseParser(self)
        self._head = self.loop.create_future()
        self._head_only = head_only
        self.status, self.headers, self.complete = 0, [], False
        self._head_bytes = 0
        self._framed = False
        self.keep_alive = False
        self._chunks.clear()
        self._buffered = 0

    async def write(self, data: bytes) -> None:
        if self.closed or self.transport is None:
            raise self._failure or UpstreamError("Jira closed the connection")
        self.transport.write(data)
        if self._drain is not None:
            await self._drain

    async def _await(self, future: asyncio.Future[None], seconds: float) -> None:
        """Wait for ``future`` while Jira's bytes keep coming: UpstreamTimeout once none has
        come for ``seconds`` (counted from now: the caller's own pace does not count)."""
        self._last_bytes = self.loop.time()
        self._timer = self.loop.call_at(self._last_bytes + seconds, self._check_read, seconds)
        try:
            await future
        finally:
            self._timer.cancel()

    def _check_read(self, seconds: float) -> None:
        due = self._last_bytes + seconds
        if self.loop.time() >= due:
            self._fail(UpstreamTimeout("Jira did not answer in time"))
        else:  # bytes came meanwhile: wait again from the last of them
            self._timer = self.loop.call_at(due, self._check_read, seconds)

    def _new_waiter(self) -> asyncio.Future[None]:
        self._waiter = self.loop.create_future()
        if self._chunks or self.complete or self._failure is not None:
            self._waiter.set_result(None)
        return self._waiter

    async def head(self, seconds: float, writer: asyncio.Task[None] | None) -> None:
        """Wait for the status line and headers: once the request's body (``writer``) is
        written, for at most ``seconds`` of Jira's silence; before, for as long as the body
        takes (the caller watches that Jira takes it)."""
        assert self._head is not None
        if writer is not None and not writer.done():
            await asyncio.wait((writer, self._head), return_when=asyncio.FIRST_COMPLETED)
            if writer.done() and not self._head.done():
                writer.result()  # the body's own failure, if it failed
        if self._failure is not None and not self._head.done():
            raise self._failure
        await self._await(self._head, seconds)

    async def chunk(self, seconds: float) -> bytes | None:
        """The next piece of the body, or None at its end."""
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                self._buffered -= len(chunk)
                if self._paused and self._buffered <= _HIGH_WATER // 2:
                    self._paused = False
                    if self.transport is not None and not self.closed:
                        self.transport.resume_reading()
                return chunk
            if self.complete:
                return None
            if self._failure is not None:
                raise self._failure
            await self._await(self._new_waiter(), seconds)


def _framed(headers: RawHeaders) -> bool:
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length" or (
            lowered == b"transfer-encoding" and b"chunked" in value.lower()
        ):
            return True
    return False


class Response:
    """Jira's answer: status and headers as received; the body still to be read
    (:meth:`chunks`), then :meth:`release` (always) gives the connection back or closes it."""

    def __init__(
        self,
        pool: HopPool,
        connection: _Connection,
        timeouts: Timeouts,
        writer: asyncio.Task[None] | None,
    ) -> None:
        self._pool = pool
        self._connection = connection
        self._timeouts = timeouts
        self._writer = writer
        """The request body still being written (Jira may answer before it has it all)."""
        self.status = connection.status
        self.raw_headers = connection.headers
        self._released = False

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body, piece by piece as it arrives: UpstreamError if Jira breaks it off."""
        while (chunk := await self._connection.chunk(self._timeouts.read)) is not None:
            yield chunk

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        connection, writer = self._connection, self._writer
        written = writer is None or (
            writer.done() and not writer.cancelled() and writer.exception() is None
        )
        if writer is not None and not writer.done():
            writer.cancel()
        self._pool.give_back(connection, connection.complete and connection.keep_alive and written)


class HopPool:
    """Keep-alive connections to one origin, at most ``limit`` open; the most recently used
    idle one first, an idle one older than ``keepalive`` seconds closed instead."""

    def __init__(
        self,
        host: str,
        port: int,
        tls: ssl.SSLContext | None,
        limit: int,
        keepalive: float = 30.0,
    ) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.authority = authority(host, port, tls is not None).encode("ascii")
        self.limit = limit
        self.keepalive = keepalive
        self._idle: list[_Connection] = []
        self._open = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._closing = False

    @property
    def connections(self) -> int:
        """Connections open, idle or in use."""
        return self._open

    async def send(
        self,
        method: str,
        target: bytes,
        headers: RawHeaders,
        body: Body,
        timeouts: Timeouts,
    ) -> Response:
        """Write the request (``headers`` as given, then ``Host``) and wait for the response's
        status line and headers."""
        verb = method.encode("ascii")
        lines = [verb, b" ", target, b" HTTP/1.1\r\nhost: ", self.authority, b"\r\n"]
        for name, value in headers:
            lines += (name, b": ", value, b"\r\n")
        framing = (body is not None or verb in _WITH_LENGTH) and not any(
            name.lower() == b"content-length" for name, _ in headers
        )
        if not framing:
            pass
        elif body is None:
            lines.append(b"content-length: 0\r\n")
        elif isinstance(body, bytes):
            lines.append(b"content-length: %d\r\n" % len(body))
        else:
            lines.append(b"transfer-encoding: chunked\r\n")
            body = _chunked(body)
        lines.append(b"\r\n")
        head = b"".join(lines)
        # Each line ends in CRLF and holds no other CR or LF: no value can start a header or
        # a request of its own (RFC 9112 §2.2). Lines: request, host, headers, framing, end.
        breaks = 3 + len(headers) + framing
        if head.count(b"\n") != breaks or head.count(b"\r") != breaks:
            raise UpstreamError("a request line or header holds CR or LF")
        connection = await self._acquire(timeouts.connect)
        writer: asyncio.Task[None] | None = None
        try:
            connection.start(head_only=verb == b"HEAD")
            await connection.write(head + body if isinstance(body, bytes) else head)
            if body is not None and not isinstance(body, bytes):
                writer = asyncio.ensure_future(_write_body(connection, body))
            await connection.head(timeouts.read, writer)
        except BaseException as exc:
            if writer is not None and not writer.done():
                writer.cancel()
            if writer is not None:
                with contextlib.suppress(BaseException):
                    await writer
            connection.closed = True
            self.give_back(connection, False)
            if isinstance(exc, UpstreamError) or not isinstance(exc, Exception):
                raise
            raise UpstreamError(type(exc).__name__) from exc
        return Response(self, connection, timeouts, writer)

    async def _acquire(self, seconds: float) -> _Connection:
        """An idle connection, else a new one once fewer than ``limit`` are open."""
        idle = self._idle_connection()
        if idle is not None:
            return idle
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(seconds):
                while self._open >= self.limit:
                    waiter = loop.create_future()
                    self._waiting.append(waiter)
                    try:
                        await waiter
                    finally:
                        if waiter in self._waiting:
                            self._waiting.remove(waiter)
                    idle = self._idle_connection()
                    if idle is not None:
                        return idle
                self._open += 1
                try:
                    _, protocol = await loop.create_connection(
                        lambda: _Connection(loop),
                        self.host,
                        self.port,
                        ssl=self.tls,
                        server_hostname=self.host if self.tls is not None else None,
                    )
                except BaseException:
                    self._open -= 1
                    self._wake_one()
                    raise
        except TimeoutError as exc:
            raise UpstreamTimeout("no connection to Jira in time") from exc
        except (OSError, ssl.SSLError) as exc:
            raise UpstreamError(type(exc).__name__) from exc
        return protocol

    def _idle_connection(self) -> _Connection | None:
        now = asyncio.get_running_loop().time()
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and now - connection.idle_since < self.keepalive:
                return connection
            self._close(connection)
        return None

    def give_back(self, connection: _Connection, reusable: bool) -> None:
        if reusable and not connection.closed and not self._closing:
            connection.idle_since = connection.loop.time()
            self._idle.append(connection)
        else:
            self._close(connection)
        self._wake_one()

    def _close(self, connection: _Connection) -> None:
        transport = connection.transport
        if transport is not None and not transport.is_closing():
            transport.abort()  # nothing of an unfinished exchange may be read by the next one
        connection.closed = True
        self._open -= 1

    def _wake_one(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def aclose(self) -> None:
        self._closing = True
        while self._idle:
            self._close(self._idle.pop())


def authority(host: str, port: int, tls: bool) -> str:
    """``host[:port]`` as a URL or ``Host`` spells it: IPv6 in brackets, no default port."""
    name = f"[{host}]" if ":" in host else host
    default = 443 if tls else 80
    return name if port == default else f"{name}:{port}"


async def _chunked(body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``body`` in chunked transfer coding (RFC 9112 §7.1)."""
    async for chunk in body:
        if chunk:
            yield b"%x\r\n%s\r\n" % (len(chunk), chunk)
    yield b"0\r\n\r\n"


async def _write_body(connection: _Connection, body: AsyncIterator[bytes]) -> None:
    """Write the request body; any failure (the iterator's own included) ends the
    connection, so the response side sees it."""
    try:
        async for chunk in body:
            await connection.write(chunk)
    except UpstreamError:
        raise
    except Exception as exc:
        failure = UpstreamError(type(exc).__name__)
        failure.__cause__ = exc
        connection._fail(failure)
        raise failure from exc
