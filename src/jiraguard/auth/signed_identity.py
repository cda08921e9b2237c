"""A gateway's signed identity header, accepted in place of a token (``[signed_identity]``).

A jiraguard gateway in ``trusted_header`` mode tells its upstream who the caller is with
three headers: the username, a Unix timestamp (decimal seconds) and a signature. The
signature is the lower-case hex HMAC-SHA256, keyed with the shared secret, of the UTF-8
bytes of this canonical string (four lines joined by ``\\n``, no trailing newline)::

    {username}\\n{METHOD}\\n{request-target}\\n{timestamp}

``request-target`` is the origin-form target the upstream receives (RFC 9112 §3.2.1): the
path exactly as sent on the wire (percent-encoding kept, the upstream's context path
included), then ``?`` and the query when there is one. ``METHOD`` is the request method as
sent (upper case). The username header carries the username's UTF-8 bytes.

The embedded server accepts such a request as that user only when every check holds: the
feature is enabled, the socket peer (never ``X-Forwarded-For``) is in ``trusted_peers``, the
signature matches (compared in constant time), the timestamp is within ``max_age`` of now,
and the user exists and is active in the directory (its record is reused for
``user_cache_ttl`` seconds, like a cached token's principal). Anything else is 401: a signed
header never falls through to another way of authenticating.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from ipaddress import ip_address

from starlette.types import Scope

from jiraguard.auth.errors import InvalidToken
from jiraguard.auth.principal import Principal
from jiraguard.settings import SignedIdentitySettings
from jiraguard.store.users import UserDirectory, UserRecord
from jiraguard.untrusted import is_digits

_CACHE_SIZE = 10_000
"""Most user records kept; the oldest entry goes first."""

METHOD = "signed"
"""The :attr:`Principal.method` of a request authenticated by a signed identity."""


def canonical_string(username: str, method: str, target: str, timestamp: str) -> bytes:
    """The bytes the signature covers (see the module docstring for the format)."""
    return f"{username}\n{method}\n{target}\n{timestamp}".encode()


def sign(secret: str, username: str, method: str, target: str, timestamp: str) -> str:
    """Lower-case hex HMAC-SHA256 of :func:`canonical_string` keyed with ``secret``."""
    message = canonical_string(username, method, target, timestamp)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def request_target(scope: Scope) -> str:
    """The origin-form request target as received: raw path, then ``?query`` when present."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else scope["path"]
    query = scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


class SignedIdentity:
    """Verifies a trusted gateway's signed identity headers and builds the principal."""

    def __init__(
        self,
        settings: SignedIdentitySettings,
        users: UserDirectory,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not settings.shared_secret:
            raise ValueError("signed identity needs a shared secret")
        self._secret = settings.shared_secret.get_secret_value()
        self.trusted = tuple(settings.trusted_peers)
        self.max_age = settings.max_age
        self.users = users
        self.clock = clock
        self.user_cache_ttl = settings.user_cache_ttl
        self._records: dict[str, tuple[UserRecord, float]] = {}
        self._user = settings.user_header.lower().encode("latin-1")
        self._signature = settings.signature_header.lower().encode("latin-1")
        self._timestamp = settings.timestamp_header.lower().encode("latin-1")

    def applies(self, scope: Scope) -> bool:
        """Whether the request carries the user header (then it must verify, or be refused)."""
        return any(name == self._user for name, _ in scope["headers"])

    def _peer_trusted(self, scope: Scope) -> bool:
        peer = scope.get("client")
        if not peer:
            return False
        try:
            address = ip_address(peer[0])
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    def _single(self, scope: Scope, name: bytes) -> bytes:
        values = [value for key, value in scope["headers"] if key == name]
        if len(values) != 1:  # absent, or repeated: ambiguous, so refused
            raise InvalidToken("The signed identity headers are missing or repeated")
        value: bytes = values[0]
        return value

    async def authenticate(self, scope: Scope) -> Principal:
        """The signed user as a principal, or :class:`InvalidToken` (401)."""
        if not self._peer_trusted(scope):
            raise InvalidToken("A signed identity is only accepted from a trusted peer")
        raw_user = self._single(scope, self._user)
        raw_signature = self._single(scope, self._signature)
        raw_timestamp = self._single(scope, self._timestamp)
        try:
            username = raw_user.decode("utf-8")
            timestamp = raw_timestamp.decode("ascii")
            signature = raw_signature.decode("ascii").strip().lower()
        except UnicodeDecodeError as exc:
            raise InvalidToken("The signed identity headers are not well-formed") from exc
        if not (is_digits(timestamp) and len(timestamp) <= 12) or not username:
            raise InvalidToken("The signed identity headers are not well-formed")
        expected = sign(self._secret, username, scope["method"], request_target(scope), timestamp)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise InvalidToken("The identity signature does not match")
        if abs(self.clock() - int(timestamp)) > self.max_age:
            raise InvalidToken("The identity signature is too old (or from the future)")
        user = await self._record(username)
        if user is None or not user.active:
            raise InvalidToken("The signed user does not exist or is disabled")
        return Principal.of(user, method=METHOD)

    async def _record(self, username: str) -> UserRecord | None:
        """The directory's record of ``username``; found ones are reused ``user_cache_ttl``."""
        key = username.lower()
        now = self.clock()
        cached = self._records.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        user = await self.users.get(username)
        if user is not None and user.active and self.user_cache_ttl > 0:
            if len(self._records) >= _CACHE_SIZE:
                self._records.pop(next(iter(self._records)))
            self._records[key] = (user, now + self.user_cache_ttl)
        return user
