"""TLS toward Jira and toward providers with an internal certificate authority: the CA bundle
configured is trusted instead of the system's, and the gateway can present a client
certificate to a Jira that asks for one (mutual TLS)."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import trustme
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.conftest import HarnessFactory, bearer
from tests.gateway.conftest import SECRET
from tests.gateway.upstreams import ThreadServer, app
from tests.support.idp import free_port
from tests.support.rsa_keys import new_key_pair

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def pems(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tls")
    files = {name: folder / f"{name}.pem" for name in ("ca", "server", "client")}
    ca.cert_pem.write_to_path(str(files["ca"]))
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(files["server"]))
    ca.issue_cert("jiraguard-gateway").private_key_and_cert_chain_pem.write_to_path(
        str(files["client"])
    )
    return files


@pytest.fixture(scope="module")
def jira_over_mtls(pems: dict[str, Path]) -> Iterator[str]:
    """The stand-in upstream over HTTPS, asking for a client certificate of the same CA."""
    tls = {
        "ssl_certfile": str(pems["server"]),
        "ssl_ca_certs": str(pems["ca"]),
        "ssl_cert_reqs": ssl.CERT_REQUIRED,
    }
    with ThreadServer(app, free_port(), **tls) as server:
        yield server.url


async def _gateway(harness: HarnessFactory, url: str, **upstream: Any) -> Any:
    key = new_key_pair()
    provider = {
        "name": "local",
        "method": "jwt",
        "issuer": "https://issuer.test",
        "audience": ["jira"],
        "public_key": key.public_pem,
    }
    h = await harness(
        providers=[provider],
        upstream={"url": url, "shared_secret": SECRET, **upstream},
    )
    claims = {"iss": "https://issuer.test", "aud": "jira", "sub": "alice",
              "preferred_username": "alice", "exp": int(time.time()) + 300}  # fmt: skip
    return h, jwt.encode(claims, key.private_pem, algorithm="RS256")


async def test_jira_behind_an_internal_ca_with_mutual_tls(
    harness: HarnessFactory, jira_over_mtls: str, pems: dict[str, Path]
) -> None:
    h, token = await _gateway(
        harness, jira_over_mtls, ca_bundle=str(pems["ca"]), client_cert=str(pems["client"])
    )
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["target"] == "/rest/api/2/myself"


async def test_without_the_ca_bundle_jira_is_not_trusted(
    harness: HarnessFactory, jira_over_mtls: str, pems: dict[str, Path]
) -> None:
    h, token = await _gateway(harness, jira_over_mtls, client_cert=str(pems["client"]))
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert response.status_code == 502


async def test_without_a_client_certificate_jira_refuses_the_connection(
    harness: HarnessFactory, jira_over_mtls: str, pems: dict[str, Path]
) -> None:
    h, token = await _gateway(harness, jira_over_mtls, ca_bundle=str(pems["ca"]))
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert response.status_code == 502


@pytest.fixture(scope="module")
def provider_over_tls(pems: dict[str, Path]) -> Iterator[tuple[str, Any]]:
    """A provider publishing its keys over HTTPS with the internal CA's certificate."""
    key = new_key_pair()
    public = _jwk_dict(key.public_pem)

    async def keys(request: Any) -> JSONResponse:
        return JSONResponse({"keys": [public]})

    served = Starlette(routes=[Route("/jwks", keys)])
    with ThreadServer(served, free_port(), ssl_certfile=str(pems["server"])) as server:
        yield server.url, key


def _jwk_dict(public_pem: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        jwt.algorithms.RSAAlgorithm.to_jwk(
            jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256).prepare_key(public_pem)
        )
    )
    return {**data, "kid": "k1", "use": "sig", "alg": "RS256"}


@pytest.mark.parametrize("where", ["provider", "auth", "nowhere"])
async def test_a_provider_behind_an_internal_ca(
    harness: HarnessFactory,
    provider_over_tls: tuple[str, Any],
    pems: dict[str, Path],
    where: str,
) -> None:
    url, key = provider_over_tls
    provider: dict[str, Any] = {
        "name": "internal",
        "method": "jwt",
        "issuer": "https://internal-idp.test",
        "jwks_uri": f"{url}/jwks",
        "audience": ["jira"],
    }
    auth: dict[str, Any] = {}
    if where == "provider":
        provider["ca_bundle"] = str(pems["ca"])
    elif where == "auth":
        auth["ca_bundle"] = str(pems["ca"])
    h = await harness(providers=[provider], auth=auth)
    await h.add_user("alice")
    claims = {"iss": "https://internal-idp.test", "aud": "jira", "sub": "alice",
              "preferred_username": "alice", "exp": int(time.time()) + 300}  # fmt: skip
    token = jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": "k1"})
    response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert response.status_code == (503 if where == "nowhere" else 200), response.text
