"""The forward-auth endpoint: the engine's conventions in, the gateway's decisions out."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest

from jiraguard.auth.signed_identity import sign
from jiraguard.forward_auth import _one_line
from tests.conftest import Harness, HarnessFactory, bearer, jwt_provider
from tests.gateway.conftest import SECRET
from tests.support.idp import TestProvider, free_port
from tests.support.rsa_keys import new_key_pair

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

ASK = "/_jiraguard/auth"


async def _judge(harness: HarnessFactory, idp: TestProvider, **sections: Any) -> Harness:
    upstream = {"shared_secret": SECRET, **sections.pop("upstream", {})}
    forward_auth = {"enabled": True, **sections.pop("forward_auth", {})}
    return await harness(
        providers=[jwt_provider(idp), *sections.pop("providers", [])],
        forward_auth=forward_auth,
        upstream=upstream,
        **sections,
    )


def _asking(method: str, uri: str, **headers: str) -> dict[str, str]:
    return {"X-Original-Method": method, "X-Original-URI": uri, **headers}


async def test_an_accepted_request_gets_the_signed_identity_for_the_target_jira_receives(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    h = await _judge(harness, idp, upstream={"url": "http://jira.internal:8080/jira"})
    uri = "/rest/api/2/search?jql=project%3DABC"
    answer = await h.client.get(ASK, headers=_asking("GET", uri, **bearer(idp.jwt_token("alice"))))
    assert answer.status_code == 200, answer.text
    assert answer.content == b""
    timestamp = answer.headers["x-jiraguard-timestamp"]
    assert answer.headers["x-forwarded-user"] == "alice"
    expected = sign(SECRET, "alice", "GET", "/jira" + uri, timestamp)
    assert answer.headers["x-jiraguard-signature"] == expected


@pytest.mark.parametrize(
    "convention",
    [
        {"X-Forwarded-Method": "POST", "X-Forwarded-Uri": "/rest/api/2/issue"},  # Caddy, Traefik
        "envoy",
    ],
)
async def test_every_engines_convention_names_the_judged_request(
    harness: HarnessFactory, idp: TestProvider, convention: dict[str, str] | str
) -> None:
    h = await _judge(harness, idp)
    token = bearer(idp.jwt_token("bob"))
    if convention == "envoy":  # the original path appended to the prefix, the same method
        answer = await h.client.post(f"{ASK}/rest/api/2/issue", headers=token)
    else:
        assert isinstance(convention, dict)
        answer = await h.client.get(ASK, headers={**convention, **token})
    assert answer.status_code == 200, answer.text
    signature = sign(
        SECRET, "bob", "POST", "/rest/api/2/issue", answer.headers["x-jiraguard-timestamp"]
    )
    assert answer.headers["x-jiraguard-signature"] == signature


async def test_refusals_carry_their_real_status_challenge_and_body(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    key = new_key_pair()
    down = {  # a provider whose keys cannot be fetched: its tokens cannot be judged
        "name": "down",
        "method": "jwt",
        "issuer": "https://down.test",
        "jwks_uri": f"http://127.0.0.1:{free_port()}/jwks",
        "audience": ["jira"],
    }
    h = await _judge(
        harness,
        idp,
        providers=[down],
        rules=[{"name": "no-deletes", "methods": ["DELETE"], "action": "deny"}],
        rate_limits={"per_user": "2/minute"},
    )
    missing = await h.client.get(ASK, headers=_asking("GET", "/rest/api/2/myself"))
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith('Bearer realm="jiraguard"')
    assert missing.headers["content-type"] == "application/json;charset=UTF-8"
    assert missing.json()["errorMessages"]
    bad = await h.client.get(
        ASK, headers=_asking("GET", "/rest/api/2/myself", **bearer("not.a.token"))
    )
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["www-authenticate"]
    carol = bearer(idp.jwt_token("carol"))
    forbidden = await h.client.get(ASK, headers=_asking("DELETE", "/rest/api/2/issue/A-1", **carol))
    assert forbidden.status_code == 403
    for _ in range(2):  # the limit: 2 a minute
        allowed = await h.client.get(ASK, headers=_asking("GET", "/rest/api/2/myself", **carol))
        assert allowed.status_code == 200
    limited = await h.client.get(ASK, headers=_asking("GET", "/rest/api/2/myself", **carol))
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    claims = {"iss": "https://down.test", "aud": "jira", "sub": "x", "exp": int(time.time()) + 60}
    token = jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": "k"})
    unavailable = await h.client.get(
        ASK, headers=_asking("GET", "/rest/api/2/myself", **bearer(token))
    )
    assert unavailable.status_code == 503


async def test_a_refusal_asked_again_by_request_id_is_answered_the_same_and_judged_once(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    h = await _judge(harness, idp)
    asking = _asking("GET", "/rest/api/2/myself", **{"X-Request-Id": "r-123"})
    first = await h.client.get(ASK, headers=asking)
    refused = sum(n for (ok, *_), n in h.services.decisions.counts.items() if not ok)
    second = await h.client.get(ASK, headers=asking)
    assert (first.status_code, first.content) == (second.status_code, second.content)
    assert first.headers["www-authenticate"] == second.headers["www-authenticate"]
    assert sum(n for (ok, *_), n in h.services.decisions.counts.items() if not ok) == refused
    other = await h.client.get(ASK, headers={**asking, "X-Request-Id": "r-124"})
    assert other.status_code == 401
    assert sum(n for (ok, *_), n in h.services.decisions.counts.items() if not ok) == refused + 1


async def test_only_trusted_peers_may_ask_and_they_must_say_what(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    h = await _judge(harness, idp, forward_auth={"trusted_peers": ["10.9.9.9/32"]})
    answer = await h.client.get(ASK, headers=_asking("GET", "/rest/api/2/myself"))
    assert answer.status_code == 403
    h = await _judge(harness, idp)
    assert (await h.client.get(ASK)).status_code == 400
    spoof = {"X-Original-Method": "G E T", "X-Original-URI": "/rest/api/2/myself"}
    assert (await h.client.get(ASK, headers=spoof)).status_code == 400


async def test_oauth1_impersonation_cannot_be_expressed_by_an_engine(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    keys = new_key_pair()
    with pytest.raises(Exception, match="oauth1_impersonation"):
        await _judge(
            harness,
            idp,
            upstream={
                "identity": "oauth1_impersonation",
                "consumer_key": "c",
                "private_key": keys.private_pem,
            },
        )


async def test_in_headers_a_refusal_is_a_403_whose_headers_carry_it_whole(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    """``X-Jiraguard-Refusal: in-headers`` (the shipped nginx configuration): one ask per
    request; a refusal comes back 403 (one of the two statuses ``auth_request`` passes on)
    with its real status, body, challenge and limit headers in headers nginx can copy."""
    h = await _judge(harness, idp, rate_limits={"per_user": "1/minute"})
    lean = {"X-Jiraguard-Refusal": "in-headers"}
    missing = await h.client.get(ASK, headers=_asking("GET", "/rest/api/2/myself", **lean))
    plain = await h.client.get(ASK, headers=_asking("GET", "/rest/api/2/myself"))
    assert (missing.status_code, missing.content) == (403, b"")
    assert missing.headers["x-jiraguard-status"] == "401"
    assert missing.headers["x-jiraguard-body"].encode() == plain.content  # byte for byte
    assert missing.headers["x-jiraguard-challenge"] == plain.headers["www-authenticate"]
    assert "www-authenticate" not in missing.headers  # nginx would copy a 401's only
    dave = {**bearer(idp.jwt_token("dave")), **lean}
    accepted = await h.client.get(ASK, headers=_asking("GET", "/rest/api/2/myself", **dave))
    assert accepted.status_code == 200
    assert accepted.headers["x-forwarded-user"] == "dave"
    limited = await h.client.get(ASK, headers=_asking("GET", "/rest/api/2/myself", **dave))
    assert limited.status_code == 403
    assert limited.headers["x-jiraguard-status"] == "429"
    assert int(limited.headers["retry-after"]) > 0
    assert limited.headers["ratelimit-limit"] == "1"
    assert limited.headers["ratelimit-remaining"] == "0"
    assert json.loads(limited.headers["x-jiraguard-body"])["errorMessages"] == [
        "Rate limit exceeded. Try again later."
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{"errorMessages":["caf\xc3\xa9"],"errors":{}}',
            {"errorMessages": ["café"], "errors": {}},
        ),
        (b'{"errorMessages":["a\\nb"],\n"errors":{}}', {"errorMessages": ["a\nb"], "errors": {}}),
        (b"<html>\nnot json</html>", {"errorMessages": ["The request was refused."], "errors": {}}),
    ],
)
def test_a_refusal_body_a_header_cannot_hold_is_sent_as_the_same_json_on_one_line(
    body: bytes, expected: dict[str, Any]
) -> None:
    line = _one_line(body)
    assert all(0x20 <= byte < 0x7F for byte in line)
    assert json.loads(line) == expected


def test_a_refusal_body_too_long_for_a_header_keeps_its_first_message() -> None:
    long = json.dumps({"errorMessages": ["first", "x" * 20_000], "errors": {}}).encode()
    assert json.loads(_one_line(long)) == {"errorMessages": ["first"], "errors": {}}
