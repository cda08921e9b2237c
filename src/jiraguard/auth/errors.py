"""One error tree for the authentication path.

Every error knows its HTTP status, its RFC 6750 error code and the headers it sends, so one
handler (:func:`AuthError.response`) renders them all in Jira's error format::

    AuthError
    ├── Unauthenticated               401, no error code (no credentials sent)
    │   └── BasicAuthBlocked          401, Basic credentials while Basic is disabled
    ├── InvalidRequest                400 invalid_request (malformed credentials)
    ├── InvalidToken                  401 invalid_token   ("the token is bad")
    │   └── OAuthProblem              401, an OAuth 1.0a request refused, with an OAuth challenge
    ├── InvalidDPoPProof              401 invalid_dpop_proof (RFC 9449 §7.1)
    │   └── UseDPoPNonce              401 use_dpop_nonce, with a fresh DPoP-Nonce (§9)
    ├── InsufficientUserAuthentication 401, step-up: acr_values / max_age (RFC 9470 §3)
    ├── InsufficientScope             403 insufficient_scope
    ├── Forbidden                     403 (known user, not allowed)
    ├── RateLimited                   429, with Retry-After and RateLimit-* headers
    └── Unavailable                   503 ("we could not check")
        └── ProviderUnavailable       503, the identity provider failed us

"The token is bad" and "we could not check" are different roots on purpose: a token is never
called invalid because its provider is down (fail closed, but honestly).

A request that used the ``DPoP`` scheme is answered with ``DPoP`` challenges (``scheme``);
where DPoP is accepted at all, every 401 also names the accepted proof algorithms
(``dpop_algs``, RFC 9449 §7.1), so a client learns it may, or must, bind its tokens.
"""

from __future__ import annotations

import re
from typing import ClassVar

from starlette.responses import Response

from jiraguard.responses import KeptResponse, error_response

# RFC 6750 §3: error_description uses %x20-21 / %x23-5B / %x5D-7E only (no '"' and no '\').
_UNSAFE_DESCRIPTION = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")

NOT_AUTHENTICATED = "You are not authenticated. Authentication required to perform this operation."


def _quoted(value: str) -> str:
    return '"' + _UNSAFE_DESCRIPTION.sub("", value) + '"'


_KEPT_ANSWERS = 1024
"""How many distinct refusals :meth:`AuthError.response` keeps rendered (a description can
name what a client sent, so their number is bounded, not the answers: past it they are
rendered each time)."""
_answers: dict[tuple[object, ...], Response] = {}


class AuthError(Exception):
    """Base of every error the authentication path raises."""

    status_code: ClassVar[int] = 401
    error_code: ClassVar[str | None] = None

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description
        self.decided_by: str | None = None
        """For an operator (the admin UI's "what would happen"), never a response: the access
        rule, or the setting, that refused, and why."""
        self.scheme = "Bearer"
        """The scheme the request used (``Bearer`` or ``DPoP``): its challenge's scheme."""
        self.dpop_algs: str | None = None
        """Where DPoP is accepted: the proof algorithms a 401's ``DPoP`` challenge names."""

    def params(self) -> list[str]:
        """The challenge's parameters after the realm (RFC 6750 §3)."""
        if self.error_code is None:
            return []
        return [
            f"error={_quoted(self.error_code)}",
            f"error_description={_quoted(self.description)}",
        ]

    def challenge(self, realm: str) -> str | None:
        """The ``WWW-Authenticate`` value (RFC 6750 §3), or None when none is due."""
        return f"{self.scheme} " + ", ".join([f"realm={_quoted(realm)}", *self.params()])

    def _challenges(self, realm: str) -> str | None:
        challenge = self.challenge(realm)
        if challenge is None or self.status_code != 401 or self.dpop_algs is None:
            return challenge
        algs = f"algs={_quoted(self.dpop_algs)}"
        if challenge.startswith("DPoP "):
            return f"{challenge}, {algs}"
        if challenge.startswith("Bearer "):  # RFC 7235 §4.1: challenges in one list
            return f"{challenge}, DPoP realm={_quoted(realm)}, {algs}"
        return challenge

    def messages(self) -> list[str]:
        return [self.description]

    def response(self, realm: str) -> Response:
        """This error as a Jira-format JSON response with its status and headers.

        The same refusal is the same answer, and a flood of bad tokens is a flood of the
        same few: each is rendered once and kept (``_KEPT_ANSWERS`` of them at most), then
        sent from a copy. An error whose answer follows from its class, scheme, DPoP
        algorithms, realm and description alone (:func:`_described`) is found by those,
        before its challenge is written out."""
        kind = type(self)
        described = _DESCRIBED.get(kind)
        if described is None:
            described = _DESCRIBED[kind] = _described(kind)
        key: tuple[object, ...] | None = None
        if described:
            key = (kind, self.scheme, self.dpop_algs, realm, self.description)
            kept = _answers.get(key)
            if kept is not None:
                return KeptResponse(kept)
        challenge = self._challenges(realm)
        messages = self.messages()
        if key is None:
            key = (self.status_code, challenge, *messages)
        kept = _answers.get(key)
        if kept is None:
            headers = {"WWW-Authenticate": challenge} if challenge is not None else {}
            kept = error_response(self.status_code, messages, headers=headers)
            if len(_answers) < _KEPT_ANSWERS:
                _answers[key] = kept
        return KeptResponse(kept)


