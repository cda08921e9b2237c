"""Two-legged OAuth 1.0a with user impersonation, accepted by the embedded server
(``[oauth1]``): the rules of Jira's incoming application links, so that a jiraguard gateway
in ``oauth1_impersonation`` mode can be tested end to end against them.

:class:`~jiraguard.auth.oauth1_verifier.OAuth1Verifier` checks the signature, the consumer's
flags, the timestamp and the nonce. The requestor is then resolved in the directory, and
here Jira's behaviour is reproduced on purpose: **a name that does not resolve (unknown, or
disabled) runs the request as anonymous instead of refusing it**, and so does a plain
two-legged request that names nobody. Anonymous may not call protected paths, so such a
request ends in 401 like any request without credentials; :attr:`OAuth1Login.fallbacks`
counts them, so tests can prove a gateway never makes Jira fall back.
"""

from __future__ import annotations

import logging
from collections import deque

from starlette.types import Scope

from jiraguard.auth.oauth1_verifier import OAuth1Verifier, base_uri
from jiraguard.auth.principal import Principal
from jiraguard.store.users import UserDirectory

log = logging.getLogger(__name__)

METHOD = "oauth1"
"""The :attr:`Principal.method` of a request authenticated by two-legged OAuth 1.0a."""


def oauth_authorization(scope: Scope) -> bytes | None:
    """The request's ``Authorization`` value when it uses the ``OAuth`` scheme."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return value if OAuth1Verifier.applies(value) else None
    return None


class OAuth1Login:
    """Turns a verified two-legged OAuth 1.0a request into the requestor's principal."""

    def __init__(self, verifier: OAuth1Verifier, users: UserDirectory) -> None:
        self.verifier = verifier
        self.users = users
        self.fallbacks = 0
        """Verified requests run as anonymous: the requestor did not resolve to an active
        user, or the request named nobody (Jira's behaviour, see the module)."""
        self.recent_fallbacks: deque[tuple[str, str]] = deque(maxlen=1000)
        """Method and path of the latest of those requests."""

    async def authenticate(
        self, scope: Scope, authorization: bytes, form_body: bytes | None
    ) -> Principal | None:
        """The requestor's principal; None for anonymous; OAuthProblem (401) when the request
        does not verify."""
        verdict = self.verifier.verify(
            scope["method"],
            base_uri(scope),
            scope.get("query_string", b""),
            authorization,
            form_body,
        )
        user = await self.users.get(verdict.requestor) if verdict.requestor else None
        if user is None or not user.active:
            self.fallbacks += 1
            self.recent_fallbacks.append((scope["method"], scope["path"]))
            log.info(
                "two-legged OAuth request of consumer %s runs as anonymous: %s",
                verdict.consumer_name,
                "no user named" if not verdict.requestor else "the user is unknown or disabled",
            )
            return None
        return Principal.of(user, method=METHOD, client_id=verdict.consumer_key)
