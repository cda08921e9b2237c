"""Forward authentication: an engine in front of Jira asks, per request, who the caller is.

nginx (``auth_request``), Caddy (``forward_auth``), Traefik (``ForwardAuth``) and Envoy
(``ext_authz``, HTTP mode) send each request's headers, without its body, to
``forward_auth.path`` before proxying it to Jira. The request judged is the original one:

* its method and request-target from ``X-Original-Method`` / ``X-Original-URI`` (what the
  shipped nginx configuration sets), else ``X-Forwarded-Method`` / ``X-Forwarded-Uri``
  (Caddy, Traefik); with neither, the path after the endpoint's own (Envoy appends the
  original path to its prefix) and the ask's own method;
* its client from ``X-Forwarded-For``, believed as ``server.trusted_proxies`` says.

That request runs the same path as the gateway — credentials, validators, cache, identity,
rules, rate limits, audit — through an :class:`~jiraguard.auth.middleware.AuthMiddleware` of
its own. An accepted request is answered ``200`` with the identity headers Jira needs (the
signed ``trusted_header`` triple over the target Jira receives, or the service account's
``Authorization`` and audit header) for the engine to copy; a refusal with its real status,
challenge, ``Retry-After``/``RateLimit-*`` headers and Jira's JSON body.

nginx shows only 401 and 403 of an ``auth_request`` (anything else becomes 500) and never its
body, so the shipped nginx configuration asks with ``X-Jiraguard-Refusal: in-headers``: a
refusal is then answered ``403`` with everything the client must see in headers the
configuration copies into its own answer: ``X-Jiraguard-Status``, ``X-Jiraguard-Body`` (the
JSON body on one line of ASCII), ``X-Jiraguard-Challenge`` (every ``WWW-Authenticate`` value
in one field, RFC 9110 §11.6.1), ``Retry-After`` and ``RateLimit-*``. One ask per request.

An earlier arrangement (``X-Jiraguard-Refusal: fetch-again``) still works: the refusal comes
without its challenge, and is kept ``refusal_ttl`` seconds by ``X-Request-Id`` for a second
ask that fetches it, never judged (nor counted) twice.

Only ``forward_auth.trusted_peers`` may ask: the asker says which request is judged.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from ipaddress import ip_address
from urllib.parse import unquote

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jiraguard.auth.middleware import AuthMiddleware
from jiraguard.auth.principal import Principal
from jiraguard.auth.request_path import RequestPathSource
from jiraguard.jira.paths import canonical_path
from jiraguard.proxy.headers import ContextPath
from jiraguard.proxy.identity_headers import IdentityHeaders, UnsendableUsername
from jiraguard.responses import error_response
from jiraguard.settings import ForwardAuthSettings, UpstreamSettings

_METHOD_HEADERS = (b"x-original-method", b"x-forwarded-method")
_TARGET_HEADERS = (b"x-original-uri", b"x-forwarded-uri")
_REQUEST_ID = b"x-request-id"
_REFUSAL = b"x-jiraguard-refusal"
_MAX_REFUSALS = 10_000
_IN_HEADERS = "in-headers"
_FETCH_AGAIN = "fetch-again"
_COPIED = frozenset(
    {b"retry-after", b"ratelimit-limit", b"ratelimit-remaining", b"ratelimit-reset"}
)
"""Refusal headers an engine copies under their own names (``in-headers``)."""
_MAX_BODY_IN_HEADER = 8 * 1024
"""Longest refusal body sent in ``X-Jiraguard-Body`` (the shipped nginx configuration reads
answers' headers into 16 KiB); a longer one is replaced by its first error message."""
_Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


class ForwardAuthMiddleware:
    """Answers the engine's questions at ``settings.path``; passes everything else on."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        source: RequestPathSource,
        settings: ForwardAuthSettings,
        upstream: UpstreamSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.path = settings.path
        self.prefix = settings.path + "/"
        self.trusted = tuple(settings.trusted_peers)
        self.ttl = settings.refusal_ttl
        self.clock = clock
        self.judge = AuthMiddleware(self._accepted, source=source)
        self.identity = IdentityHeaders(upstream)
        self.context = ContextPath(httpx.URL(upstream.url)) if upstream.url else None
        self._refusals: OrderedDict[str, tuple[float, _Answer]] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == self.path or path.startswith(self.prefix)):
            await self.app(scope, receive, send)
            return
        if not self._peer_trusted(scope):
            refusal = error_response(403, ["Only the configured engines may ask."])
            await refusal(scope, receive, send)
            return
        original = _original(scope, self.path.encode("ascii"))
        if original is None:
            message = "Say which request to judge: X-Original-Method and X-Original-URI."
            await error_response(400, [message])(scope, receive, send)
            return
        request_id = _header(scope, _REQUEST_ID)
        kept = self._kept(request_id)
        if kept is not None:
            await _answer(send, kept)
            return
        method, target = original
        raw_path, _, query = target.partition(b"?")
        try:
            decoded = unquote(raw_path.decode("ascii"), errors="strict")
        except UnicodeError:
            await error_response(400, ["The original URI is not valid."])(scope, receive, send)
            return
        judged = {
            **scope,
            "method": method,
            "path": canonical_path(decoded),
            "raw_path": raw_path,
            "query_string": query,
            "root_path": "",
            "jiraguard.forward_target": target,
        }
        judged.pop("endpoint", None)
        mode = _header(scope, _REFUSAL)
        if mode == _IN_HEADERS:
            answer = await _judged_answer(self.judge, judged)
            await _answer(send, _in_headers(answer) if answer[0] >= 400 else answer)
            return
        captured: list[Message] = []
        lean = mode == _FETCH_AGAIN

        async def sending(message: Message) -> None:
            captured.append(message)
            if lean and message["type"] == "http.response.start" and message["status"] >= 400:
                # nginx fetches the refusal again and would repeat the challenge.
                kept = [(n, v) for n, v in message.get("headers", []) if n != b"www-authenticate"]
                message = {**message, "headers": kept}
            await send(message)

        await self.judge(judged, _no_body, sending)
        if request_id is not None:
            self._keep(request_id, captured)

    async def _accepted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The judged request was accepted: the identity for the engine to copy."""
        principal: Principal | None = scope.get("user")
        headers: list[tuple[bytes, bytes]] = []
        if principal is not None:
            target = scope["jiraguard.forward_target"]
            if self.context is not None:
                target = self.context.upstream_target(target)
            try:
                headers = self.identity.for_caller(
                    principal, scope["method"], target.decode("latin-1")
                )
            except UnsendableUsername as exc:
                await error_response(403, [str(exc)])(scope, receive, send)
                return
        headers.append((b"content-length", b"0"))
        headers.append((b"cache-control", b"no-store"))
        await _answer(send, (200, headers, b""))

    def _peer_trusted(self, scope: Scope) -> bool:
        peer = scope.get("client")
        try:
            address = ip_address(peer[0]) if peer else None
        except ValueError:
            return False
        return address is not None and any(address in network for network in self.trusted)

    def _kept(self, request_id: str | None) -> _Answer | None:
        if request_id is None:
            return None
        found = self._refusals.get(request_id)
        if found is None or found[0] <= self.clock():
            return None
        return found[1]

    def _keep(self, request_id: str, messages: list[Message]) -> None:
        status, headers, body = _collected(messages)
        if status < 400 or self.ttl <= 0:
            return
        now = self.clock()
        while self._refusals and (
            len(self._refusals) >= _MAX_REFUSALS or next(iter(self._refusals.values()))[0] <= now
        ):
            self._refusals.popitem(last=False)
        headers = [(n, v) for n, v in headers if n != b"x-request-id"]
        self._refusals[request_id] = (now + self.ttl, (status, headers, body))


async def _judged_answer(judge: ASGIApp, scope: Scope) -> _Answer:
    """What the judge answers ``scope``, collected whole (an answer here is small)."""
    messages: list[Message] = []

    async def collect(message: Message) -> None:
        messages.append(message)

    await judge(scope, _no_body, collect)
    return _collected(messages)


def _collected(messages: list[Message]) -> _Answer:
    start = next((m for m in messages if m["type"] == "http.response.start"), None)
    if start is None:
        return 500, [], b""
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], list(start.get("headers", [])), body


