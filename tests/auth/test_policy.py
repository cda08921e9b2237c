"""Identity mapping, access rules, Basic exceptions, client addresses and rate limits,
against the real test provider."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import pytest

from jiraguard.auth.authenticator import hash_password
from tests.conftest import HarnessFactory, bearer, introspection_provider, jwt_provider
from tests.support.idp import SERVICE_CLIENT, TestProvider

pytestmark = pytest.mark.anyio

ME = "/rest/api/2/myself"


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


async def _groups(h: Any, token: str) -> list[str]:
    response = await h.client.get(ME, headers=bearer(token))
    assert response.status_code == 200, response.text
    return [g["name"] for g in response.json()["groups"]["items"]]


# Identity mapping --------------------------------------------------------------------------


async def test_groups_from_array_claim_with_mapping(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await harness(
        [jwt_provider(idp, groups_attribute="groups", group_mapping={"jira-users": "users"})]
    )
    await h.add_user("bob", groups=["local"])
    # bob's token carries jira-users and jira-administrators; only the mapped one counts.
    assert await _groups(h, idp.jwt_token("bob")) == ["local", "users"]


async def test_groups_from_string_claim_with_passthrough(
    fresh_idp: Any, harness: HarnessFactory
) -> None:
    provider = fresh_idp(
        accounts={"dora": {"preferred_username": "dora", "groups": "ops, dev  qa"}}
    )
    h = await harness([jwt_provider(provider, groups_attribute="groups", group_passthrough=True)])
    await h.add_user("dora")
    assert await _groups(h, provider.jwt_token("dora")) == ["dev", "ops", "qa"]


async def test_username_transforms_and_pattern(fresh_idp: Any, harness: HarnessFactory) -> None:
    provider = fresh_idp(accounts={"x": {"preferred_username": None, "upn": "Erin.E@Corp.Example"}})
    h = await harness(
        [
            jwt_provider(
                provider,
                username_attribute=["preferred_username", "upn"],
                username_transforms=["lowercase"],
                username_pattern=r"(?P<username>[a-z.]+)@corp\.example",
            )
        ]
    )
    await h.add_user("erin.e")
    response = await h.client.get(ME, headers=bearer(provider.jwt_token("x")))
    assert response.status_code == 200
    assert response.json()["name"] == "erin.e"


async def test_lookup_by_email_refuses_ambiguity(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await harness([jwt_provider(idp, username_attribute="email", lookup="email")])
    await h.add_user("alice.a", email="alice@example.com")
    ok = await h.client.get(ME, headers=bearer(idp.jwt_token("alice")))
    assert ok.json()["name"] == "alice.a"
    await h.add_user("alice.b", email="ALICE@example.com")
    await h.services.cache.clear()
    refused = await h.client.get(ME, headers=bearer(idp.jwt_token("alice")))
    assert refused.status_code == 401
    assert "several" in refused.json()["errorMessages"][0]


async def test_jit_create_then_update_with_sync(fresh_idp: Any, harness: HarnessFactory) -> None:
    accounts = {
        "fred": {
            "preferred_username": "fred",
            "name": "Fred F",
            "email": "f@x.test",
            "groups": ["eng"],
        }
    }
    provider = fresh_idp(accounts=accounts)
    options = {
        "groups_attribute": "groups",
        "group_mapping": {"eng": "engineering", "ops": "operations"},
        "sync_user": True,
    }
    h = await harness([jwt_provider(provider, **options)], auth={"create_users": True})
    assert await _groups(h, provider.jwt_token("fred")) == ["engineering"]
    user = await h.services.users.get("fred")
    assert user is not None
    assert (user.display_name, user.email, user.groups) == ("Fred F", "f@x.test", {"engineering"})
    # The provider changes name, e-mail and groups; a local group stays untouched.
    await h.services.users.sync("fred", display_name=None, email=None, groups=["local"], managed=[])
    provider.accounts["fred"] = {
        **accounts["fred"],
        "name": "Fred G",
        "email": "g@x.test",
        "groups": ["ops"],
    }
    provider.restart(rotate_keys=False)
    assert await _groups(h, provider.jwt_token("fred")) == ["local", "operations"]
    user = await h.services.users.get("fred")
    assert user is not None
    assert (user.display_name, user.email) == ("Fred G", "g@x.test")


async def test_client_credentials_map_to_their_own_service_user(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await harness([introspection_provider(idp, client_users={"service-bot": "svc-bot"})])
    await h.add_user("svc-bot")
    token = idp.client_credentials_token(*SERVICE_CLIENT)
    response = await h.client.get(ME, headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["name"] == "svc-bot"
    other = idp.client_credentials_token("jiraguard", "jiraguard-secret")
    refused = await h.client.get(ME, headers=bearer(other))
    assert refused.status_code == 401
    assert "jiraguard is not mapped" in refused.json()["errorMessages"][0]


# Access rules ------------------------------------------------------------------------------

WRITES = ["POST", "PUT", "PATCH", "DELETE"]


async def test_only_these_groups_may_use_the_api(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    rules = [{"name": "members", "paths": ["/rest/*"], "require_groups": ["jira-users"]}]
    h = await harness([jwt_provider(idp)], rules=rules)
    await h.add_user("alice", groups=["jira-users"])
    await h.add_user("bob")
    assert (await h.client.get(ME, headers=bearer(idp.jwt_token("alice")))).status_code == 200
    refused = await h.client.get(ME, headers=bearer(idp.jwt_token("bob")))
    assert refused.status_code == 403
    assert "www-authenticate" not in refused.headers
    assert refused.json()["errorMessages"] == [
        "You do not have the permission to use this resource."
    ]


async def test_read_only_groups(idp: TestProvider, harness: HarnessFactory) -> None:
    rules = [
        {"name": "contractors read", "methods": WRITES, "groups": ["contractors"], "action": "deny"}
    ]
    h = await harness([jwt_provider(idp)], rules=rules)
    await h.add_user("alice", groups=["contractors"])
    await h.add_user("bob")
    alice, bob = bearer(idp.jwt_token("alice")), bearer(idp.jwt_token("bob"))
    assert (await h.client.get(ME, headers=alice)).status_code == 200
    assert (await h.client.post(ME, headers=alice)).status_code == 403
    assert (await h.client.post(ME, headers=bob)).status_code == 405  # admitted; no such route


async def test_public_paths_need_no_token(idp: TestProvider, harness: HarnessFactory) -> None:
    rules = [
        {
            "name": "info",
            "methods": ["GET"],
            "paths": ["/rest/api/2/serverInfo"],
            "action": "public",
        }
    ]
    h = await harness([jwt_provider(idp)], rules=rules)
    assert (await h.client.get("/rest/api/2/serverInfo")).status_code == 200
    assert (await h.client.get("/rest/api/latest/serverInfo/")).status_code == 200
    assert (await h.client.get(ME)).status_code == 401


async def test_scopes_for_reads_and_writes(idp: TestProvider, harness: HarnessFactory) -> None:
    rules = [
        {"name": "read", "methods": ["GET", "HEAD"], "require_scopes": ["jira:read"]},
        {"name": "write", "methods": WRITES, "require_scopes": ["jira:write"]},
    ]
    h = await harness([jwt_provider(idp)], rules=rules)
    await h.add_user("alice")
    reader = bearer(idp.jwt_token("alice", scope="openid jira:read"))
    writer = bearer(idp.jwt_token("alice", scope="openid jira:read jira:write"))
    nothing = bearer(idp.jwt_token("alice", scope="openid"))
    assert (await h.client.get(ME, headers=reader)).status_code == 200
    refused = await h.client.post(ME, headers=reader)
    assert refused.status_code == 403
    assert refused.headers["www-authenticate"] == (
        'Bearer realm="jiraguard", error="insufficient_scope", '
        'error_description="The token lacks the scope jira:write", scope="jira:write"'
    )
    assert (await h.client.post(ME, headers=writer)).status_code == 405
    assert (await h.client.get(ME, headers=nothing)).status_code == 403


async def test_default_deny(idp: TestProvider, harness: HarnessFactory) -> None:
    rules = [{"name": "only myself", "paths": [ME]}]
    h = await harness([jwt_provider(idp)], rules=rules, auth={"default_policy": "deny"})
    await h.add_user("alice")
    token = bearer(idp.jwt_token("alice"))
    assert (await h.client.get(ME, headers=token)).status_code == 200
    assert (await h.client.get("/rest/api/2/serverInfo", headers=token)).status_code == 403


# Basic authentication ----------------------------------------------------------------------


async def _basic_harness(harness: HarnessFactory, idp: TestProvider, **auth: Any) -> Any:
    h = await harness([jwt_provider(idp)], auth={"block_basic": True, **auth})
    await h.add_user("breakglass", password_hash=hash_password("pw"), groups=["admins"])
    await h.add_user("legacy", password_hash=hash_password("pw"))
    return h


async def test_basic_exception_by_user_group_path_and_network(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await _basic_harness(
        harness, idp, basic_exceptions={"users": ["legacy"], "groups": ["admins"]}
    )
    assert (await h.client.get(ME, headers=_basic("legacy", "pw"))).status_code == 200
    assert (await h.client.get(ME, headers=_basic("breakglass", "pw"))).status_code == 200
    assert (await h.client.get(ME, headers=_basic("legacy", "nope"))).status_code == 401
    h2 = await harness(
        [jwt_provider(idp)],
        auth={
            "basic_exceptions": {"paths": ["/rest/api/2/serverInfo"], "networks": ["192.0.2.0/24"]}
        },
    )
    assert (await h2.client.get(ME, headers=_basic("legacy", "pw"))).status_code == 401
    info = await h2.client.get("/rest/api/2/serverInfo", headers=_basic("legacy", "pw"))
    assert info.status_code == 200


async def test_basic_report_only_lets_through_and_counts(
    idp: TestProvider, harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    h = await _basic_harness(harness, idp, basic_report_only=True)
    response = await h.client.get(ME, headers=_basic("legacy", "pw"))
    assert response.status_code == 200
    assert h.services.policy.basic_reported["legacy"] == 1
    assert "would have been blocked" in caplog.text
    assert (await h.client.get(ME, headers=_basic("legacy", "wrong"))).status_code == 401


async def test_forwarded_for_is_ignored_from_untrusted_peers(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    """A client cannot claim a break-glass network by sending X-Forwarded-For itself."""
    exceptions = {"networks": ["10.0.0.0/8"]}
    untrusted = await _basic_harness(harness, idp, basic_exceptions=exceptions)
    spoofed = {**_basic("legacy", "pw"), "X-Forwarded-For": "10.1.2.3"}
    assert (await untrusted.client.get(ME, headers=spoofed)).status_code == 401

    trusted = await harness(
        [jwt_provider(idp)],
        server={"base_url": "http://jira.test", "trusted_proxies": ["127.0.0.0/8"]},
        auth={"basic_exceptions": exceptions},
    )
    assert (await trusted.client.get(ME, headers=spoofed)).status_code == 200
    # Left of the last untrusted hop is the client's own word: not believed.
    chained = {**spoofed, "X-Forwarded-For": "10.1.2.3, 198.51.100.7"}
    assert (await trusted.client.get(ME, headers=chained)).status_code == 401


# Rate limits -------------------------------------------------------------------------------


async def test_rate_limit_429_then_recovery(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness([jwt_provider(idp)], rate_limits={"per_user": "2/second"})
    await h.add_user("alice")
    token = bearer(idp.jwt_token("alice"))
    codes = [(await h.client.get(ME, headers=token)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    limited = await h.client.get(ME, headers=token)
    assert limited.headers["retry-after"] == "1"
    assert limited.headers["ratelimit-limit"] == "2"
    assert limited.headers["ratelimit-remaining"] == "0"
    assert limited.json()["errorMessages"] == ["Rate limit exceeded. Try again later."]
    await asyncio.sleep(0.6)
    assert (await h.client.get(ME, headers=token)).status_code == 200


async def test_rate_limit_per_rule_and_per_token(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    rules = [{"name": "writes", "methods": WRITES, "rate_limit": "1/minute"}]
    h = await harness([jwt_provider(idp)], rules=rules, rate_limits={"per_token": "5/minute"})
    await h.add_user("alice")
    token = bearer(idp.jwt_token("alice"))
    assert (await h.client.post(ME, headers=token)).status_code == 405
    assert (await h.client.post(ME, headers=token)).status_code == 429
    assert (await h.client.get(ME, headers=token)).status_code == 200  # the rule is for writes
    codes = [(await h.client.get(ME, headers=token)).status_code for _ in range(4)]
    assert codes == [200, 200, 429, 429]  # 5 per token in all: 2 POSTs, then 3 GETs
    fresh = bearer(idp.jwt_token("alice"))
    assert (await h.client.get(ME, headers=fresh)).status_code == 200
