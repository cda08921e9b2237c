"""Authentication benchmarks: the cost of the auth path, measured side by side in one run.

    .venv/bin/python -m bench.auth [--duration 5] [--rounds 3] [--tokens 1000]

1. Throughput of ``GET /rest/api/2/serverInfo`` on two identical server processes, one with
   the route protected (a cached valid JWT on every request) and one with it left open;
   measured with wrk, alternating, several rounds. Target ratio >= 0.90.
2. Microseconds per cold JWT validation (every token distinct, so nothing is cached) through
   jiraguard's router and validator, against a bare ``jwt.decode`` of the same tokens with the
   key already in hand. Target <= 1.3x.
3. Provider calls per 1,000 requests spread over 10 distinct opaque tokens (introspection).
   Target: 10.

Needs Node.js (for the test OpenID provider) and wrk (``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import jwt

from jiraguard.app import Services, create_app
from jiraguard.auth.router import ProviderRouter
from jiraguard.settings import validate_settings
from jiraguard.store.db import run_migrations
from tests.support.idp import RESOURCE, TestProvider, ensure_node_modules, free_port

JIRAGUARD = str(Path(sys.executable).with_name("jiraguard"))


def _pinned(core: int) -> list[str]:
    """Pin a process to one core (wrk on one, the server on the other) to cut the noise."""
    return ["taskset", "-c", str(core)] if shutil.which("taskset") and os.cpu_count() else []


def _wrk(url: str, headers: dict[str, str], duration: int, connections: int) -> float:
    command = [*_pinned(0), "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if match is None:
        raise RuntimeError(output)
    return float(match.group(1))


def _server(config: Path, port: int, env_extra: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, **env_extra, "JIRAGUARD_SERVER__PORT": str(port)}
    process = subprocess.Popen(
        [*_pinned(1), JIRAGUARD, "serve", "--config", str(config), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def throughput(idp: TestProvider, workdir: Path, duration: int, rounds: int) -> dict[str, Any]:
    config = workdir / "bench.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{workdir}/bench.db"\n'
        f'[[providers]]\nname = "corp"\nmethod = "jwt"\nissuer = "{idp.issuer}"\n'
        f'audience = ["{RESOURCE}"]\n'
    )
    subprocess.run(
        [JIRAGUARD, "user", "add", "alice", "--config", str(config)],
        check=True,
        capture_output=True,
    )
    token = idp.jwt_token("alice")
    protected_port, open_port = free_port(), free_port()
    protected = _server(config, protected_port, {})
    open_ = _server(config, open_port, {"JIRAGUARD_AUTH__PROTECTED_PATHS": '["/none/"]'})
    path = "/rest/api/2/serverInfo"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        assert httpx.get(f"http://127.0.0.1:{protected_port}{path}").status_code == 401
        assert httpx.get(f"http://127.0.0.1:{protected_port}{path}", headers=auth).is_success
        assert httpx.get(f"http://127.0.0.1:{open_port}{path}").is_success
        # Both servers get the same request bytes; the only difference is whether jiraguard
        # authenticates them.
        _wrk(f"http://127.0.0.1:{protected_port}{path}", auth, 1, 32)  # warm-up
        _wrk(f"http://127.0.0.1:{open_port}{path}", auth, 1, 32)
        with_auth, without = [], []
        for _ in range(rounds):
            with_auth.append(_wrk(f"http://127.0.0.1:{protected_port}{path}", auth, duration, 32))
            without.append(_wrk(f"http://127.0.0.1:{open_port}{path}", auth, duration, 32))
    finally:
        for process in (protected, open_):
            process.terminate()
            process.wait(10)
    auth_rps, open_rps = statistics.median(with_auth), statistics.median(without)
    return {
        "auth_rps": auth_rps,
        "open_rps": open_rps,
        "ratio": auth_rps / open_rps,
        "rounds": list(zip(with_auth, without, strict=True)),
    }


async def cold_validation(idp: TestProvider, count: int, rounds: int) -> dict[str, float]:
    tokens = [idp.jwt_token("alice") for _ in range(count)]
    settings = validate_settings(
        {
            "providers": [
                {"name": "corp", "method": "jwt", "issuer": idp.issuer, "audience": [RESOURCE]}
            ]
        }
    )
    async with httpx.AsyncClient(timeout=5) as client:
        router = ProviderRouter.from_settings(settings.providers, settings.auth, client)
        await router.validate(tokens[0])  # fetch the keys once, as a running server has
        key = jwt.PyJWK(idp.jwks["keys"][0]).key.public_key()  # type: ignore[union-attr]
        ours, bare = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            for token in tokens:
                await router.validate(token)
            ours.append((time.perf_counter() - started) / count * 1e6)
            started = time.perf_counter()
            for token in tokens:
                jwt.decode(
                    token,
                    key,
                    algorithms=["RS256"],
                    audience=RESOURCE,
                    issuer=idp.issuer,
                    options={"require": ["exp"]},
                )
            bare.append((time.perf_counter() - started) / count * 1e6)
    return {
        "jiraguard_us": statistics.median(ours),
        "pyjwt_us": statistics.median(bare),
        "ratio": statistics.median(ours) / statistics.median(bare),
    }


async def provider_calls(idp: TestProvider, workdir: Path) -> int:
    url = f"sqlite:///{workdir}/calls.db"
    run_migrations(url)
    settings = validate_settings(
        {
            "storage": {"url": url},
            "providers": [
                {
                    "name": "opaque",
                    "method": "introspection",
                    "issuer": idp.issuer,
                    "client_id": "jiraguard",
                    "client_secret": "jiraguard-secret",
                }
            ],
        }
    )
    services = Services.build(settings)
    await services.users.add("alice")
    app = create_app(settings, services)
    tokens = [idp.user_token("alice") for _ in range(10)]
    idp.reset_stats()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for i in range(1000):
            token = tokens[i % 10]
            response = await client.get(
                "/rest/api/2/serverInfo", headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 200, response.text
    await services.aclose()
    return idp.stats().get("/token/introspection", 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=1000, help="distinct JWTs to validate")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    ensure_node_modules()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with TestProvider(workdir=workdir) as idp:
            tp = throughput(idp, workdir, args.duration, args.rounds)
            cold = asyncio.run(cold_validation(idp, args.tokens, args.rounds))
            calls = asyncio.run(provider_calls(idp, workdir))
    print(
        f"serverInfo req/s  auth (cached JWT): {tp['auth_rps']:.0f}  open: {tp['open_rps']:.0f}"
        f"  ratio: {tp['ratio']:.3f}  (target >= 0.90)"
    )
    print(f"  rounds (auth, open): {[(round(a), round(b)) for a, b in tp['rounds']]}")
    print(
        f"cold JWT validation  jiraguard: {cold['jiraguard_us']:.1f} us  bare PyJWT: "
        f"{cold['pyjwt_us']:.1f} us  ratio: {cold['ratio']:.3f}  (target <= 1.3)"
    )
    print(f"provider calls per 1,000 requests over 10 opaque tokens: {calls}  (target 10)")


if __name__ == "__main__":
    main()
