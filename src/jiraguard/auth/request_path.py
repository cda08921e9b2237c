"""One configuration's request path, as a single immutable snapshot.

The authentication middleware reads :attr:`RequestPathSource.path` once per request and uses
only what that snapshot holds, across every ``await`` of the request. A reconfiguration builds
a new snapshot and swaps it in with one assignment, so a request is always judged under one
configuration: never an old policy with a new authenticator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from jiraguard.auth.audit import DecisionLog
from jiraguard.auth.authenticator import Authenticator
from jiraguard.auth.clientip import ClientAddress
from jiraguard.auth.oauth1_login import OAuth1Login
from jiraguard.auth.policy import Policy
from jiraguard.auth.router import ProviderRouter
from jiraguard.auth.sender import SenderConstraints
from jiraguard.auth.signed_identity import SignedIdentity
from jiraguard.settings import Settings


@dataclass(frozen=True, slots=True)
class RequestPath:
    """Everything the authentication step needs, made from one configuration."""

    settings: Settings
    router: ProviderRouter
    authenticator: Authenticator
    policy: Policy
    decisions: DecisionLog
    client_address: ClientAddress
    sender: SenderConstraints
    """The DPoP and client-certificate binding checks (every bound token, every request)."""
    signed_identity: SignedIdentity | None
    """A trusted gateway's signed identity header's verifier, when enabled."""
    oauth1: OAuth1Login | None = None
    """Two-legged OAuth 1.0a consumers (``[oauth1]``), when enabled."""
    header_only: bool = field(init=False)
    """Whether credentials come in the ``Authorization`` header alone (no signed identity
    header, OAuth 1.0a, query or form token configured): the common case, whose kept
    headers :meth:`~jiraguard.auth.authenticator.Authenticator.kept` answers for."""

    def __post_init__(self) -> None:
        auth = self.settings.auth
        header_only = not (
            self.signed_identity is not None
            or self.oauth1 is not None
            or auth.allow_query_token
            or auth.allow_form_token
        )
        object.__setattr__(self, "header_only", header_only)  # frozen: set once, here


class RequestPathSource(Protocol):
    """Whoever holds the current snapshot (the application's services)."""

    @property
    def path(self) -> RequestPath: ...
