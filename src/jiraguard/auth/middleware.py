"""The authentication middleware: composes the request path's steps and nothing else.

A pure ASGI middleware (no per-request objects beyond what a decision needs). Requests to a
protected path prefix (``/rest/`` by default) must carry valid credentials; the principal is
put in ``scope["user"]`` (so ``request.user`` works). Any failure ends the request with the
error's own status, challenge and Jira-format body; an unexpected error denies with 503.

The parts it composes come from :class:`~jiraguard.app.Services` on every request: a
configuration change replaces them there, and the next request uses the new ones.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jiraguard.auth.audit import DECISION_NOTE, Decision
from jiraguard.auth.credentials import (
    BasicCredentials,
    BearerToken,
    Credentials,
    combine,
    form_token,
    parse_authorization,
    query_token,
)
from jiraguard.auth.errors import (
    AuthError,
    BasicAuthBlocked,
    InvalidRequest,
    Unauthenticated,
    Unavailable,
)
from jiraguard.auth.policy import BasicVerdict, Policy
from jiraguard.auth.principal import Principal, fingerprint

if TYPE_CHECKING:
    from jiraguard.app import Services

log = logging.getLogger(__name__)

_FORM = b"application/x-www-form-urlencoded"


class AuthMiddleware:
    def __init__(self, app: ASGIApp, *, services: Services) -> None:
        self.app = app
        self.services = services
        self.decisions = services.decisions
        self.client_address = services.client_address
        self.signed_identity = services.signed_identity
        """A trusted gateway's signed identity header; checked before ``Authorization``."""
        self.max_body_bytes = services.settings.server.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = self.services
        auth = services.settings.auth
        if scope["type"] != "http" or not scope["path"].startswith(auth.protected_paths):
            await self.app(scope, receive, send)
            return
        policy = services.policy
        method, path = scope["method"], scope["path"]
        address = self.client_address.of(scope)
        if policy.public_rules and policy.is_public(method, path, address):
            await self.app(scope, receive, send)
            return
        credentials: Credentials | None = None
        principal: Principal | None = None
        try:
            if self.signed_identity is not None and self.signed_identity.applies(scope):
                # Verified or refused (401); a signed header never falls through to a token.
                principal = await self.signed_identity.authenticate(scope)
            else:
                credentials, receive = await self._credentials(scope, receive)
                if credentials is None:
                    raise Unauthenticated()
                if isinstance(credentials, BasicCredentials):
                    principal = await self._basic(policy, credentials, method, path, address)
                else:
                    principal = await services.authenticator.bearer(credentials)
            rule = policy.authorize(principal, method, path, address)
            await policy.limit(principal, rule)
        except AuthError as exc:
            self._refused(scope, address, credentials, principal, exc)
            await exc.response(auth.realm)(scope, receive, send)
            return
        except Exception:  # fail closed: a bug or a database outage denies, never allows
            log.exception("authentication failed unexpectedly")
            error = Unavailable("internal error while authenticating")
            self._refused(scope, address, credentials, principal, error)
            await error.response(auth.realm)(scope, receive, send)
            return
        scope["user"] = principal
        if (note := scope.get(DECISION_NOTE)) is not None:
            note.accept(principal)
        self.decisions.accepted(method, path, address, principal)
        await self.app(scope, receive, send)

    async def _basic(
        self,
        policy: Policy,
        credentials: BasicCredentials,
        method: str,
        path: str,
        address: str | None,
    ) -> Principal:
        verdict = policy.basic(credentials.username, path, address)
        if verdict is BasicVerdict.BLOCK:
            raise BasicAuthBlocked()  # refused before any password hashing is spent on it
        principal = await self.services.authenticator.authenticate(credentials)
        if verdict is BasicVerdict.CHECK_GROUPS and not policy.basic_group_exempt(principal):
            if not self.services.settings.auth.basic_report_only:
                raise BasicAuthBlocked()
            verdict = BasicVerdict.REPORT
        if verdict is BasicVerdict.REPORT:
            policy.report_basic(principal.username, method, path)
        return principal

    async def _credentials(
        self, scope: Scope, receive: Receive
    ) -> tuple[Credentials | None, Receive]:
        auth = self.services.settings.auth
        authorization = [value for name, value in scope["headers"] if name == b"authorization"]
        header = parse_authorization(authorization)
        in_query = query_token(scope["query_string"]) if auth.allow_query_token else None
        in_form: BearerToken | None = None
        if auth.allow_form_token and self._is_form(scope):
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

    def _refused(
        self,
        scope: Scope,
        address: str | None,
        credentials: Credentials | None,
        principal: Principal | None,
        error: AuthError,
    ) -> None:
        token = credentials.token if isinstance(credentials, BearerToken) else None
        username = principal.username if principal else getattr(credentials, "username", None)
        self.decisions.record(
            Decision(
                allowed=False,
                reason=error.description,
                status=error.status_code,
                method=scope["method"],
                path=scope["path"],
                client=address,
                username=username,
                provider=principal.provider if principal else None,
                auth_method=principal.method if principal else None,
                client_id=principal.client_id if principal else None,
                token_id=principal.token_id if principal else None,
                fingerprint=fingerprint(token)[:16] if token else None,
                code=reason_code(error),
            )
        )
        if (note := scope.get(DECISION_NOTE)) is not None:
            note.refuse(error.description, username, principal)


_CODES: dict[type[AuthError], str] = {}


def reason_code(error: AuthError) -> str:
    """``BasicAuthBlocked`` → ``basic_auth_blocked``: a bounded label for metrics."""
    kind = type(error)
    code = _CODES.get(kind)
    if code is None:
        code = _CODES[kind] = re.sub(r"(?<!^)(?=[A-Z])", "_", kind.__name__).lower()
    return code


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
