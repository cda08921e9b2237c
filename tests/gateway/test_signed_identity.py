"""The embedded server behind a gateway: ``[signed_identity]`` accepts the gateway's signed
header from trusted peers only, and refuses (401) everything else that carries one."""

from __future__ import annotations

import time

import pytest

from jiraguard.auth.signed_identity import sign
from tests.conftest import Harness, HarnessFactory, bearer, jwt_provider
from tests.gateway.conftest import SECRET
from tests.support.idp import TestProvider

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

TARGET = "/rest/api/2/myself"


def signed(user: str, method: str = "GET", target: str = TARGET, age: float = 0) -> dict[str, str]:
    timestamp = str(int(time.time() - age))
    return {
        "X-Forwarded-User": user,
        "X-Jiraguard-Timestamp": timestamp,
        "X-Jiraguard-Signature": sign(SECRET, user, method, target, timestamp),
    }


async def embedded(
    harness: HarnessFactory, idp: TestProvider, peers: list[str] | None = None
) -> Harness:
    # The in-process client's address is 127.0.0.1.
    h = await harness(
        providers=[jwt_provider(idp)],
        signed_identity={
            "enabled": True,
            "shared_secret": SECRET,
            "trusted_peers": peers or ["127.0.0.0/8"],
        },
    )
    await h.add_user("alice", display_name="Alice A")
    return h


async def test_valid_signature_from_a_trusted_peer_authenticates(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    h = await embedded(harness, idp)
    response = await h.client.get(TARGET, headers=signed("alice"))
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "alice"


@pytest.mark.parametrize(
    "tamper",
    [
        "wrong secret",
        "other user",
        "other method",
        "other path",
        "stale",
        "future",
        "garbled",
        "huge timestamp",
    ],
)
async def test_bad_or_stale_signature_is_401(
    harness: HarnessFactory, idp: TestProvider, tamper: str
) -> None:
    h = await embedded(harness, idp)
    await h.add_user("bob")
    headers = signed("alice")
    if tamper == "wrong secret":
        timestamp = headers["X-Jiraguard-Timestamp"]
        headers["X-Jiraguard-Signature"] = sign("not-the-secret", "alice", "GET", TARGET, timestamp)
    elif tamper == "other user":
        headers["X-Forwarded-User"] = "bob"
    elif tamper == "other method":
        headers = signed("alice", method="DELETE")
    elif tamper == "other path":
        headers = signed("alice", target="/rest/api/2/serverInfo")
    elif tamper == "stale":
        headers = signed("alice", age=120)
    elif tamper == "future":
        headers = signed("alice", age=-120)
    elif tamper == "huge timestamp":
        timestamp = "9" * 5000
        headers["X-Jiraguard-Timestamp"] = timestamp
        headers["X-Jiraguard-Signature"] = sign(SECRET, "alice", "GET", TARGET, timestamp)
    else:
        headers["X-Jiraguard-Signature"] = "not hex at all"
    response = await h.client.get(TARGET, headers=headers)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_missing_signature_is_401_even_with_a_valid_token(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    """A signed identity header never falls through to another credential."""
    h = await embedded(harness, idp)
    headers = {**bearer(idp.jwt_token("alice")), "X-Forwarded-User": "alice"}
    assert (await h.client.get(TARGET, headers=headers)).status_code == 401


async def test_signed_header_from_an_untrusted_peer_does_not_authenticate(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    h = await embedded(harness, idp, peers=["192.0.2.0/24"])
    response = await h.client.get(TARGET, headers=signed("alice"))
    assert response.status_code == 401


async def test_unknown_or_disabled_user_is_401(harness: HarnessFactory, idp: TestProvider) -> None:
    h = await embedded(harness, idp)
    await h.add_user("carol")
    await h.services.users.set_active("carol", False)
    assert (await h.client.get(TARGET, headers=signed("nobody"))).status_code == 401
    assert (await h.client.get(TARGET, headers=signed("carol"))).status_code == 401


async def test_disabled_feature_ignores_the_header(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    """Off by default: the header is meaningless and the request needs a token as usual."""
    h = await harness(providers=[jwt_provider(idp)])
    await h.add_user("alice")
    assert (await h.client.get(TARGET, headers=signed("alice"))).status_code == 401
    with_token = {**signed("alice"), **bearer(idp.jwt_token("alice"))}
    assert (await h.client.get(TARGET, headers=with_token)).status_code == 200
