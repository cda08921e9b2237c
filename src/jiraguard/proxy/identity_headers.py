"""What the upstream Jira learns about the caller, and what it must never learn.

Two modes (``upstream.identity``):

* ``trusted_header``: ``user_header`` carries the username (its UTF-8 bytes),
  ``timestamp_header`` the Unix time in decimal seconds, and ``signature_header`` the hex
  HMAC-SHA256 described in :mod:`jiraguard.auth.signed_identity`, over the request-target the
  upstream receives. Jira trusts the header through a Seraph authenticator.
* ``service_account``: ``Authorization`` is the service account's (Bearer personal access
  token, or Basic user and password) and ``audit_header`` names the real caller. Jira sees,
  checks permissions for and records the service account.

Whatever the mode, the client's own ``Authorization`` and every identity header name a client
could forge are removed first, on every path: a client never chooses who Jira thinks it is.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

from jiraguard.auth.principal import Principal
from jiraguard.auth.signed_identity import sign
from jiraguard.settings import UpstreamSettings
from jiraguard.upstream import RawHeaders


class UnsendableUsername(ValueError):
    """The username contains characters a header field cannot carry (RFC 9110 §5.5)."""


class IdentityHeaders:
    """Strips client-supplied identity and adds the configured identity of the caller."""

    def __init__(self, settings: UpstreamSettings, clock: Callable[[], float] = time.time) -> None:
        self.mode = settings.identity
        self.clock = clock
        self._secret = settings.shared_secret.get_secret_value() if settings.shared_secret else ""
        self._user = settings.user_header.lower().encode("latin-1")
        self._timestamp = settings.timestamp_header.lower().encode("latin-1")
        self._signature = settings.signature_header.lower().encode("latin-1")
        self._audit = settings.audit_header.lower().encode("latin-1")
        self.stripped = frozenset(
            {b"authorization", self._user, self._timestamp, self._signature, self._audit}
        )
        """Header names removed from every request before it is forwarded."""
        self._service_authorization: bytes | None = None
        token, password = settings.service_account_token, settings.service_account_password
        if token:
            self._service_authorization = b"Bearer " + token.get_secret_value().encode()
        elif settings.service_account_user and password:
            pair = f"{settings.service_account_user}:{password.get_secret_value()}"
            self._service_authorization = b"Basic " + base64.b64encode(pair.encode())

    def __repr__(self) -> str:  # never show the secrets
        return f"IdentityHeaders(mode={self.mode!r})"

    def for_caller(self, principal: Principal, method: str, target: str) -> RawHeaders:
        """The headers that tell the upstream who ``principal`` is, for this request-target."""
        username = principal.username
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in username):
            raise UnsendableUsername("The user name contains control characters")
        name = username.encode("utf-8")
        if self.mode == "service_account":
            assert self._service_authorization is not None  # settings validation ensures it
            return [(b"authorization", self._service_authorization), (self._audit, name)]
        if self.mode != "trusted_header":  # oauth1_impersonation signs with OAuth1Impersonation
            raise ValueError(f"identity headers cannot be made in mode {self.mode}")
        timestamp = str(int(self.clock()))
        signature = sign(self._secret, username, method, target, timestamp)
        return [
            (self._user, name),
            (self._timestamp, timestamp.encode("ascii")),
            (self._signature, signature.encode("ascii")),
        ]
