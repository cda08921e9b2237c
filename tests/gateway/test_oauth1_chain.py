"""The whole chain on loopback in ``oauth1_impersonation`` mode: client → jiraguard gateway
(uvicorn) → jiraguard embedded (uvicorn, ``[oauth1]`` on, the rules of Jira's incoming
application links) with the real OpenID provider.

The embedded verifier reproduces Jira's anonymous fall-back for a requestor it cannot resolve;
these tests prove the gateway never makes it fall back on a real request, and that Jira's own
credentials (a personal access token of Jira's, an exempted Basic login) pass through.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from jiraguard.app import create_app
from jiraguard.auth.authenticator import hash_password
from jiraguard.auth.pat import CLI, PersonalAccessTokens
from jiraguard.proxy.oauth1_signer import OAuth1Impersonation
from jiraguard.services import Services
from jiraguard.settings import validate_settings
from jiraguard.store.db import Database, run_migrations
from jiraguard.store.users import UserDirectory
from tests.conftest import bearer, jwt_provider
from tests.gateway.upstreams import ThreadServer
from tests.proxy.test_oauth1_signer import oauthlib_verifies
from tests.support.idp import TestProvider, free_port
from tests.support.rsa_keys import KeyPair, new_key_pair

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

CONSUMER = "jiraguard-gateway"


@dataclass
class Chain:
    gateway: str
    embedded: str
    keys: KeyPair
    jira_pat: str
    front: Services
    back: Services

    def fallbacks(self) -> list[tuple[str, str]]:
        login = self.back.path.oauth1
        assert login is not None
        return list(login.recent_fallbacks)


def _database(path: Path) -> str:
    url = f"sqlite:///{path}"
    run_migrations(url)
    return url


@pytest.fixture(scope="module")
def chain(idp: TestProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    workdir = tmp_path_factory.mktemp("oauth1-chain")
    keys = new_key_pair()
    embedded_db = _database(workdir / "embedded.db")
    embedded_port, gateway_port = free_port(), free_port()
    embedded = validate_settings(
        {
            "server": {"port": embedded_port},
            "storage": {"url": embedded_db},
            "auth": {"block_basic": False},
            "tokens": {"prefix": "jira_"},  # the upstream's own tokens, unknown to the gateway
            "oauth1": {
                "enabled": True,
                "consumers": [
                    {
                        "consumer_key": CONSUMER,
                        "name": "jiraguard",
                        "public_key": keys.public_pem,
                        "allow_impersonation": True,
                    }
                ],
            },
        }
    )
    gateway = validate_settings(
        {
            "server": {"port": gateway_port},
            "storage": {"url": _database(workdir / "gateway.db")},
            "providers": [jwt_provider(idp)],
            "auth": {"basic_exceptions": {"users": ["breakglass"]}},
            "upstream": {
                "url": f"http://127.0.0.1:{embedded_port}",
                "identity": "oauth1_impersonation",
                "consumer_key": CONSUMER,
                "private_key": keys.private_pem,
                "pass_jira_credentials": True,
            },
        }
    )

    async def users() -> str:
        db = Database(embedded_db)
        directory = UserDirectory(db)
        await directory.add("alice", display_name="Alice A", admin=True)
        await directory.add("bob", display_name="Bob B")
        await directory.add("dora", display_name="Dora D")
        await directory.set_active("dora", False)
        await directory.add("breakglass", password_hash=hash_password("s3cret-pass"))
        await directory.add("carol", display_name="Carol C")
        issued = await PersonalAccessTokens(db, embedded.tokens, audit=False).create(
            "carol", "script", None, actor="test", origin=CLI
        )
        await db.close()
        return issued.raw

    jira_pat = asyncio.run(users())
    back_app, front_app = create_app(embedded), create_app(gateway)
    with (
        ThreadServer(back_app, embedded_port, lifespan="on") as upstream,
        ThreadServer(front_app, gateway_port, lifespan="on") as front,
    ):
        yield Chain(
            front.url, upstream.url, keys, jira_pat, _services(front_app), _services(back_app)
        )


def _services(app: Starlette) -> Services:
    found: Services = app.state.services
    return found


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as made:
        yield made


async def test_a_provider_token_creates_an_issue_reported_by_its_user(
    chain: Chain, client: httpx.AsyncClient, idp: TestProvider
) -> None:
    alice, bob = bearer(idp.jwt_token("alice")), bearer(idp.jwt_token("bob"))
    api = f"{chain.gateway}/rest/api/2"
    me = await client.get(f"{api}/myself", headers=bob)
    assert (me.status_code, me.json()["name"]) == (200, "bob")
    assert len(me.headers.get_list("date")) == 1  # the upstream's is not added to the server's
    project = await client.post(
        f"{api}/project", json={"key": "OA", "name": "OAuth"}, headers=alice
    )
    assert project.status_code == 201, project.text
    fields = {"project": {"key": "OA"}, "issuetype": {"name": "Task"}, "summary": "via 2LOi"}
    created = await client.post(f"{api}/issue", json={"fields": fields}, headers=bob)
    assert created.status_code == 201, created.text
    issue = (await client.get(f"{api}/issue/{created.json()['key']}", headers=alice)).json()
    assert issue["fields"]["reporter"]["name"] == "bob"
    # A client's own requestor parameter never wins over the token's user.
    spoofed = await client.get(f"{api}/myself?xoauth_requestor_id=alice&user_id=alice", headers=bob)
    assert (spoofed.status_code, spoofed.json()["name"]) == (200, "bob")
    assert not [f for f in chain.fallbacks() if f != ("GET", "/rest/api/2/myself")]


@pytest.mark.parametrize(
    ("user", "why"),
    [("zed", "unknown to Jira"), ("dora", "disabled in Jira")],
)
async def test_a_user_jira_would_run_as_anonymous_never_reaches_it(
    chain: Chain, client: httpx.AsyncClient, idp: TestProvider, user: str, why: str
) -> None:
    before = len(chain.fallbacks())
    fields = {"project": {"key": "OA"}, "issuetype": {"name": "Task"}, "summary": why}
    response = await client.post(
        f"{chain.gateway}/rest/api/2/issue",
        json={"fields": fields},
        headers=bearer(idp.jwt_token(user)),
    )
    assert response.status_code == 401, response.text
    assert "Jira does not know this user" in response.text
    # Only the gateway's own check (GET myself) ever ran as anonymous upstream; the write
    # was never sent.
    assert set(chain.fallbacks()[before:]) <= {("GET", "/rest/api/2/myself")}
    again = await client.get(
        f"{chain.gateway}/rest/api/2/myself", headers=bearer(idp.jwt_token(user))
    )
    assert again.status_code == 401


def _signed(chain: Chain, url: str, *, clock: float | None = None) -> tuple[str, dict[str, str]]:
    signer = OAuth1Impersonation(
        CONSUMER, chain.keys.private_pem, clock=(lambda: clock) if clock else time.time
    )
    split = httpx.URL(url)
    query = signer.requestor_query(split.query, "alice")
    target = split.copy_with(query=query)
    header = signer.authorization("GET", str(target), None).decode("ascii")
    assert oauthlib_verifies(chain.keys.public_pem, "GET", str(target), header.encode(), None)
    return str(target), {"Authorization": header}


async def test_the_verifier_refuses_tampered_replayed_and_stale_signatures(
    chain: Chain, client: httpx.AsyncClient
) -> None:
    url, headers = _signed(chain, f"{chain.embedded}/rest/api/2/myself")
    ok = await client.get(url, headers=headers)
    assert (ok.status_code, ok.json()["name"]) == (200, "alice")
    replayed = await client.get(url, headers=headers)
    assert replayed.status_code == 401
    assert "nonce_used" in replayed.headers["www-authenticate"]
    url, headers = _signed(chain, f"{chain.embedded}/rest/api/2/myself")
    tampered = await client.get(url.replace("alice", "bob"), headers=headers)
    assert tampered.status_code == 401
    assert "signature_invalid" in tampered.headers["www-authenticate"]
    url, headers = _signed(chain, f"{chain.embedded}/rest/api/2/myself", clock=time.time() - 900)
    stale = await client.get(url, headers=headers)
    assert stale.status_code == 401
    assert "timestamp_refused" in stale.headers["www-authenticate"]


def _decisions(services: Services, method: str) -> int:
    return sum(
        count
        for (allowed, _, _, source), count in services.decisions.counts.items()
        if allowed and source == method
    )


async def test_a_jira_personal_access_token_passes_through_and_is_counted(
    chain: Chain, client: httpx.AsyncClient
) -> None:
    before = _decisions(chain.front, "jira")
    me = await client.get(f"{chain.gateway}/rest/api/2/myself", headers=bearer(chain.jira_pat))
    assert (me.status_code, me.json()["name"]) == (200, "carol")
    assert _decisions(chain.front, "jira") == before + 1
    bad = await client.get(f"{chain.gateway}/rest/api/2/myself", headers=bearer("jira_not-a-token"))
    assert bad.status_code == 401


async def test_an_exempted_basic_login_passes_through_and_others_stay_blocked(
    chain: Chain, client: httpx.AsyncClient
) -> None:
    me = await client.get(f"{chain.gateway}/rest/api/2/myself", auth=("breakglass", "s3cret-pass"))
    assert (me.status_code, me.json()["name"]) == (200, "breakglass")
    wrong = await client.get(f"{chain.gateway}/rest/api/2/myself", auth=("breakglass", "nope"))
    assert wrong.status_code == 401
    blocked = await client.get(f"{chain.gateway}/rest/api/2/myself", auth=("carol", "anything"))
    assert blocked.status_code == 401


async def test_a_provider_jwt_of_a_configured_issuer_is_never_shown_to_jira(
    chain: Chain, client: httpx.AsyncClient, idp: TestProvider
) -> None:
    """A bad token of a configured provider is refused here; it is not Jira's to judge."""
    token = idp.jwt_token("alice")
    header, payload, _ = token.split(".")
    forged: Any = f"{header}.{payload}.AAAA"
    response = await client.get(f"{chain.gateway}/rest/api/2/myself", headers=bearer(forged))
    assert response.status_code == 401
    assert "invalid_token" in response.headers["www-authenticate"]
