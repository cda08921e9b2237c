"""Sender-constrained tokens on real ``jiraguard serve`` processes: the DPoP replay cache
shared through Redis, and certificate-bound tokens (RFC 8705) over jiraguard's own TLS."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import trustme

from tests.auth.redis_support import REDIS_URL, redis_client, unique_prefix
from tests.conftest import HarnessFactory, jwt_provider
from tests.support.dpop import DPoPKey
from tests.support.idp import MTLS_CLIENT, RESOURCE, TestProvider
from tests.support.live import add_users
from tests.support.processes import Server, write_config

pytestmark = [pytest.mark.idp]

ME = "/rest/api/2/myself"
PUBLIC = "https://jira.example.com"


def _serve(tmp: Path, config: dict[str, Any], count: int) -> list[Server]:
    database = f"sqlite:///{tmp / 'jiraguard.db'}"
    path = write_config(tmp / "jiraguard.toml", {**config, "storage": {"url": database}})
    servers = [Server(path, log=tmp / f"server-{i}.log") for i in range(count)]
    servers[0].start()  # migrates the database; then the others
    for server in servers[1:]:
        server.start()
    asyncio.run(add_users(database, {"alice": {"email": "alice@example.com"}}))
    return servers


@pytest.mark.redis
def test_a_proof_used_at_one_process_is_refused_by_another_through_redis(
    idp: TestProvider, tmp_path: Path
) -> None:
    """RFC 9449 §11.1, across processes: the jti is remembered in Redis."""
    prefix = unique_prefix()

    async def reachable() -> None:
        async with redis_client(prefix):
            pass

    asyncio.run(reachable())  # skips (or fails when services are required) without Redis
    config = {
        "server": {"base_url": PUBLIC},
        "redis": {"url": REDIS_URL, "key_prefix": prefix},
        "providers": [jwt_provider(idp, dpop="required")],
    }
    servers = _serve(tmp_path, config, 2)
    try:
        key = DPoPKey()
        token = idp.user_token("alice", resource=RESOURCE, dpop=key)
        proof = key.proof("GET", PUBLIC + ME, token=token)
        headers = {"Authorization": f"DPoP {token}", "DPoP": proof}
        first = httpx.get(servers[0].url + ME, headers=headers)
        assert first.status_code == 200, first.text
        replayed = httpx.get(servers[1].url + ME, headers=headers)
        assert replayed.status_code == 401
        assert "already used" in replayed.json()["errorMessages"][0]
        fresh = {**headers, "DPoP": key.proof("GET", PUBLIC + ME, token=token)}
        assert httpx.get(servers[1].url + ME, headers=fresh).status_code == 200
    finally:
        for server in servers:
            server.stop()


@dataclass
class TLSServer(Server):
    ca: trustme.CA | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def wait(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            assert self.process is not None
            assert self.process.poll() is None, "server exited"
            try:
                httpx.get(self.url + "/healthz", verify=self.trust(), timeout=1)
                return
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the TLS server did not answer"
                time.sleep(0.1)

    def trust(self, client_cert: str | None = None) -> ssl.SSLContext:
        """A client context trusting the CA, presenting ``client_cert`` (a PEM file) if any."""
        assert self.ca is not None
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        if client_cert is not None:
            context.load_cert_chain(client_cert)
        return context


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(
    idp: TestProvider, ca: trustme.CA, tmp_path: Path
) -> Iterator[tuple[TLSServer, Path]]:
    server_pem = tmp_path / "server.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(server_pem))
    ca_pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    database = f"sqlite:///{tmp_path / 'jiraguard.db'}"
    config = {
        "server": {"tls_cert": str(server_pem), "tls_client_ca": str(ca_pem)},
        "storage": {"url": database},
        "providers": [jwt_provider(idp)],
    }
    path = write_config(tmp_path / "jiraguard.toml", config)
    server = TLSServer(path, log=tmp_path / "server.log", ca=ca)
    server.start()
    asyncio.run(add_users(database, {"alice": {"email": "alice@example.com"}}))
    try:
        yield server, tmp_path
    finally:
        server.stop()


def _client_cert(ca: trustme.CA, tmp: Path, name: str) -> tuple[str, str]:
    """A client certificate of ``ca``: (PEM file with key and chain, the certificate's PEM)."""
    issued = ca.issue_cert(f"{name}@example.com")
    path = tmp / f"{name}.pem"
    issued.private_key_and_cert_chain_pem.write_to_path(str(path))
    return str(path), issued.cert_chain_pems[0].bytes().decode()


def test_a_certificate_bound_token_needs_the_certificate_it_is_bound_to(
    tls_server: tuple[TLSServer, Path], ca: trustme.CA, idp: TestProvider
) -> None:
    """RFC 8705 §3: cnf.x5t#S256 must be the thumbprint of the connection's certificate."""
    server, tmp = tls_server
    bound_file, bound_pem = _client_cert(ca, tmp, "bound")
    other_file, _ = _client_cert(ca, tmp, "other")
    token = idp.user_token("alice", resource=RESOURCE, client=MTLS_CLIENT, client_cert=bound_pem)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(verify=server.trust(bound_file)) as right:
        answer = right.get(server.url + ME, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["name"] == "alice"
    with httpx.Client(verify=server.trust(other_file)) as wrong:
        answer = wrong.get(server.url + ME, headers=headers)
        assert answer.status_code == 401
        assert "another client certificate" in answer.json()["errorMessages"][0]
    with httpx.Client(verify=server.trust()) as none:
        answer = none.get(server.url + ME, headers=headers)
        assert answer.status_code == 401
        assert "presented none" in answer.json()["errorMessages"][0]
        # an unbound token needs no certificate
        plain = none.get(
            server.url + ME, headers={"Authorization": f"Bearer {idp.jwt_token('alice')}"}
        )
        assert plain.status_code == 200


@pytest.mark.anyio
@pytest.mark.parametrize(("trusted", "status"), [(True, 200), (False, 401)])
async def test_behind_a_tls_proxy_the_certificate_header_counts_only_from_trusted_proxies(
    harness: HarnessFactory, idp: TestProvider, ca: trustme.CA, trusted: bool, status: int
) -> None:
    """nginx ``$ssl_client_escaped_cert``: believed from ``server.trusted_proxies`` only."""
    h = await harness(
        providers=[jwt_provider(idp)],
        server={
            "base_url": "http://jira.test",
            "client_cert_header": "X-SSL-Client-Cert",
            "trusted_proxies": ["127.0.0.0/8"] if trusted else ["10.0.0.0/8"],
        },
    )
    await h.add_user("alice")
    pem = ca.issue_cert("bound@example.com").cert_chain_pems[0].bytes().decode()
    token = idp.user_token("alice", resource=RESOURCE, client=MTLS_CLIENT, client_cert=pem)
    headers = {"Authorization": f"Bearer {token}", "X-SSL-Client-Cert": quote(pem, safe="")}
    answer = await h.client.get(ME, headers=headers)
    assert answer.status_code == status, answer.text
