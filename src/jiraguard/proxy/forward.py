"""The streaming forwarder: a pure ASGI app that sends each request on to the upstream Jira.

Bodies stream in both directions, one chunk at a time (an attachment of any size passes
through in bounded memory); nothing is buffered. Header handling is in
:mod:`jiraguard.proxy.headers`, identity in :mod:`jiraguard.proxy.identity_headers`.

Failures toward the upstream become Jira-format errors (:func:`error_response`): no answer in
``connect_timeout``/``read_timeout`` is 504, a refused or broken connection is 502. Once the
status line has been sent a failure can only end the connection (the client sees a short
body), which is what happens when the upstream breaks mid-body or a body outgrows its limit.

The connection pool (:class:`UpstreamPool`) is shared by the process: a transparent hop
(:mod:`jiraguard.proxy.hop`: no cookies kept, no header of its own but ``Host``, no
decoding, no redirects followed).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import quote, urlsplit

import anyio
import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jiraguard.auth.clientip import ClientAddress
from jiraguard.auth.credentials import is_form
from jiraguard.auth.errors import InvalidToken
from jiraguard.auth.jira_credentials import METHOD as JIRA_METHOD
from jiraguard.auth.note import NOTE, RequestNote
from jiraguard.auth.principal import Principal
from jiraguard.oauth1 import OAuth1Error
from jiraguard.proxy.headers import (
    HOP_BY_HOP,
    ContextPath,
    connection_options,
    without_access_token,
)
from jiraguard.proxy.hop import Body, HopPool, Response, Timeouts, authority
from jiraguard.proxy.identity_headers import IdentityHeaders, UnsendableUsername
from jiraguard.proxy.known_users import JiraUnavailable, KnownUsers
from jiraguard.proxy.oauth1_signer import OAuth1Impersonation, form_names_identity
from jiraguard.responses import error_response
from jiraguard.settings import AuthSettings, UpstreamSettings
from jiraguard.telemetry import Telemetry
from jiraguard.upstream import (
    MAX_ANSWER_BYTES,
    AnswerTooLarge,
    RawHeaders,
    UpstreamError,
    UpstreamTimeout,
)

log = logging.getLogger(__name__)

ORIGINAL_TARGET = "jiraguard.original_target"
"""Scope key: the request-target as received, before any canonicalisation (set by
:class:`OriginalTargetMiddleware`)."""

_WATCH_ABOVE = 1024 * 1024
"""Responses larger than this (or of unknown length) are streamed while watching for the
client going away, so a dropped download stops pulling from the upstream."""

_FORWARDED = frozenset({b"host", b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host"})
_EXPECT = b"expect"  # the server in front of us answered 100-continue already (RFC 9110 §10.1.1)
_SESSION = frozenset({b"cookie"})
_UPSTREAM_DROPPED = HOP_BY_HOP | {b"date"}
"""Response headers never passed on, besides those ``Connection`` names. Date is one field
(RFC 9110 §6.6.1): the server jiraguard runs in writes its own."""


class UpstreamPool:
    """The process's one connection pool to the upstream (``upstream.url``): keep-alive, no
    retries, no redirects followed, no cookies kept, bodies passed as they are (no decoding).

    Made of :mod:`jiraguard.proxy.hop` (requests written as the bytes they came in, responses
    parsed by llhttp in C): the hop to Jira costs about a fifth of the CPU it did through a
    general-purpose client (``bench/README.md``).
    """

    def __init__(self, settings: UpstreamSettings, telemetry: Telemetry | None = None) -> None:
        if settings.url is None:
            raise ValueError("the upstream pool needs upstream.url")
        self.telemetry = telemetry
        scheme, host, port = _endpoint(settings.url)
        self.origin = _origin(settings.url)
        """``scheme://host[:port]`` of ``upstream.url``, the part every target is put after."""
        # Once: loading CA certificates takes milliseconds.
        tls = _tls_context(settings) if scheme == "https" else None
        self._hop = HopPool(host, port, tls, settings.max_connections)

    async def send(
        self,
        method: str,
        target: bytes,
        headers: RawHeaders,
        body: Body,
        timeouts: Timeouts,
    ) -> Response:
        """Send a request for ``target`` (path and query, already valid on the request line);
        the response's body is still to be read, then the response released.
        :class:`UpstreamError` (or :class:`UpstreamTimeout`) when Jira did not answer."""
        started = time.perf_counter()
        status = "error"
        try:
            response = await self._hop.send(method, target, headers, body, timeouts)
            status = _STATUS_CLASSES.get(response.status // 100, "error")
            return response
        finally:
            if self.telemetry is not None:
                self.telemetry.upstream.observe((status,), time.perf_counter() - started)

    async def ask(
        self, method: str, url: str, headers: RawHeaders, seconds: float
    ) -> tuple[int, bytes]:
        """A question of jiraguard's own (:class:`jiraguard.upstream.Upstream`)."""
        if _origin(url) != self.origin:  # the same server however its URL is spelled
            raise ValueError("a question for another server than upstream.url")
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            async with asyncio.timeout(seconds):
                response = await self.send(
                    method, target.encode("ascii"), headers, None, Timeouts(seconds, seconds)
                )
                body = bytearray()
                try:
                    async for chunk in response.chunks():
                        body += chunk
                        if len(body) > MAX_ANSWER_BYTES:
                            raise AnswerTooLarge()
                finally:
                    response.release()  # back to the pool once read to the end, else closed
        except TimeoutError as exc:
            raise UpstreamTimeout(type(exc).__name__) from exc
        return response.status, bytes(body)

    async def aclose(self) -> None:
        await self._hop.aclose()


_STATUS_CLASSES = {n: f"{n}xx" for n in range(1, 6)}


def _endpoint(url: str) -> tuple[str, str, int]:
    """``url``'s scheme, host and port (the scheme's default when none is given)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("upstream.url must be an http or https URL")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError("upstream.url has a port that is not a number") from exc
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def _origin(url: str) -> str:
    """``scheme://authority`` of ``url``, normalised: scheme and host in lower case, no
    default port (one spelling per server)."""
    scheme, host, port = _endpoint(url)
    return f"{scheme}://{authority(host, port, scheme == 'https')}"


def _tls_context(settings: UpstreamSettings) -> ssl.SSLContext:
    """How the gateway speaks TLS to Jira: trusting ``ca_bundle`` (else the system's CA
    certificates), presenting ``client_cert`` when mutual TLS is set."""
    if settings.ca_bundle is not None:
        context = ssl.create_default_context(cafile=str(settings.ca_bundle))
    else:
        context = httpx.create_ssl_context(trust_env=False)
    if settings.client_cert is not None:
        key = str(settings.client_key) if settings.client_key is not None else None
        context.load_cert_chain(str(settings.client_cert), key)
    return context


def make_upstream_pool(
    settings: UpstreamSettings, telemetry: Telemetry | None = None
) -> UpstreamPool:
    """The process's connection pool to ``settings.url``."""
    return UpstreamPool(settings, telemetry)


def raw_path(scope: Scope) -> bytes:
    """The path as on the request line: ``raw_path``, or the decoded path percent-encoded
    again (RFC 3986 §2.1) when a middleware rewrote it."""
    raw: bytes | None = scope.get("raw_path")
    if raw:
        return raw
    return quote(scope["path"], safe="/:@!$&'()*+,;=~").encode("ascii")


class OriginalTargetMiddleware:
    """Records the raw request-target before other middleware rewrites the path, so paths
    jiraguard does not protect are forwarded exactly as the client sent them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = raw_path(scope)
            query = scope.get("query_string", b"")
            scope[ORIGINAL_TARGET] = path + b"?" + query if query else path
        await self.app(scope, receive, send)


_MAX_FORM_BYTES = 1024 * 1024
"""Largest form body signed for ``oauth1_impersonation`` (RFC 5849 §3.4.1.3.1 signs it, so
it is read whole; Jira's REST API takes JSON, forms are rare and small)."""


async def _read_whole(receive: Receive, limit: int) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone()
        body += message.get("body", b"")
        if len(body) > limit:
            raise _TooLarge()
        if not message.get("more_body", False):
            return bytes(body)


class _TooLarge(Exception):
    """The request body outgrew ``max_request_bytes`` while streaming."""


class _ClientGone(Exception):
    """The client disconnected before its request body ended."""


class _ClientBody:
    """The client's body on its way to Jira, chunk by chunk, refused once it passes the
    limit. The HTTP client sends it from a task of its own and reports only a broken
    connection, so the reason it stopped early is kept here (:attr:`failure`)."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self.receive = receive
        self.limit = limit
        self.failure: _TooLarge | _ClientGone | None = None
        self.handed: float | None = time.monotonic()
        """When Jira was last handed a chunk (or the request began); None while the client is
        the one awaited."""

    async def chunks(self) -> AsyncIterator[bytes]:
        received = 0
        while True:
            self.handed = None
            message = await self.receive()
            self.handed = time.monotonic()
            if message["type"] == "http.disconnect":
                self.failure = _ClientGone()
                raise self.failure
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if received > self.limit:
                self.failure = _TooLarge()
                raise self.failure
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return


async def _while_taken(
    sending: Awaitable[Response], body: _ClientBody | None, idle: float
) -> Response:
    """Await ``sending`` (a request with a body) while Jira takes the body or answers:
    :class:`UpstreamTimeout` once it has done neither for ``idle`` seconds: the write
    timeout, without which a Jira that stops reading would hold the request for ever. Time
    spent waiting for the client's own bytes does not count."""
    started = time.monotonic()
    task = asyncio.ensure_future(sending)
    try:
        while True:
            done, _ = await asyncio.wait((task,), timeout=idle)
            if done:
                return task.result()
            handed = started if body is None else body.handed
            if handed is not None and time.monotonic() - handed >= idle:
                raise UpstreamTimeout("Jira stopped taking the request body")
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, UpstreamError):
                await task


_TARGET = re.compile(rb"/[!\x24-~\x22]*")
"""A request-target the upstream may be sent: a path and query of visible ASCII without
``#`` (RFC 3986 §3: the fragment is never sent)."""


class UpstreamProxy:
    """Forwards HTTP requests to ``settings.url``; the auth middleware runs in front of it."""

    def __init__(
        self,
        settings: UpstreamSettings,
        pool: UpstreamPool,
        *,
        client_address: ClientAddress,
        auth: Callable[[], AuthSettings],
        public_url: str | None,
        realm: str = "jiraguard",
    ) -> None:
        """``auth``: the authentication settings in force (protected paths, query tokens),
        read per request so a configuration change applies here as in the auth middleware."""
        if settings.url is None:
            raise ValueError("the proxy needs upstream.url")
        self.settings = settings
        self.pool = pool
        self.client_address = client_address
        self.auth = auth
        self.public_url = public_url.rstrip("/") if public_url else None
        """``server.base_url``: the origin redirects are rewritten to (else the request's)."""
        self.context = ContextPath(httpx.URL(settings.url))
        self.identity = IdentityHeaders(settings)
        self.realm = realm
        # read bounds each wait for Jira's bytes (the status line, then every chunk);
        # connect bounds the wait for a pooled connection and the TCP/TLS handshake.
        self.timeout = Timeouts(settings.connect_timeout, settings.read_timeout)
        self.oauth1: OAuth1Impersonation | None = None
        self.known_users: KnownUsers | None = None
        if settings.identity == "oauth1_impersonation":
            self.oauth1 = OAuth1Impersonation.from_settings(settings)
            self.known_users = KnownUsers(
                pool,
                settings.url,
                self.oauth1,
                ttl=settings.user_check_ttl,
                timeout=settings.connect_timeout + settings.read_timeout,
            )
        self.max_request = settings.max_request_bytes
        self.max_response = settings.max_response_bytes
        stripped = HOP_BY_HOP | self.identity.stripped | _FORWARDED | {_EXPECT}
        self._dropped = (stripped, stripped | _SESSION)
        """The request headers never forwarded: (on an open path, on a protected one)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # websockets are not proxied
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        auth = self.auth()
        note: RequestNote | None = scope.get(NOTE)
        decided = note.protected if note is not None else None
        # The auth step in front decided it; computed here only when the proxy runs alone.
        protected = scope["path"].startswith(auth.protected_paths) if decided is None else decided
        target = self._target(scope, protected, strip_query_token=auth.allow_query_token)
        upstream_target = self.context.upstream_target(target)
        principal: Principal | None = scope.get("user") if protected else None
        # Jira's own credentials (upstream.pass_jira_credentials) go on as they came: Jira
        # decides. Any other caller's Authorization never reaches Jira.
        own = principal is not None and principal.method == JIRA_METHOD
        form: bytes | None = None
        try:
            headers, length = self._request_headers(scope, protected)
            if own:
                headers += [(n, v) for n, v in scope["headers"] if n == b"authorization"]
            elif principal is not None and self.oauth1 is not None:
                upstream_target = self._requestor_target(upstream_target, principal)
            elif principal is not None:
                headers += self.identity.for_caller(
                    principal, scope["method"], upstream_target.decode("latin-1")
                )
        except OAuth1Error:
            await error_response(400, ["The query string cannot be read."])(scope, receive, send)
            return
        except UnsendableUsername as exc:
            await error_response(403, [str(exc)])(scope, receive, send)
            return
        except ValueError:
            await error_response(400, ["The Content-Length header is not valid."])(
                scope, receive, send
            )
            return
        if length is not None and length > self.max_request:
            # RFC 9110 §15.5.14: refused before a byte is forwarded.
            await error_response(413, ["The request body is too large."])(scope, receive, send)
            return
        has_body = length is not None or any(n == b"transfer-encoding" for n, _ in scope["headers"])
        if _TARGET.fullmatch(upstream_target) is None:  # bytes no URL may hold (RFC 3986 §2)
            await error_response(400, ["The request target is not valid."])(scope, receive, send)
            return
        if principal is not None and not own and self.oauth1 is not None:
            url = self.pool.origin + upstream_target.decode("ascii")
            signed = await self._impersonate(scope, receive, send, principal, url, has_body)
            if signed is None:
                return  # refused, the answer sent
            authorization, form = signed
            headers.append((b"authorization", authorization))
        streamed = _ClientBody(receive, self.max_request) if has_body and form is None else None
        content = form if form is not None else streamed.chunks() if streamed else None
        try:
            sending = self.pool.send(
                scope["method"], upstream_target, headers, content, self.timeout
            )
            if content is None:
                response = await sending
            else:
                response = await _while_taken(sending, streamed, self.settings.read_timeout)
        except UpstreamError as exc:
            await self._failed(scope, receive, send, exc, streamed)
            return
        if response.status == 401 and self.known_users is not None and principal is not None:
            self.known_users.forget(principal.username)  # ask Jira again next time
        try:
            await self._respond(scope, receive, send, response, protected)
        finally:
            response.release()  # back to the pool once read to the end, else closed

    async def _failed(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        exc: UpstreamError,
        streamed: _ClientBody | None,
    ) -> None:
        """The answer when no response came from Jira: the client's body was the cause
        (too large: 413; the client left: nothing), else 504 or 502."""
        failure = streamed.failure if streamed is not None else None
        if isinstance(failure, _TooLarge):
            await error_response(413, ["The request body is too large."])(scope, receive, send)
        elif isinstance(failure, _ClientGone):
            return
        elif isinstance(exc, UpstreamTimeout):
            log.warning("upstream did not answer in time: %s %s", scope["method"], scope["path"])
            await error_response(504, ["Jira did not answer in time."])(scope, receive, send)
        else:
            log.warning("upstream unreachable: %s", exc)
            await error_response(502, ["Jira could not be reached."])(scope, receive, send)

    def _requestor_target(self, target: bytes, principal: Principal) -> bytes:
        """The upstream target with the caller as the OAuth requestor in the query (and every
        identity parameter the client sent removed)."""
        assert self.oauth1 is not None
        path, _, query = target.partition(b"?")
        return path + b"?" + self.oauth1.requestor_query(query, principal.username)

    async def _impersonate(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        principal: Principal,
        url: str,
        has_body: bool,
    ) -> tuple[bytes, bytes | None] | None:
        """``oauth1_impersonation``: the ``Authorization`` for this request and its form body
        (signed, so read whole), once Jira is known to know the user; None when the request
        was refused here (the answer is sent)."""
        assert self.oauth1 is not None
        assert self.known_users is not None
        form: bytes | None = None
        if has_body and is_form(scope):
            try:
                form = await _read_whole(receive, _MAX_FORM_BYTES)
            except _TooLarge:
                await error_response(413, ["The form body is too large."])(scope, receive, send)
                return None
            except _ClientGone:
                return None
            if form_names_identity(form):
                # Tomcat's getParameter reads form bodies too: a client must not name a user.
                message = "The form body names a user or an OAuth parameter; it is not forwarded."
                await error_response(400, [message])(scope, receive, send)
                return None
        try:
            known = await self.known_users.known(principal.username)
        except JiraUnavailable as exc:
            log.warning("could not check a user with Jira: %s", exc)
            await error_response(502, ["Jira could not be reached."])(scope, receive, send)
            return None
        if not known:
            # Jira would run the request as anonymous: refused instead, never sent.
            refusal = InvalidToken("Jira does not know this user, or the user may not log in")
            await refusal.response(self.realm)(scope, receive, send)
            return None
        try:
            return self.oauth1.authorization(scope["method"], url, form), form
        except OAuth1Error:
            await error_response(400, ["The request cannot be signed."])(scope, receive, send)
            return None

    def _target(self, scope: Scope, protected: bool, *, strip_query_token: bool) -> bytes:
        """The request-target to forward: the canonical one (what the access rules judged)
        under protected prefixes, the client's own bytes elsewhere."""
        original: bytes | None = scope.get(ORIGINAL_TARGET)
        if original is not None and not protected:
            return original
        query: bytes = scope.get("query_string", b"")
        if protected and strip_query_token:
            query = without_access_token(query)
        path = raw_path(scope)
        return path + b"?" + query if query else path

    def _request_headers(self, scope: Scope, protected: bool) -> tuple[RawHeaders, int | None]:
        """End-to-end request headers plus ``X-Forwarded-*``, and the Content-Length if any."""
        incoming: RawHeaders = scope["headers"]
        # On a protected path the identity Jira acts on is the one jiraguard checked, never a
        # browser session: no Cookie.
        drop = self._dropped[protected]
        if named := connection_options(incoming):
            drop = drop | named
        headers: RawHeaders = []
        length: int | None = None
        host = b""
        chain: list[bytes] = []
        proto = host_forwarded = None
        for name, value in incoming:
            if name == b"host":
                host = value
            elif name == b"x-forwarded-for":
                chain.append(value)
            elif name == b"x-forwarded-proto":
                proto = value
            elif name == b"x-forwarded-host":
                host_forwarded = value
            if name in drop:
                continue
            if name == b"content-length":
                if length is not None or not value.strip().isdigit():
                    raise ValueError("bad content-length")
                length = int(value)
            headers.append((name, value))
        peer = scope.get("client")
        peer_address = str(peer[0]) if peer else None
        trusted = self.client_address.peer_trusted(scope)
        # X-Forwarded-*: hops before us are kept only when the peer is a trusted proxy (what
        # ClientAddress believes); from anyone else they are forgeable and dropped.
        forwarded = [*chain] if trusted else []
        if peer_address is not None:
            forwarded.append(peer_address.encode("latin-1"))
        if forwarded:
            headers.append((b"x-forwarded-for", b", ".join(forwarded)))
        scheme = scope.get("scheme", "http").encode("latin-1")
        headers.append((b"x-forwarded-proto", proto if trusted and proto else scheme))
        public_host = host_forwarded if trusted and host_forwarded else host
        if public_host:
            headers.append((b"x-forwarded-host", public_host))
        # RFC 9110 §7.6.3: a gateway MUST send Via in each inbound request it forwards.
        headers.append((b"via", b"1.1 jiraguard"))
        return headers, length

    def _public_origin(self, scope: Scope) -> str:
        if self.public_url is not None:
            return self.public_url
        host = next((v for n, v in scope["headers"] if n == b"host"), b"").decode("latin-1")
        return f"{scope.get('scheme', 'http')}://{host}"

    def _response_headers(
        self, scope: Scope, response: Response, protected: bool
    ) -> tuple[RawHeaders, int | None]:
        raw = response.raw_headers
        drop = _UPSTREAM_DROPPED
        if named := connection_options(raw):
            drop = drop | named
        headers: RawHeaders = []
        length: int | None = None
        for original_name, value in raw:
            name = original_name.lower()
            if name in drop:
                continue
            if name == b"content-length" and value.strip().isdigit():
                length = int(value)
            elif name == b"location":
                origin = self._public_origin(scope)
                value = self.context.location(value.decode("latin-1"), origin).encode("latin-1")
            elif name == b"set-cookie":
                if protected:
                    continue  # no Jira session for token callers (see _request_headers)
                value = self.context.set_cookie(value.decode("latin-1")).encode("latin-1")
            headers.append((name, value))
        return headers, length

    async def _respond(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        response: Response,
        protected: bool,
    ) -> None:
        headers, length = self._response_headers(scope, response, protected)
        if length is not None and length > self.max_response:
            log.warning("upstream response of %d bytes refused (max_response_bytes)", length)
            await error_response(502, ["Jira's response is too large."])(scope, receive, send)
            return
        start: Message = {
            "type": "http.response.start",
            "status": response.status,
            "headers": headers,
        }
        if length is not None and length <= _WATCH_ABOVE:
            await self._stream(send, start, response)
            return
        async with anyio.create_task_group() as group:

            async def watch() -> None:
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        group.cancel_scope.cancel()
                        return

            group.start_soon(watch)
            await self._stream(send, start, response)
            group.cancel_scope.cancel()

    async def _stream(self, send: Send, start: Message, response: Response) -> None:
        await send(start)
        sent = 0
        try:
            async for chunk in response.chunks():
                sent += len(chunk)
                if sent > self.max_response:
                    log.warning("upstream response cut at max_response_bytes")
                    return  # the connection ends without completing the response
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except UpstreamError as exc:
            log.warning("upstream broke off its response: %s", exc)
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})
