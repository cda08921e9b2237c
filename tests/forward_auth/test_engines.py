"""The shipped nginx and Caddy configurations, run for real on loopback: the engine carries
the traffic to a stand-in Jira and asks jiraguard about each REST request.

Each answer is compared with the built-in gateway's for the same request (same providers,
rules and limits): status, challenge, ``Retry-After`` and Jira-format body are the same, the
upstream sees the signed identity and never the client's ``Authorization`` or its own
identity headers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from jiraguard.app import create_app
from jiraguard.auth.signed_identity import sign
from jiraguard.settings import validate_settings
from jiraguard.store.db import run_migrations
from tests.conftest import bearer, jwt_provider
from tests.gateway.conftest import SECRET
from tests.gateway.upstreams import ThreadServer, app
from tests.support.idp import TestProvider, free_port
from tests.support.rsa_keys import KeyPair, new_key_pair
from tests.support.servers import wait_until_serving
from tests.support.services import missing

pytestmark = pytest.mark.idp

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@dataclass
class Front:
    url: str
    """The engine in front of the stand-in Jira."""
    gateway: str
    """jiraguard's built-in gateway in front of the same stand-in, for comparison."""
    down_key: KeyPair


def _settings(idp: TestProvider, workdir: Path, name: str, **extra: Any) -> Any:
    url = f"sqlite:///{workdir / f'{name}.db'}"
    run_migrations(url)
    return validate_settings(
        {
            "server": {"trusted_proxies": ["127.0.0.1/32"]},
            "storage": {"url": url},
            "providers": [jwt_provider(idp), _down_provider()],
            "rules": [{"name": "no-deletes", "methods": ["DELETE"], "action": "deny"}],
            "rate_limits": {"per_user": "2/minute"},
            **extra,
        }
    )


_DOWN_PORT = free_port()


def _down_provider() -> dict[str, Any]:
    """A provider whose keys cannot be fetched: its tokens cannot be judged (503)."""
    return {
        "name": "down",
        "method": "jwt",
        "issuer": "https://down.test",
        "jwks_uri": f"http://127.0.0.1:{_DOWN_PORT}/jwks",
        "audience": ["jira"],
    }


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with ThreadServer(app, free_port()) as server:
        yield server.url


@pytest.fixture(scope="module")
def judge_and_gateway(
    idp: TestProvider, upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, str]]:
    workdir = tmp_path_factory.mktemp("forward-auth")
    judge = _settings(
        idp, workdir, "judge", forward_auth={"enabled": True}, upstream={"shared_secret": SECRET}
    )
    gateway = _settings(
        idp, workdir, "gateway", upstream={"url": upstream, "shared_secret": SECRET}
    )
    judge_port = free_port()
    with (
        ThreadServer(create_app(judge), judge_port, lifespan="on"),
        ThreadServer(create_app(gateway), free_port(), lifespan="on") as built_in,
    ):
        yield judge_port, built_in.url


