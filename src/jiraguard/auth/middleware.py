"""The authentication middleware: composes the request path's steps and nothing else.

A pure ASGI middleware (no per-request objects beyond what a decision needs). Requests to a
protected path prefix (``/rest/`` by default) must carry valid credentials; the principal is
put in ``scope["user"]`` (so ``request.user`` works). Any failure ends the request with the
error's own status, challenge and Jira-format body; an unexpected error denies with 503.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jiraguard.auth.audit import Decision, DecisionLog
from jiraguard.auth.authenticator import Authenticator
from jiraguard.auth.credentials import (
    BearerToken,
    Credentials,
    combine,
    form_token,
    parse_authorization,
    query_token,
)
from jiraguard.auth.errors import AuthError, InvalidRequest, Unauthenticated, Unavailable
from jiraguard.auth.principal import fingerprint
from jiraguard.settings import AuthSettings

log = logging.getLogger(__name__)

_FORM = b"application/x-www-form-urlencoded"


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


class AuthMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: Authenticator,
        settings: AuthSettings,
        decisions: DecisionLog,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.settings = settings
        self.decisions = decisions
        self.max_body_bytes = max_body_bytes
        self.protected = tuple(settings.protected_paths)
        self.realm = settings.realm

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.protected):
            await self.app(scope, receive, send)
            return
        credentials: Credentials | None = None
        try:
            credentials, receive = await self._credentials(scope, receive)
            if credentials is None:
                raise Unauthenticated()
            principal = await self.authenticator.authenticate(credentials)
        except AuthError as exc:
            self._record(scope, credentials, exc.status_code, exc.description)
            await exc.response(self.realm)(scope, receive, send)
            return
        except Exception:  # fail closed: a bug or a database outage denies, never allows
            log.exception("authentication failed unexpectedly")
            error = Unavailable("internal error while authenticating")
            self._record(scope, credentials, error.status_code, error.description)
            await error.response(self.realm)(scope, receive, send)
            return
        scope["user"] = principal
        self.decisions.accepted(scope["method"], scope["path"], _client(scope), principal)
        await self.app(scope, receive, send)

    async def _credentials(
        self, scope: Scope, receive: Receive
    ) -> tuple[Credentials | None, Receive]:
        authorization = [value for name, value in scope["headers"] if name == b"authorization"]
        header = parse_authorization(authorization)
        in_query = query_token(scope["query_string"]) if self.settings.allow_query_token else None
        in_form: BearerToken | None = None
        if self.settings.allow_form_token and self._is_form(scope):
            body = await self._read_body(receive)
            in_form = form_token(body)
            receive = _replay(body, receive)
        return combine(header, in_query, in_form), receive

    @staticmethod
    def _is_form(scope: Scope) -> bool:
        if scope["method"] in ("GET", "HEAD"):
            return False
        for name, value in scope["headers"]:
            if name == b"content-type":
                return bool(value.split(b";")[0].strip().lower() == _FORM)
        return False

    async def _read_body(self, receive: Receive) -> bytes:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise InvalidRequest("The request ended before its body")
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                raise InvalidRequest("The form body is too large")
            if not message.get("more_body", False):
                return bytes(body)

    def _record(
        self, scope: Scope, credentials: Credentials | None, status: int, reason: str
    ) -> None:
        token = credentials.token if isinstance(credentials, BearerToken) else None
        self.decisions.record(
            Decision(
                allowed=False,
                reason=reason,
                status=status,
                method=scope["method"],
                path=scope["path"],
                client=_client(scope),
                username=getattr(credentials, "username", None),
                fingerprint=fingerprint(token)[:16] if token else None,
            )
        )


def _replay(body: bytes, original: Receive) -> Receive:
    """A ``receive`` that hands the app the body we already read, then the real stream."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive
