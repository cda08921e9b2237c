"""Two-legged OAuth 1.0a requests to the embedded server (``[oauth1]``), checked as Jira
checks them for an incoming Generic Application link.

A request is accepted only when all of this holds: the ``Authorization: OAuth`` header
(RFC 5849 §3.5.1) parses strictly; it carries ``oauth_consumer_key``, ``oauth_token``,
``oauth_signature_method``, ``oauth_signature``, ``oauth_timestamp`` and ``oauth_nonce``;
``oauth_version``, when present, is ``1.0``; the method is ``RSA-SHA1``; ``oauth_token`` is
empty (a non-empty one would be three-legged, not served here); the consumer is known; the
timestamp is within ``max_age`` of now either way; no protocol parameter appears twice (in
the header and the query or body); the signature verifies over the method, the base string
URI and every header, query and form parameter (§3.4.1); the nonce has not been seen with
that timestamp from that consumer (§3.3); and the consumer may do what was asked ("Allow
2-Legged OAuth", and for a named user also "Allow user impersonation").

The user is read like Jira's ``request.getParameter``: ``xoauth_requestor_id``, else
``user_id``, from the query then the form body, never from the header. The verdict carries
it unresolved: Jira runs a name it does not know as ANONYMOUS rather than refusing it, and
the caller decides what to do with that. Every refusal is an
:class:`~jiraguard.auth.errors.OAuthProblem` (401) whose description never repeats a
signature, key or nonce.
"""

from __future__ import annotations

import heapq
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from starlette.types import Scope

from jiraguard.auth.errors import OAuthProblem
from jiraguard.oauth1 import (
    OAuth1Error,
    Params,
    base_string_uri,
    is_oauth_authorization,
    load_rsa_public_key,
    parse_authorization_header,
    parse_form,
    signature_base_string,
    verify_rsa_sha1,
)
from jiraguard.settings import OAuth1ConsumerSettings, OAuth1Settings

REQUIRED = (
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_signature",
    "oauth_timestamp",
    "oauth_nonce",
)
"""The protocol parameters every request must carry (Jira's ``OAuthRequestUtils``)."""

REQUESTOR_PARAMETERS = ("xoauth_requestor_id", "user_id")
"""Where the impersonated user is read from, in Jira's order."""

MAX_NONCES = 100_000
"""Most nonces remembered per consumer within ``max_age``; past that its requests are refused
until old ones expire (only a holder of the consumer's key can fill the log)."""

_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


@dataclass(frozen=True, slots=True)
class OAuth1Consumer:
    """A consumer the server accepts, like an incoming application link in Jira."""

    consumer_key: str
    name: str
    public_key: RSAPublicKey
    allow_two_legged: bool = True
    allow_impersonation: bool = False

    @classmethod
    def from_settings(cls, settings: OAuth1ConsumerSettings) -> OAuth1Consumer:
        """The consumer an ``[[oauth1.consumers]]`` entry describes (its key loaded)."""
        return cls(
            consumer_key=settings.consumer_key,
            name=settings.name,
            public_key=load_rsa_public_key(settings.public_key_pem()),
            allow_two_legged=settings.allow_two_legged,
            allow_impersonation=settings.allow_impersonation,
        )


@dataclass(frozen=True, slots=True)
class OAuth1Verdict:
    """An accepted request: who signed it and whom it asks to run as."""

    consumer_key: str
    consumer_name: str
    """The consumer's ``name`` (for logs and the audit)."""
    requestor: str | None
    """The user named by ``xoauth_requestor_id`` (else ``user_id``), not yet resolved; None
    for plain two-legged OAuth. Jira runs a name it does not know as anonymous."""
    requestor_parameter: str | None
    """The parameter ``requestor`` came from, None without one."""
    timestamp: int
    """The request's ``oauth_timestamp``."""


class _NonceLog:
    """(timestamp, nonce) pairs seen from one consumer, each kept until its timestamp leaves
    the window (RFC 5849 §3.3)."""

    __slots__ = ("expiries", "seen")

    def __init__(self) -> None:
        self.seen: set[tuple[int, str]] = set()
        self.expiries: list[tuple[float, tuple[int, str]]] = []

    def add(self, entry: tuple[int, str], expires: float, now: float, limit: int) -> str | None:
        """Record ``entry``; why not (an ``oauth_problem`` description) when it cannot be."""
        while self.expiries and self.expiries[0][0] < now:
            self.seen.discard(heapq.heappop(self.expiries)[1])
        if entry in self.seen:
            return "This oauth_nonce was already used."
        if len(self.seen) >= limit:
            return "Too many requests from this consumer within the timestamp window."
        self.seen.add(entry)
        heapq.heappush(self.expiries, (expires, entry))
        return None


def base_uri(scope: Scope) -> str:
    """The base string URI (RFC 5849 §3.4.1.2) of an ASGI request as this server received
    it: its scheme, its ``Host`` header and the path as on the request line (``raw_path``).

    :class:`OAuthProblem` when there is not exactly one usable ``Host`` header.
    """
    hosts = [value for name, value in scope.get("headers", ()) if name == b"host"]
    if len(hosts) != 1:
        raise OAuthProblem("parameter_rejected", "The request needs exactly one Host header.")
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    try:
        return base_string_uri(
            str(scope.get("scheme", "http")), hosts[0].decode("ascii"), raw.decode("ascii")
        )
    except (OAuth1Error, UnicodeDecodeError):
        raise OAuthProblem(
            "parameter_rejected", "The request's host or path cannot be signed."
        ) from None


