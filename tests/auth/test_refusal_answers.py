"""A refusal is rendered once and sent again from a copy: the same bytes as rendering it
afresh, and a header one answer adds (a DPoP nonce) never reaches another."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from starlette.responses import Response

from jiraguard.auth import errors
from jiraguard.auth.errors import InvalidToken, RateLimited, Unauthenticated, UseDPoPNonce
from jiraguard.responses import error_response


@contextmanager
def _nothing_kept() -> Iterator[None]:
    """The kept answers set aside for the block (emptied), put back after it."""
    kept = dict(errors._answers)
    errors._answers.clear()
    try:
        yield
    finally:
        errors._answers.clear()
        errors._answers.update(kept)


def _sent(response: Response) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    return response.status_code, list(response.raw_headers), bytes(response.body)


def test_a_kept_refusal_is_the_answer_rendered_afresh() -> None:
    description = "The access token's signature does not verify"
    rendered = error_response(
        401,
        [description],
        headers={
            "WWW-Authenticate": f'Bearer realm="jira", error="invalid_token", '
            f'error_description="{description}"'
        },
    )
    first, second = (
        InvalidToken(description).response("jira"),
        InvalidToken(description).response("jira"),
    )
    assert _sent(first) == _sent(second) == _sent(rendered)
    assert first.raw_headers is not second.raw_headers
    none = Unauthenticated().response("jira")
    assert none.headers["www-authenticate"] == 'Bearer realm="jira"'
    assert Unauthenticated().response("other").headers["www-authenticate"] == 'Bearer realm="other"'


def test_a_header_added_to_one_answer_reaches_no_other() -> None:
    first = UseDPoPNonce("The DPoP proof needs the server's nonce", "nonce-1").response("jira")
    second = UseDPoPNonce("The DPoP proof needs the server's nonce", "nonce-2").response("jira")
    assert first.headers.getlist("dpop-nonce") == ["nonce-1"]
    assert second.headers.getlist("dpop-nonce") == ["nonce-2"]
    limited = RateLimited("Too many requests", {"Retry-After": "7"}).response("jira")
    assert limited.headers["retry-after"] == "7"
    assert (
        RateLimited("Too many requests", {"Retry-After": "9"})
        .response("jira")
        .headers["retry-after"]
        == "9"
    )


def test_past_the_bound_refusals_are_rendered_each_time_and_nothing_more_is_kept() -> None:
    with _nothing_kept():
        for i in range(errors._KEPT_ANSWERS + 50):
            answer = InvalidToken(f"refusal {i}").response("jira")
            assert f"refusal {i}".encode() in answer.body
        assert len(errors._answers) == errors._KEPT_ANSWERS


def _fresh(error: errors.AuthError, realm: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """``error``'s answer rendered with nothing kept to find."""
    with _nothing_kept():
        return _sent(error.response(realm))


def _every_error() -> list[errors.AuthError]:
    """Each error class, twice where it carries more than its description: two instances
    with the same description whose answers differ."""
    same = "the same description"
    scheme_dpop = errors.InvalidToken(same)
    scheme_dpop.scheme = "DPoP"
    with_algs = errors.InvalidToken(same)
    with_algs.dpop_algs = "ES256 PS256"
    return [
        errors.Unauthenticated(),
        errors.BasicAuthBlocked(),
        errors.InvalidRequest(same),
        errors.InvalidToken(same),
        scheme_dpop,
        with_algs,
        errors.OAuthProblem("signature_invalid", same),
        errors.OAuthProblem("nonce_used", same),
        errors.InvalidDPoPProof(same),
        errors.UseDPoPNonce(same, "n-1"),
        errors.UseDPoPNonce(same, "n-2"),
        errors.InsufficientUserAuthentication(same, acr_values="gold"),
        errors.InsufficientUserAuthentication(same, max_age=60),
        errors.InsufficientScope(same, "jira:read"),
        errors.InsufficientScope(same, "jira:write"),
        errors.Forbidden(same),
        errors.RateLimited(same, {"Retry-After": "3"}),
        errors.RateLimited(same, {"Retry-After": "4"}),
        errors.Unavailable(same),
        errors.ProviderUnavailable(same),
        errors.ProviderUnavailable(same, provider="corp", url="https://idp.example/token"),
        errors.ProviderUnavailable(same, provider="other"),
    ]


def test_every_refusal_kept_or_not_is_its_own_answer() -> None:
    """Asked twice in either realm (the second time from what the first kept), each error's
    answer is the one rendered afresh; errors that differ in more than their description
    (a scope, a nonce, a provider, a scheme) never share an answer."""
    with _nothing_kept():
        answers = []
        for realm in ("jira", "other"):
            for _ in range(2):
                for error in _every_error():
                    sent = _sent(error.response(realm))
                    assert sent == _fresh(error, realm), (type(error).__name__, realm)
                    answers.append(sent)
        per_round = len(_every_error())
        first = answers[:per_round]
        assert len(set(map(repr, first))) == per_round  # all distinct within a realm


def test_only_errors_told_apart_by_their_description_are_found_by_it() -> None:
    described = {kind.__name__ for kind in map(type, _every_error()) if errors._described(kind)}
    assert described == {
        "Unauthenticated",
        "BasicAuthBlocked",
        "InvalidRequest",
        "InvalidToken",
        "InvalidDPoPProof",
        "Forbidden",
        "Unavailable",
    }
