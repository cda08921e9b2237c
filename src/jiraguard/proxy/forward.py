"""The streaming forwarder: a pure ASGI app that sends each request on to the upstream Jira.

Bodies stream in both directions, one chunk at a time (an attachment of any size passes
through in bounded memory); nothing is buffered. Header handling is in
:mod:`jiraguard.proxy.headers`, identity in :mod:`jiraguard.proxy.identity_headers`.

Failures toward the upstream become Jira-format errors (:func:`error_response`): no answer in
``connect_timeout``/``read_timeout`` is 504, a refused or broken connection is 502. Once the
status line has been sent a failure can only end the connection (the client sees a short
body), which is what happens when the upstream breaks mid-body or a body outgrows its limit.

The connection pool (:class:`UpstreamPool`) is shared by the process and made of
:class:`httpx.AsyncHTTPTransport` (the pool inside every ``httpx.AsyncClient``), used directly:
the client layer would keep a cookie jar shared by all callers (one user's Jira session
leaking into another's requests) and merge default headers (``Accept-Encoding``,
``User-Agent``) a transparent proxy must not add.
"""

from __future__ import annotations

import itertools
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable
from urllib.parse import quote

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
from jiraguard.proxy.headers import ContextPath, RawHeaders, hop_by_hop, without_access_token
from jiraguard.proxy.identity_headers import IdentityHeaders, UnsendableUsername
from jiraguard.proxy.known_users import JiraUnavailable, KnownUsers
from jiraguard.proxy.oauth1_signer import OAuth1Impersonation, form_names_identity
from jiraguard.responses import error_response
from jiraguard.settings import AuthSettings, UpstreamSettings
from jiraguard.telemetry import Telemetry

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
_UPSTREAM_DATE = frozenset({b"date"})


_SHARD_CONNECTIONS = 4
"""Connections per shard of the pool. httpcore's pool does work quadratic in its size on every
request (it rescans all connections, polling each idle socket), so the process's pool is a
set of small pools used in turn: the same number of connections at a fraction of the cost."""


