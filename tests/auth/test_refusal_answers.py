"""A refusal is rendered once and sent again from a copy: the same bytes as rendering it
afresh, and a header one answer adds (a DPoP nonce) never reaches another."""

from __future__ import annotations

from starlette.responses import Response

from jiraguard.auth import errors
from jiraguard.auth.errors import InvalidToken, RateLimited, Unauthenticated, UseDPoPNonce
from jiraguard.responses import error_response


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
    kept = dict(errors._answers)
    try:
        errors._answers.clear()
        for i in range(errors._KEPT_ANSWERS + 50):
            answer = InvalidToken(f"refusal {i}").response("jira")
            assert f"refusal {i}".encode() in answer.body
        assert len(errors._answers) == errors._KEPT_ANSWERS
    finally:
        errors._answers.clear()
        errors._answers.update(kept)