def _nginx(prefix: Path, judge: int, upstream: str) -> tuple[subprocess.Popen[bytes], str]:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if nginx is None:
        missing("nginx", "apt-get install nginx")
    port = free_port()
    upstream_port = upstream.rsplit(":", 1)[1]
    site = (DEPLOY / "nginx" / "jiraguard-forward-auth.conf").read_text()
    site = site.replace("server jira.internal:8080;", f"server 127.0.0.1:{upstream_port};")
    site = site.replace("server 127.0.0.1:8081;", f"server 127.0.0.1:{judge};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};")
    (prefix / "site.conf").write_text(site)
    temp = "".join(
        f"{kind}_temp_path {prefix}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (prefix / "nginx.conf").write_text(
        f"worker_processes 1;\ndaemon off;\nerror_log {prefix}/error.log;\n"
        f"pid {prefix}/nginx.pid;\nevents {{ worker_connections 256; }}\n"
        f"http {{\naccess_log off;\n{temp}include {prefix}/site.conf;\n}}\n"
    )
    process = subprocess.Popen(
        [nginx, "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, f"http://127.0.0.1:{port}"


def _caddy(prefix: Path, judge: int, upstream: str) -> tuple[subprocess.Popen[bytes], str]:
    caddy = shutil.which("caddy")
    if caddy is None:
        missing("Caddy", "apt-get install caddy")
    port = free_port()
    upstream_host = upstream.removeprefix("http://")
    site = (DEPLOY / "caddy" / "Caddyfile").read_text()
    site = site.replace("jira.example.com {", f"http://127.0.0.1:{port} {{")
    site = site.replace("jira.internal:8080", upstream_host)
    site = site.replace("127.0.0.1:8081", f"127.0.0.1:{judge}")
    (prefix / "Caddyfile").write_text("{\n\tadmin off\n\tauto_https off\n}\n\n" + site)
    environment = {**os.environ, "HOME": str(prefix), "XDG_DATA_HOME": str(prefix / "data"),
                   "XDG_CONFIG_HOME": str(prefix / "config")}  # fmt: skip
    process = subprocess.Popen(
        [caddy, "run", "--config", str(prefix / "Caddyfile"), "--adapter", "caddyfile"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment,
    )
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module", params=["nginx", "caddy"])
def front(
    request: pytest.FixtureRequest,
    judge_and_gateway: tuple[int, str],
    upstream: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Front]:
    judge, gateway = judge_and_gateway
    prefix = tmp_path_factory.mktemp(request.param)
    start = _nginx if request.param == "nginx" else _caddy
    process, url = start(prefix, judge, upstream)
    try:
        wait_until_serving(f"{url}/echo/ready", process)
        yield Front(url, gateway, new_key_pair())
    finally:
        process.terminate()
        process.wait(10)


def _seen(echo: httpx.Response) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in echo.json()["headers"]:
        found.setdefault(name.lower(), []).append(value)
    return found


def test_a_valid_token_reaches_jira_as_the_signed_user_and_nothing_else(
    front: Front, idp: TestProvider
) -> None:
    token = idp.jwt_token("alice")
    forged = {"X-Forwarded-User": "admin", "X-Jiraguard-User": "admin", "Cookie": "JSESSIONID=x"}
    response = httpx.get(
        f"{front.url}/rest/api/2/myself?expand=groups", headers={**bearer(token), **forged}
    )
    assert response.status_code == 200, response.text
    seen = _seen(response)
    assert "authorization" not in seen
    assert "cookie" not in seen
    assert "x-jiraguard-user" not in seen
    assert token not in response.text
    assert seen["x-forwarded-user"] == ["alice"]
    (timestamp,) = seen["x-jiraguard-timestamp"]
    target = "/rest/api/2/myself?expand=groups"
    assert response.json()["target"] == target
    assert seen["x-jiraguard-signature"] == [sign(SECRET, "alice", "GET", target, timestamp)]


def test_identity_headers_a_client_sends_never_reach_jira_anywhere(front: Front) -> None:
    forged = {
        "X-Forwarded-User": "admin",
        "X-Jiraguard-Signature": "00",
        "X-Jiraguard-Timestamp": "1",
    }
    response = httpx.get(f"{front.url}/echo/secure/admin", headers=forged)
    assert response.status_code == 200
    seen = _seen(response)
    assert not {"x-forwarded-user", "x-jiraguard-signature", "x-jiraguard-timestamp"} & set(seen)


def _down_token(front: Front) -> str:
    claims = {"iss": "https://down.test", "aud": "jira", "sub": "x", "exp": int(time.time()) + 60}
    return jwt.encode(claims, front.down_key.private_pem, algorithm="RS256", headers={"kid": "k"})


@pytest.mark.parametrize("case", ["missing", "invalid", "forbidden", "limited", "provider down"])
def test_refusals_are_the_built_in_gateways(front: Front, idp: TestProvider, case: str) -> None:
    user = f"{case.replace(' ', '-')}-{front.url.rsplit(':', 1)[1]}"  # a user per engine and case
    method, path, headers = "GET", "/rest/api/2/myself", bearer(idp.jwt_token(user))
    if case == "missing":
        headers = {}
    elif case == "invalid":
        headers = bearer("not.a.token")
    elif case == "forbidden":
        method, path = "DELETE", "/rest/api/2/issue/A-1"
    elif case == "provider down":
        headers = bearer(_down_token(front))
    answers = []
    for base in (front.url, front.gateway):
        tries = 3 if case == "limited" else 1  # the limit is 2 a minute
        for _ in range(tries):
            answer = httpx.request(method, f"{base}{path}", headers=headers)
        answers.append(answer)
    engine, built_in = answers
    expected = {"missing": 401, "invalid": 401, "forbidden": 403, "limited": 429,
                "provider down": 503}[case]  # fmt: skip
    assert engine.status_code == built_in.status_code == expected, engine.text
    assert engine.json() == built_in.json()
    assert engine.headers["content-type"] == "application/json;charset=UTF-8"
    shown = ("www-authenticate", "retry-after", "ratelimit-limit", "ratelimit-remaining")
    for name in shown:
        assert engine.headers.get(name) == built_in.headers.get(name), name
    assert not [name for name in engine.headers if name.startswith("x-jiraguard-")]