def _in_headers(refusal: _Answer) -> _Answer:
    """A refusal as a 403 whose headers say everything (``X-Jiraguard-Refusal: in-headers``)."""
    status, headers, body = refusal
    carried = [(b"x-jiraguard-status", str(status).encode("ascii"))]
    carried.append((b"x-jiraguard-body", _one_line(body)))
    challenges = [v for n, v in headers if n == b"www-authenticate"]
    if challenges:
        carried.append((b"x-jiraguard-challenge", b", ".join(challenges)))
    carried += [(n, v) for n, v in headers if n in _COPIED]
    carried += [(b"content-length", b"0"), (b"cache-control", b"no-store")]
    return 403, carried, b""


def _one_line(body: bytes) -> bytes:
    """Jira's JSON error body as one line of ASCII a header can carry, the same JSON."""
    if len(body) <= _MAX_BODY_IN_HEADER and all(0x20 <= byte < 0x7F for byte in body):
        return body  # as the built-in gateway sends it, byte for byte
    try:
        document = json.loads(body)
    except ValueError:
        document = {"errorMessages": ["The request was refused."], "errors": {}}
    line = json.dumps(document, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    if len(line) > _MAX_BODY_IN_HEADER:
        messages = document.get("errorMessages") if isinstance(document, dict) else None
        first = messages[0] if isinstance(messages, list) and messages else "Refused."
        short = {"errorMessages": [str(first)[:1024]], "errors": {}}
        line = json.dumps(short, ensure_ascii=True, separators=(",", ":")).encode("ascii")
    return line


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def _original(scope: Scope, own: bytes) -> tuple[str, bytes] | None:
    """The judged request's method and raw request-target (path and query); ``own`` is the
    endpoint's path (Envoy appends the original path to it)."""
    headers = dict(scope["headers"])
    method = next((headers[n] for n in _METHOD_HEADERS if n in headers), None)
    target = next((headers[n] for n in _TARGET_HEADERS if n in headers), None)
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    if target is None and raw.startswith(own + b"/"):
        target = raw[len(own) :]
        query = scope.get("query_string", b"")
        target = target + b"?" + query if query else target
        method = method or scope["method"].encode("ascii")
    if method is None or target is None or not target.startswith(b"/"):
        return None
    name = method.decode("latin-1").strip().upper()
    if not name.isascii() or not name.isalpha() or len(name) > 16:
        return None
    return name, target


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _answer(send: Send, answer: _Answer) -> None:
    status, headers, body = answer
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