class UpstreamPool:
    """The process's one connection pool to the upstream: keep-alive, no retries, no cookie jar,
    made of small :class:`httpx.AsyncHTTPTransport` shards taken round-robin."""

    def __init__(self, settings: UpstreamSettings, telemetry: Telemetry | None = None) -> None:
        self.telemetry = telemetry
        per = min(_SHARD_CONNECTIONS, settings.max_connections)
        limits = httpx.Limits(
            max_connections=per, max_keepalive_connections=per, keepalive_expiry=30.0
        )
        count = -(-settings.max_connections // per)
        tls = _tls_context(settings)  # once: loading CA certificates takes milliseconds
        self._shards = [
            httpx.AsyncHTTPTransport(verify=tls, limits=limits, retries=0, trust_env=False)
            for _ in range(count)
        ]
        self._turn = itertools.cycle(self._shards)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``; the response's body is still to be read (and closed)."""
        if self.telemetry is None:
            return await next(self._turn).handle_async_request(request)
        started = time.perf_counter()
        status = "error"
        try:
            response = await next(self._turn).handle_async_request(request)
            status = f"{response.status_code // 100}xx"
            return response
        finally:
            self.telemetry.upstream.labels(status).observe(time.perf_counter() - started)

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()


def _tls_context(settings: UpstreamSettings) -> ssl.SSLContext:
    """How the gateway speaks TLS to Jira: trusting ``ca_bundle`` (else the system's CA
    certificates, as httpx ships them), presenting ``client_cert`` when mutual TLS is set."""
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
        self.base = httpx.URL(settings.url)
        self.context = ContextPath(self.base)
        self.identity = IdentityHeaders(settings)
        self.realm = realm
        self.timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout,
        ).as_dict()
        self.oauth1: OAuth1Impersonation | None = None
        self.known_users: KnownUsers | None = None
        if settings.identity == "oauth1_impersonation":
            self.oauth1 = OAuth1Impersonation.from_settings(settings)
            self.known_users = KnownUsers(
                pool, self.base, self.oauth1, ttl=settings.user_check_ttl, timeout=self.timeout
            )
        self.max_request = settings.max_request_bytes
        self.max_response = settings.max_response_bytes
        self._always_stripped = self.identity.stripped | _FORWARDED | {_EXPECT}

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
        try:
            url = self.base.copy_with(raw_path=upstream_target)
        except (httpx.InvalidURL, ValueError):  # bytes no URL may hold (RFC 3986 §2)
            await error_response(400, ["The request target is not valid."])(scope, receive, send)
            return
        if principal is not None and not own and self.oauth1 is not None:
            signed = await self._impersonate(scope, receive, send, principal, url, has_body)
            if signed is None:
                return  # refused, the answer sent
            authorization, form = signed
            headers.append((b"authorization", authorization))
        request = httpx.Request(
            scope["method"],
            url,
            headers=headers,
            content=form if form is not None else self._body(receive) if has_body else None,
            extensions={"timeout": self.timeout},
        )
        try:
            response = await self.pool.handle_async_request(request)
        except _TooLarge:
            await error_response(413, ["The request body is too large."])(scope, receive, send)
            return
        except _ClientGone:
            return
        except httpx.TimeoutException:
            log.warning("upstream did not answer in time: %s %s", scope["method"], scope["path"])
            await error_response(504, ["Jira did not answer in time."])(scope, receive, send)
            return
        except httpx.TransportError as exc:
            log.warning("upstream unreachable: %s", type(exc).__name__)
            await error_response(502, ["Jira could not be reached."])(scope, receive, send)
            return
        if response.status_code == 401 and self.known_users is not None and principal is not None:
            self.known_users.forget(principal.username)  # ask Jira again next time
        try:
            await self._respond(scope, receive, send, response, protected)
        finally:
            await response.aclose()

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
        url: httpx.URL,
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
            return self.oauth1.authorization(scope["method"], str(url), form), form
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
        drop = hop_by_hop(incoming) | self._always_stripped
        if protected:
            # The identity Jira acts on is the one jiraguard checked, never a browser session.
            drop |= _SESSION
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

    async def _body(self, receive: Receive) -> AsyncIterator[bytes]:
        """The client's body, chunk by chunk, refused once it passes ``max_request_bytes``."""
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _ClientGone()
            chunk: bytes = message.get("body", b"")
            received += len(chunk)
            if received > self.max_request:
                raise _TooLarge()
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    def _public_origin(self, scope: Scope) -> str:
        if self.public_url is not None:
            return self.public_url
        host = next((v for n, v in scope["headers"] if n == b"host"), b"").decode("latin-1")
        return f"{scope.get('scheme', 'http')}://{host}"

    def _response_headers(
        self, scope: Scope, response: httpx.Response, protected: bool
    ) -> tuple[RawHeaders, int | None]:
        raw = response.headers.raw
        # Date is one field (RFC 9110 §6.6.1): the server jiraguard runs in writes its own.
        drop = hop_by_hop(raw) | _UPSTREAM_DATE
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
        response: httpx.Response,
        protected: bool,
    ) -> None:
        headers, length = self._response_headers(scope, response, protected)
        if length is not None and length > self.max_response:
            log.warning("upstream response of %d bytes refused (max_response_bytes)", length)
            await error_response(502, ["Jira's response is too large."])(scope, receive, send)
            return
        start: Message = {
            "type": "http.response.start",
            "status": response.status_code,
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

    async def _stream(self, send: Send, start: Message, response: httpx.Response) -> None:
        await send(start)
        sent = 0
        try:
            async for chunk in response.aiter_raw():
                sent += len(chunk)
                if sent > self.max_response:
                    log.warning("upstream response cut at max_response_bytes")
                    return  # the connection ends without completing the response
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except httpx.TransportError as exc:
            log.warning("upstream broke off its response: %s", type(exc).__name__)
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})