class Unauthenticated(AuthError):
    """No credentials were sent (RFC 6750 §3.1: no error code in the challenge)."""

    def __init__(self, description: str = NOT_AUTHENTICATED) -> None:
        super().__init__(description)

    def challenge(self, realm: str) -> str:
        return f"Bearer realm={_quoted(realm)}"


class BasicAuthBlocked(Unauthenticated):
    """Basic credentials were sent while Basic authentication is disabled."""

    def __init__(self) -> None:
        super().__init__(
            "Basic authentication is disabled. Send an access token from your identity "
            "provider as 'Authorization: Bearer <token>'."
        )


class InvalidRequest(AuthError):
    """Malformed credentials or more than one of them (RFC 6750 §3.1 invalid_request)."""

    status_code = 400
    error_code = "invalid_request"


class InvalidToken(AuthError):
    """The token is expired, revoked, malformed, for someone else, or unknown (RFC 6750 §3.1)."""

    status_code = 401
    error_code = "invalid_token"

    def __init__(self, description: str, *, username: str | None = None) -> None:
        super().__init__(description)
        self.username = username
        """The Jira user the token belongs to, when it is refused because of that user
        (disabled): the rejection is then re-checked once the user changes."""


class OAuthProblem(InvalidToken):
    """An OAuth 1.0a (RFC 5849) request refused: bad signature, stale timestamp, replayed
    nonce, unknown consumer, a consumer not allowed to do this.

    ``problem`` is the ``oauth_problem`` code of the OAuth Problem Reporting extension
    (``signature_invalid``, ``timestamp_refused``, ``nonce_used``, ``consumer_key_unknown``,
    ``signature_method_rejected``, ``parameter_absent``, ``parameter_rejected``,
    ``token_rejected``, ``version_rejected``, ``permission_denied``), sent in an ``OAuth``
    challenge as Jira does.
    """

    def __init__(self, problem: str, description: str) -> None:
        super().__init__(description)
        self.problem = problem

    def challenge(self, realm: str) -> str:
        return f"OAuth realm={_quoted(realm)}, oauth_problem={_quoted(self.problem)}"


class InsufficientScope(AuthError):
    """The token lacks a scope the request needs (RFC 6750 §3.1 insufficient_scope)."""

    status_code = 403
    error_code = "insufficient_scope"

    def __init__(self, description: str, scope: str) -> None:
        super().__init__(description)
        self.scope = scope

    def params(self) -> list[str]:
        return [*super().params(), f"scope={_quoted(self.scope)}"]


class InvalidDPoPProof(AuthError):
    """The ``DPoP`` proof is missing, malformed, replayed, for another request or key
    (RFC 9449 §7.1: 401 ``invalid_dpop_proof``)."""

    status_code = 401
    error_code = "invalid_dpop_proof"

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.scheme = "DPoP"


