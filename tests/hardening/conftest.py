"""The Jira API on each database with tokens signed by a shared secret (no provider needed)."""

from __future__ import annotations

import pytest

from tests.conftest import HarnessFactory, bearer
from tests.jira.conftest import JiraApi
from tests.support.tokens import claims_for, hmac_provider, signed


def _tokens(user: str) -> dict[str, str]:
    return bearer(signed(claims_for(user)))


@pytest.fixture
async def hapi(harness: HarnessFactory, database_url: str) -> JiraApi:
    made = await harness(providers=[hmac_provider()], url=database_url)
    await made.add_user("alice", display_name="Alice A", admin=True, groups=["jira-users"])
    await made.add_user("bob", display_name="Bob B", groups=["jira-users"])
    api = JiraApi(made, _tokens)
    await api.project()
    await api.issue("x")
    return api
