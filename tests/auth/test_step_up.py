"""Step-up (RFC 9470): rules that ask how and when the token's user signed in."""

from __future__ import annotations

import time

import pytest

from tests.auth.test_dpop import challenges
from tests.conftest import HarnessFactory, jwt_provider
from tests.support.idp import RESOURCE, TestProvider

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

FIN_WRITES = {
    "name": "fin-writes-need-mfa",
    "methods": ["POST", "PUT", "DELETE"],
    "paths": ["/rest/api/2/issue/FIN-*"],
    "require_amr": ["mfa"],
    "require_acr": ["urn:corp:gold", "urn:corp:platinum"],
    "max_auth_age": 3600,
}
ISSUE = "/rest/api/2/issue/FIN-1"


def _token(idp: TestProvider, **sign_in: str) -> dict[str, str]:
    token = idp.user_token(
        "alice", scope="openid jira:read jira:write", resource=RESOURCE, sign_in=sign_in
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "sign_in",
    [
        {},
        {"acr": "urn:corp:gold", "amr": "pwd", "auth_time": "now"},
        {"acr": "urn:corp:bronze", "amr": "pwd mfa", "auth_time": "now"},
        {"acr": "urn:corp:gold", "amr": "pwd mfa", "auth_time": "7200"},
    ],
    ids=["nothing", "no-mfa", "weak-acr", "too-old"],
)
async def test_a_write_without_the_sign_in_it_needs_gets_a_challenge_a_client_can_act_on(
    harness: HarnessFactory, idp: TestProvider, sign_in: dict[str, str]
) -> None:
    """RFC 9470 §3: 401, insufficient_user_authentication, acr_values and max_age."""
    h = await harness(providers=[jwt_provider(idp)], rules=[FIN_WRITES])
    await h.add_user("alice")
    if "auth_time" in sign_in:
        ago = 0 if sign_in["auth_time"] == "now" else int(sign_in["auth_time"])
        sign_in = {**sign_in, "auth_time": str(int(time.time()) - ago)}
    headers = _token(idp, **sign_in)
    assert (await h.client.get("/rest/api/2/myself", headers=headers)).status_code == 200
    answer = await h.client.put(ISSUE, headers=headers, json={"fields": {}})
    assert answer.status_code == 401, answer.text
    challenge = challenges(answer.headers["www-authenticate"])["Bearer"]
    assert challenge["error"] == "insufficient_user_authentication"
    assert challenge["acr_values"].split() == ["urn:corp:gold", "urn:corp:platinum"]
    assert int(challenge["max_age"]) == 3600


async def test_a_recent_mfa_sign_in_passes_the_step_up_rule(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    h = await harness(providers=[jwt_provider(idp)], rules=[FIN_WRITES])
    await h.add_user("alice")
    headers = _token(idp, acr="urn:corp:gold", amr="pwd mfa", auth_time=str(int(time.time()) - 60))
    answer = await h.client.put(ISSUE, headers=headers, json={"fields": {}})
    assert answer.status_code not in (401, 403), answer.text  # past the rules: the route's answer