class OAuth1Verifier:
    """Checks two-legged OAuth 1.0a requests against the known consumers (see the module)."""

    def __init__(
        self,
        consumers: Iterable[OAuth1Consumer],
        max_age: float = 300.0,
        *,
        clock: Callable[[], float] = time.time,
        max_nonces: int = MAX_NONCES,
    ) -> None:
        self.consumers = {c.consumer_key: c for c in consumers}
        self.max_age = max_age
        self.clock = clock
        self.max_nonces = max_nonces
        self._nonces: dict[str, _NonceLog] = {}

    @classmethod
    def from_settings(
        cls, settings: OAuth1Settings, clock: Callable[[], float] = time.time
    ) -> OAuth1Verifier:
        """The verifier ``[oauth1]`` describes."""
        consumers = [OAuth1Consumer.from_settings(c) for c in settings.consumers]
        return cls(consumers, settings.max_age, clock=clock)

    def __repr__(self) -> str:
        return f"OAuth1Verifier(consumers={sorted(self.consumers)!r}, max_age={self.max_age})"

    @staticmethod
    def applies(authorization: bytes | None) -> bool:
        """Whether the request's ``Authorization`` uses the ``OAuth`` scheme (any case)."""
        return is_oauth_authorization(authorization)

    def verify(
        self,
        method: str,
        base_uri: str,
        query: bytes,
        authorization: bytes,
        form_body: bytes | None,
    ) -> OAuth1Verdict:
        """Check one request; the verdict, or :class:`OAuthProblem` (401).

        ``base_uri`` is the request's base string URI (:func:`base_uri`), ``query`` the raw
        query string, ``authorization`` the ``Authorization`` value and ``form_body`` the raw
        body when the content type is ``application/x-www-form-urlencoded``, else None.
        """
        try:
            header = parse_authorization_header(authorization)
        except OAuth1Error as exc:
            raise OAuthProblem("parameter_rejected", f"Malformed OAuth header: {exc}.") from None
        absent = [name for name in REQUIRED if name not in header]
        if absent:
            raise OAuthProblem(
                "parameter_absent", f"OAuth parameters missing: {', '.join(absent)}."
            )
        if header.get("oauth_version", "1.0") != "1.0":
            raise OAuthProblem("version_rejected", "Only OAuth version 1.0 is accepted.")
        if header["oauth_signature_method"] != "RSA-SHA1":
            raise OAuthProblem(
                "signature_method_rejected", "Only the RSA-SHA1 signature method is accepted."
            )
        if header["oauth_token"] != "":
            raise OAuthProblem(
                "token_rejected", "Only two-legged OAuth (an empty oauth_token) is accepted."
            )
        consumer = self.consumers.get(header["oauth_consumer_key"])
        if consumer is None:
            raise OAuthProblem("consumer_key_unknown", "Unknown OAuth consumer.")
        timestamp = self._timestamp(header["oauth_timestamp"])
        try:
            query_params = parse_form(query)
            body_params = parse_form(form_body) if form_body is not None else []
        except OAuth1Error as exc:
            raise OAuthProblem("parameter_rejected", f"Malformed parameters: {exc}.") from None
        request_params = query_params + body_params
        if any(name.startswith("oauth_") for name, _ in request_params):
            raise OAuthProblem(
                "parameter_rejected", "OAuth parameters belong in the Authorization header only."
            )
        signed: Params = [
            (k, v) for k, v in header.items() if k not in ("realm", "oauth_signature")
        ]
        base = signature_base_string(method, base_uri, signed + request_params)
        if not verify_rsa_sha1(consumer.public_key, base, header["oauth_signature"]):
            raise OAuthProblem("signature_invalid", "The OAuth signature does not verify.")
        self._remember_nonce(consumer.consumer_key, timestamp, header["oauth_nonce"])
        requestor, parameter = _requestor(request_params)
        if not consumer.allow_two_legged:
            raise OAuthProblem("permission_denied", "This consumer may not use two-legged OAuth.")
        if requestor is not None and not consumer.allow_impersonation:
            raise OAuthProblem("permission_denied", "This consumer may not impersonate users.")
        return OAuth1Verdict(
            consumer_key=consumer.consumer_key,
            consumer_name=consumer.name,
            requestor=requestor,
            requestor_parameter=parameter,
            timestamp=timestamp,
        )

    def _timestamp(self, value: str) -> int:
        if not _TIMESTAMP.match(value):
            raise OAuthProblem("timestamp_refused", "oauth_timestamp is not a Unix time.")
        timestamp = int(value)
        if abs(self.clock() - timestamp) > self.max_age:
            raise OAuthProblem(
                "timestamp_refused",
                f"oauth_timestamp is more than {self.max_age:g} seconds from now.",
            )
        return timestamp

    def _remember_nonce(self, consumer_key: str, timestamp: int, nonce: str) -> None:
        log = self._nonces.setdefault(consumer_key, _NonceLog())
        refused = log.add(
            (timestamp, nonce), timestamp + self.max_age, self.clock(), self.max_nonces
        )
        if refused is not None:
            raise OAuthProblem("nonce_used", refused)


def _requestor(params: Params) -> tuple[str | None, str | None]:
    """The user named by the first of :data:`REQUESTOR_PARAMETERS` present, and which one.

    Named twice (or empty) is refused: Jira would take the first, a proxy the last.
    """
    for name in REQUESTOR_PARAMETERS:
        values = [value for key, value in params if key == name]
        if not values:
            continue
        if len(values) > 1:
            raise OAuthProblem("parameter_rejected", f"{name} is given more than once.")
        if not values[0]:
            raise OAuthProblem("parameter_rejected", f"{name} is empty.")
        return values[0], name
    return None, None