class UseDPoPNonce(InvalidDPoPProof):
    """The proof lacks the server's current nonce (RFC 9449 §9): retry with ``DPoP-Nonce``."""

    error_code = "use_dpop_nonce"

    def __init__(self, description: str, nonce: str) -> None:
        super().__init__(description)
        self.nonce = nonce

    def response(self, realm: str) -> Response:
        answer = super().response(realm)
        answer.headers["DPoP-Nonce"] = self.nonce
        return answer


class InsufficientUserAuthentication(AuthError):
    """The token is good but its user did not sign in strongly or recently enough for this
    request (RFC 9470 §3): the challenge says what to ask the provider for."""

    status_code = 401
    error_code = "insufficient_user_authentication"

    def __init__(
        self, description: str, *, acr_values: str | None = None, max_age: int | None = None
    ) -> None:
        super().__init__(description)
        self.acr_values = acr_values
        """Space-separated ``acr`` values any of which would do (RFC 9470 §3)."""
        self.max_age = max_age
        """Largest acceptable time since the user's authentication, in seconds."""

    def params(self) -> list[str]:
        found = super().params()
        if self.acr_values:
            found.append(f"acr_values={_quoted(self.acr_values)}")
        if self.max_age is not None:
            found.append(f'max_age="{self.max_age}"')
        return found


class Forbidden(AuthError):
    """The caller is known but may not do this; Jira's 403 without a challenge."""

    status_code = 403

    def challenge(self, realm: str) -> None:
        return None


class RateLimited(AuthError):
    """Too many requests for a user, client or token (429)."""

    status_code = 429

    def __init__(self, description: str, headers: dict[str, str]) -> None:
        super().__init__(description)
        self.headers = headers

    def challenge(self, realm: str) -> None:
        return None

    def response(self, realm: str) -> Response:
        return error_response(self.status_code, self.messages(), headers=self.headers)


class Unavailable(AuthError):
    """Something on the way to a decision failed: deny, but say it is not the caller's fault."""

    status_code = 503
    public_message = "Your credentials could not be checked right now. Try again later."

    def challenge(self, realm: str) -> None:
        return None

    def messages(self) -> list[str]:
        # The description (which endpoint failed, how) is for logs, not for clients.
        return [self.public_message]


class ProviderUnavailable(Unavailable):
    """The provider could not be asked, or answered nonsense (503).

    The body names the provider and the URL that failed (without user information or query,
    :func:`~jiraguard.settings.safe_url`), never how it failed: that is for the log.
    """

    public_message = (
        "The identity provider could not be reached to check your credentials. Try again later."
    )

    def __init__(
        self, description: str, *, url: str | None = None, provider: str | None = None
    ) -> None:
        super().__init__(description)
        self.url = url
        """The endpoint that failed, already stripped of user information and query."""
        self.provider = provider
        """The configured provider's name (set by the router when the validator did not)."""

    def messages(self) -> list[str]:
        if self.provider is None:
            return [self.public_message]
        where = f" at {self.url}" if self.url else ""
        return [
            f"The identity provider {self.provider} could not be asked{where} to check your "
            "credentials. Try again later."
        ]


_RENDERING = ("params", "challenge", "_challenges", "messages")
"""The methods that write an error's answer (``response`` aside)."""
_BY_DESCRIPTION = (AuthError, Unauthenticated, Forbidden, Unavailable)
"""The classes whose versions of those methods read nothing but the realm, the scheme, the
DPoP algorithms, the description and class attributes."""
_DESCRIBED: dict[type[AuthError], bool] = {}


def _described(kind: type[AuthError]) -> bool:
    """Whether ``kind``'s answer follows from its class, scheme, DPoP algorithms, realm and
    description: it renders with no method but those of :data:`_BY_DESCRIPTION` (a class
    that writes more into its answer, a scope, a nonce, a provider, is found by the answer
    itself)."""
    if kind.response is not AuthError.response:
        return False
    for name in _RENDERING:
        owner = next(c for c in kind.__mro__ if name in vars(c))
        if owner not in _BY_DESCRIPTION:
            return False
    return True
