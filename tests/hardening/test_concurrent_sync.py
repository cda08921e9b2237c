"""With sync_user on, a user's first requests often arrive together (a client opening
several connections): each syncs the same profile and groups at once, and none may fail."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import HarnessFactory, bearer
from tests.support.tokens import claims_for, hmac_provider, signed

pytestmark = pytest.mark.anyio


async def test_concurrent_first_requests_of_one_user_all_succeed(
    harness: HarnessFactory, database_url: str
) -> None:
    h = await harness(
        [
            hmac_provider(
                sync_user=True,
                groups_attribute=["groups"],
                group_mapping={"eng": "developers", "ops": "operators"},
                group_passthrough=True,
            )
        ],
        url=database_url,
    )
    await h.add_user("alice", groups=["jira-users", "developers", "old-team"])

    async def first_request(n: int) -> int:
        groups = ["eng", "ops", "new-team", f"team-{n % 3}"] if n % 2 else ["eng", "new-team"]
        claims = claims_for("alice", jti=f"t{n}", name=f"Alice {n % 2}", groups=groups)
        response = await h.client.get("/rest/api/2/myself", headers=bearer(signed(claims)))
        return response.status_code

    for _round in range(3):
        statuses = await asyncio.gather(*(first_request(n) for n in range(24)))
        assert statuses == [200] * 24
    user = await h.services.users.get("alice")
    assert user is not None
    assert {"developers", "new-team", "jira-users"} <= user.groups
