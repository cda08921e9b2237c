"""The whole chain on loopback: client → jiraguard gateway (uvicorn) → jiraguard embedded
(uvicorn, ``[signed_identity]`` on) with the real OpenID provider. Writes land as the
token's user, and nothing a client sends can make them land as someone else."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from jiraguard.app import create_app
from jiraguard.auth.signed_identity import sign
from jiraguard.settings import validate_settings
from jiraguard.store.db import Database, run_migrations
from jiraguard.store.users import UserDirectory
from tests.conftest import bearer, jwt_provider
from tests.gateway.conftest import SECRET
from tests.gateway.upstreams import ThreadServer
from tests.support.idp import TestProvider, free_port

pytestmark = [pytest.mark.anyio, pytest.mark.idp]


@dataclass
class Chain:
    gateway: str
    embedded: str


def _database(path: Path) -> str:
    url = f"sqlite:///{path}"
    run_migrations(url)
    return url


@pytest.fixture(scope="module")
def chain(idp: TestProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    workdir = tmp_path_factory.mktemp("chain")
    embedded_db = _database(workdir / "embedded.db")
    embedded_port, gateway_port = free_port(), free_port()
    embedded = validate_settings(
        {
            "server": {"port": embedded_port},
            "storage": {"url": embedded_db},
            "providers": [jwt_provider(idp)],
            "signed_identity": {
                "enabled": True,
                "shared_secret": SECRET,
                "trusted_peers": ["127.0.0.0/8"],
            },
        }
    )
    gateway = validate_settings(
        {
            "server": {"port": gateway_port},
            "storage": {"url": _database(workdir / "gateway.db")},
            "providers": [jwt_provider(idp)],
            "upstream": {"url": f"http://127.0.0.1:{embedded_port}", "shared_secret": SECRET},
        }
    )

    async def users() -> None:
        db = Database(embedded_db)
        directory = UserDirectory(db)
        await directory.add("alice", display_name="Alice A", admin=True)
        await directory.add("bob", display_name="Bob B")
        await db.close()

    asyncio.run(users())
    with (
        ThreadServer(create_app(embedded), embedded_port, lifespan="on") as upstream,
        ThreadServer(create_app(gateway), gateway_port, lifespan="on") as front,
    ):
        yield Chain(front.url, upstream.url)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as made:
        yield made


async def test_writes_through_the_gateway_land_as_the_token_user(
    chain: Chain, client: httpx.AsyncClient, idp: TestProvider
) -> None:
    alice, bob = bearer(idp.jwt_token("alice")), bearer(idp.jwt_token("bob"))
    api = f"{chain.gateway}/rest/api/2"
    me = await client.get(f"{api}/myself", headers=bob)
    assert (me.status_code, me.json()["name"]) == (200, "bob")
    project = await client.post(f"{api}/project", json={"key": "GW", "name": "Gw"}, headers=alice)
    assert project.status_code == 201, project.text
    fields = {"project": {"key": "GW"}, "issuetype": {"name": "Task"}, "summary": "via gw"}
    created = await client.post(f"{api}/issue", json={"fields": fields}, headers=bob)
    assert created.status_code == 201, created.text
    issue = (await client.get(f"{api}/issue/{created.json()['key']}", headers=alice)).json()
    assert issue["fields"]["reporter"]["name"] == "bob"
    assert issue["fields"]["creator"]["name"] == "bob"
    comment = await client.post(
        f"{api}/issue/{issue['key']}/comment", json={"body": "hi"}, headers=alice
    )
    assert comment.status_code == 201, comment.text
    assert comment.json()["author"]["name"] == "alice"


async def test_client_spoofed_identity_is_replaced_by_the_gateways(
    chain: Chain, client: httpx.AsyncClient, idp: TestProvider
) -> None:
    timestamp = str(int(time.time()))
    forged = {
        "X-Forwarded-User": "alice",
        "X-Jiraguard-Timestamp": timestamp,
        "X-Jiraguard-Signature": sign("guess", "alice", "GET", "/rest/api/2/myself", timestamp),
    }
    response = await client.get(
        f"{chain.gateway}/rest/api/2/myself", headers={**bearer(idp.jwt_token("bob")), **forged}
    )
    assert (response.status_code, response.json()["name"]) == (200, "bob")
    # Without a token the gateway refuses; the forged headers never reach the upstream.
    assert (
        await client.get(f"{chain.gateway}/rest/api/2/myself", headers=forged)
    ).status_code == 401


async def test_bad_or_stale_signature_sent_directly_is_refused(
    chain: Chain, client: httpx.AsyncClient
) -> None:
    url = f"{chain.embedded}/rest/api/2/myself"
    now = str(int(time.time()))
    bad = {
        "X-Forwarded-User": "alice",
        "X-Jiraguard-Timestamp": now,
        "X-Jiraguard-Signature": sign("wrong", "alice", "GET", "/rest/api/2/myself", now),
    }
    assert (await client.get(url, headers=bad)).status_code == 401
    old = str(int(time.time()) - 600)
    stale = {
        "X-Forwarded-User": "alice",
        "X-Jiraguard-Timestamp": old,
        "X-Jiraguard-Signature": sign(SECRET, "alice", "GET", "/rest/api/2/myself", old),
    }
    assert (await client.get(url, headers=stale)).status_code == 401
    fresh = {**stale, "X-Jiraguard-Timestamp": now}
    fresh["X-Jiraguard-Signature"] = sign(SECRET, "alice", "GET", "/rest/api/2/myself", now)
    assert (await client.get(url, headers=fresh)).json()["name"] == "alice"


async def test_healthz_is_the_gateways_own(chain: Chain, client: httpx.AsyncClient) -> None:
    response = await client.get(f"{chain.gateway}/healthz")
    assert (response.status_code, response.text) == (200, "ok")
