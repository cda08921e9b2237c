"""A lost PostgreSQL connection is replaced, not fatal: the pool checks before it lends one."""

from __future__ import annotations

import psycopg
import pytest

from jiraguard.auth.pat import CLI
from tests.conftest import PG_ADMIN_URL, HarnessFactory

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

SEARCH = "/rest/api/2/search?jql=order%20by%20created"


async def test_connections_killed_by_the_server_are_replaced(
    harness: HarnessFactory, postgres_url: str
) -> None:
    h = await harness(url=postgres_url)
    await h.add_user("alice")
    issued = await h.services.tokens.create("alice", "t", None, actor="alice", origin=CLI)
    token = issued.raw
    me = {"Authorization": f"Bearer {token}"}
    # Both pools lend a connection first: the async one (myself), the units' sync one (search).
    assert (await h.client.get("/rest/api/2/myself", headers=me)).status_code == 200
    assert (await h.client.get(SEARCH, headers=me)).status_code == 200
    name = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()) AS t",
            (name,),
        ).fetchone()
    assert killed is not None
    assert killed[0] >= 2  # the pools' idle connections
    for _ in range(3):
        assert (await h.client.get("/rest/api/2/myself", headers=me)).status_code == 200
        searched = await h.client.get(SEARCH, headers=me)
        assert searched.status_code == 200
        assert searched.json()["total"] == 0
