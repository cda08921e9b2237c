"""The authentication middleware: composes the request path's steps and nothing else.

A pure ASGI middleware (no per-request objects beyond what a decision needs). Requests to a
protected path prefix (``/rest/`` by default) must carry valid credentials; the principal is
put in ``scope["user"]`` (so ``request.user`` works). Any failure ends the request with the
error's own status, challenge and Jira-format body; an unexpected error denies with 503.

The parts it composes come from one :class:`~jiraguard.auth.request_path.RequestPath`
snapshot, read once when the request arrives: a configuration change swaps the snapshot, the
next request uses the new one, and a request in flight finishes under the one it started with.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jiraguard.auth.audit import Decision
from jiraguard.auth.credentials import (
    BasicCredentials,
    BearerToken,
    Credentials,
    combine,
    form_token,
    is_form,
    query_token,
)
from jiraguard.auth.errors import (
    AuthError,
    BasicAuthBlocked,
    InvalidRequest,
    ProviderUnavailable,
    Unauthenticated,
    Unavailable,
)
from jiraguard.auth.note import RequestNote, note_of
from jiraguard.auth.oauth1_login import oauth_authorization
from jiraguard.auth.policy import BasicVerdict
from jiraguard.auth.principal import Principal, fingerprint
from jiraguard.auth.request_path import RequestPath, RequestPathSource

log = logging.getLogger(__name__)


class AuthMiddleware:
    def __init__(self, app: ASGIApp, *, source: RequestPathSource) -> None:
        self.app = app
        self.source = source

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        current = self.source.path  # the one snapshot this request is judged under
        auth = current.settings.auth
        note = note_of(scope)
        if not scope["path"].startswith(auth.protected_paths):
            note.protected = False
            await self.app(scope, receive, send)
            return
        policy = current.policy
        method, path = scope["method"], scope["path"]
        address = current.client_address.of(scope)
        note.protected, note.client = True, address
        if policy.public_rules and policy.is_public(method, path, address):
            await self.app(scope, receive, send)
            return
        credentials: Credentials | None = None
        principal: Principal | None = None
        found: _Found | None = None
        try:
            # The default: credentials in the Authorization header(s), looked for once here.
            values = _authorization(scope) if current.header_only else None
            kept = None if values is None else current.authenticator.kept(values)
            if kept is not None:  # a client's every request after its first
                credentials, principal = kept
            else:
                found = _Found()
                principal, receive = await self._authenticate(
                    current, scope, receive, address, values, found
                )
                credentials = found.credentials
            if not policy.admits_all:
                rule = policy.authorize(principal, method, path, address)
                if policy.limits(rule):
                    await policy.limit(principal, rule)
        except AuthError as exc:
            if found is not None:  # what was found before the refusal is what it is about
                credentials, principal = found.credentials, found.principal
            exc.dpop_algs = current.sender.algs
            dpop = isinstance(credentials, BearerToken) and credentials.scheme == "DPoP"
            if dpop and exc.dpop_algs is not None:  # answered in the scheme it was asked in
                exc.scheme = "DPoP"
            _refused(current, note, scope, address, credentials, principal, exc)
            await exc.response(auth.realm)(scope, receive, send)
            return
        except Exception:  # fail closed: a bug or a database outage denies, never allows
            log.exception("authentication failed unexpectedly")
            if found is not None:
                credentials, principal = found.credentials, found.principal
            error = Unavailable("internal error while authenticating")
            _refused(current, note, scope, address, credentials, principal, error)
            await error.response(auth.realm)(scope, receive, send)
            return
        scope["user"] = principal
        note.accept(principal)
        current.decisions.accepted(method, path, address, principal)
        await self.app(scope, receive, send)

    async def _authenticate(
        self,
        current: RequestPath,
        scope: Scope,
        receive: Receive,
        address: str | None,
        values: list[bytes] | None,
        found: _Found,
    ) -> tuple[Principal, Receive]:
        """The full path: what the request's credentials are, then whose; each put in
        ``found`` as soon as it is known, for a refusal to name. ``values``: the
        ``Authorization`` header(s), when already looked for."""
        method, path = scope["method"], scope["path"]
        signed = current.signed_identity
        oauth = oauth_authorization(scope) if current.oauth1 is not None else None
        if signed is not None and signed.applies(scope):
            # Verified or refused (401); a signed header never falls through to a token.
            found.principal = await signed.authenticate(scope)
            return found.principal, receive
        if oauth is not None and current.oauth1 is not None:
            body = None
            if is_form(scope):  # RFC 5849 §3.4.1.3.1: form bodies are signed
                body = await _read_body(receive, current.settings.server.max_body_bytes)
                receive = _replay(body, receive)
            principal = await current.oauth1.authenticate(scope, oauth, body)
            if principal is None:  # Jira's anonymous fall-back: no credentials, so 401
                raise Unauthenticated()
            found.principal = principal
            return principal, receive
        auth = current.settings.auth
        if auth.allow_query_token or auth.allow_form_token:
            credentials, receive = await self._credentials(current, scope, receive)
        else:  # the header alone, the default
            values = _authorization(scope) if values is None else values
            credentials = current.authenticator.read(values)
        found.credentials = credentials
        if credentials is None:
            raise Unauthenticated()
        if isinstance(credentials, BasicCredentials):
            found.principal = await self._basic(current, credentials, method, path, address)
            return found.principal, receive
        authenticator = current.authenticator
        principal = authenticator.remembered(credentials) or await authenticator.bearer(credentials)
        found.principal = principal
        plain = current.sender.plain(credentials, principal)
        if not plain:
            await current.sender.check(scope, credentials, principal)
        if credentials.source == "header":  # accepted: its header is worth keeping
            values = _authorization(scope) if values is None else values
            if len(values) == 1:
                authenticator.keep(values[0], credentials, plain=plain)
        return principal, receive

    @staticmethod
    async def _basic(
        current: RequestPath,
        credentials: BasicCredentials,
        method: str,
        path: str,
        address: str | None,
    ) -> Principal:
        policy = current.policy
        verdict = policy.basic(credentials.username, path, address)
        if verdict is BasicVerdict.BLOCK:
            raise BasicAuthBlocked()  # refused before any password hashing is spent on it
        principal = await current.authenticator.authenticate(credentials)
        if verdict is BasicVerdict.CHECK_GROUPS and not policy.basic_group_exempt(principal):
            if not current.settings.auth.basic_report_only:
                raise BasicAuthBlocked()
            verdict = BasicVerdict.REPORT
        if verdict is BasicVerdict.REPORT:
            policy.report_basic(principal.username, method, path)
        return principal

    async def _credentials(
        self, current: RequestPath, scope: Scope, receive: Receive
    ) -> tuple[Credentials | None, Receive]:
        auth = current.settings.auth
        header = current.authenticator.read(_authorization(scope))
        in_query = query_token(scope["query_string"]) if auth.allow_query_token else None
        in_form: BearerToken | None = None
        if auth.allow_form_token and is_form(scope):
            body = await _read_body(receive, current.settings.server.max_body_bytes)
            in_form = form_token(body)
            receive = _replay(body, receive)
        return combine(header, in_query, in_form), receive


@dataclass(slots=True)
class _Found:
    """What the full path found, as it found it."""

    credentials: Credentials | None = None
    principal: Principal | None = None


def _authorization(scope: Scope) -> list[bytes]:
    values = []
    for name, value in scope["headers"]:  # a loop, not a comprehension: no function made
        if name == b"authorization":
            values.append(value)
    return values


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


async def _read_body(receive: Receive, limit: int) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise InvalidRequest("The request ended before its body")
        body += message.get("body", b"")
        if len(body) > limit:
            raise InvalidRequest("The form body is too large")
        if not message.get("more_body", False):
            return bytes(body)


def _refused(
    current: RequestPath,
    note: RequestNote,
    scope: Scope,
    address: str | None,
    credentials: Credentials | None,
    principal: Principal | None,
    error: AuthError,
) -> None:
    bearer = credentials if isinstance(credentials, BearerToken) else None
    # The user a refusal is about: the caller, the Basic login, or the Jira user the token
    # maps to when that user is the reason (disabled), so the audit finds it under the name.
    username = (
        principal.username
        if principal
        else getattr(credentials, "username", None) or getattr(error, "username", None)
    )
    provider = principal.provider if principal else None
    if provider is None and isinstance(error, ProviderUnavailable):
        provider = error.provider  # the one that could not be asked
    current.decisions.record(
        Decision(
            allowed=False,
            reason=error.description,
            status=error.status_code,
            method=scope["method"],
            path=scope["path"],
            client=address,
            username=username,
            provider=provider,
            auth_method=principal.method if principal else None,
            client_id=principal.client_id if principal else None,
            token_id=principal.token_id if principal else None,
            fingerprint=(bearer.key or fingerprint(bearer.token))[:16] if bearer else None,
            code=reason_code(error),
        )
    )
    note.refuse(error.description, username, principal)
