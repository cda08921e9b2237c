"""Authentication benchmarks: the cost of the auth path, measured side by side in one run.

    .venv/bin/python -m bench.auth [--duration 5] [--rounds 3] [--tokens 1000]

1. Throughput of ``GET /rest/api/2/serverInfo`` on identical server processes: the route left
   open; protected (a cached valid JWT on every request); protected with 20 access rules and
   rate limiting on. Measured with wrk, alternating, several rounds. Targets: auth/open
   >= 0.90, rules/auth >= 0.85. In the same rounds, ``GET /rest/api/2/myself`` with the same
   JWT on the protected server against a bare ASGI app (``bench.bare``: a user JSON
   for every request) on the same uvicorn, loop and HTTP parser. Target: myself/bare >= 0.5.
   Then each of the three ratios again with its two servers loaded at once on their core,
   their CPU per request compared (:mod:`bench.together`: the machine's drift from one run
   to the next left out).
2. Microseconds per cold JWT validation (every token distinct, so nothing is cached) through
   jiraguard's router and validator, against a bare ``jwt.decode`` of the same tokens with the
   key already in hand. Target <= 1.3x.
3. Provider calls per 1,000 requests spread over 10 distinct opaque tokens (introspection).
   Target: 10.
4. ``GET /rest/api/2/myself`` with a cached DPoP-bound JWT and a fresh proof per request
   against the same request with a cached plain bearer JWT, on one in-process app, driven
   through ASGI directly (the proofs are made beforehand: their cost is the client's).
   Alternating, several rounds, same run. Target: dpop/bearer >= 0.7. The same ratio over
   HTTP, as a client meets it (``jiraguard serve``, wrk walking a file of proofs):
   :mod:`bench.dpop`.

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

from bench.together import Load, paired
from jiraguard.app import create_app
from jiraguard.auth.router import ProviderRouter
from jiraguard.services import Services
from jiraguard.settings import validate_settings
from jiraguard.store.db import run_migrations
from tests.support.dpop import DPoPKey
from tests.support.idp import RESOURCE, TestProvider, ensure_node_modules, free_port
from tests.support.servers import wait_until_serving

JIRAGUARD = str(Path(sys.executable).with_name("jiraguard"))
ROOT = Path(__file__).resolve().parent.parent


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


def _server(
    config: Path,
    port: int,
    env_extra: dict[str, str],
    *,
    workers: int = 1,
    pinned: bool = True,
    log_level: str = "warning",
) -> subprocess.Popen[bytes]:
    """``jiraguard serve`` on ``port``: pinned to core 1 (one worker), or on any core.

    At the default ``warning`` level no request lines are written (they are INFO)."""
    env = {**os.environ, **env_extra, "JIRAGUARD_SERVER__PORT": str(port)}
    command = [JIRAGUARD, "serve", "--config", str(config), "--log-level", log_level]
    process = subprocess.Popen(
        [*(_pinned(1) if pinned else []), *command, "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/healthz", process)
    except RuntimeError:
        process.kill()
        raise
    return process


def _bare(port: int) -> subprocess.Popen[bytes]:
    """The ceiling: a bare ASGI app answering a user JSON, on uvicorn as ``jiraguard serve``
    runs it (the same loop, HTTP parser and connection protocol, no access log), pinned to
    core 1 (:mod:`bench.bare`)."""
    process = subprocess.Popen(
        [*_pinned(1), sys.executable, "-m", "bench.bare", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/", process)
    except RuntimeError:
        process.kill()
        raise
    return process


RULES = (
    "".join(
        f'[[rules]]\nname = "rule {i}"\nmethods = ["POST"]\npaths = ["/rest/api/2/project/{i}*"]\n'
        'require_groups = ["nobody"]\n'
        for i in range(19)
    )
    + '[[rules]]\nname = "readers"\nmethods = ["GET", "HEAD"]\nrequire_scopes = ["jira:read"]\n'
)
"""Nineteen rules that do not match a GET of serverInfo, then one that does (with a scope
check), tried in order on every request."""

VARIANTS = {
    "open": {"JIRAGUARD_AUTH__PROTECTED_PATHS": '["/none/"]'},
    "auth": {},
    "auth_no_audit": {"JIRAGUARD_AUDIT__RECORD_ALLOWED": "false"},  # what the audit costs
    "rules": {"rules": RULES, "JIRAGUARD_RATE_LIMITS__PER_USER": "1000000/second"},
}
"""Server variants, identical but for the named differences."""


TOGETHER = (
    ("auth/open", "open", "auth"),
    ("myself/bare", "bare", "myself"),
    ("rules/auth", "auth", "rules"),
)
"""The ratios also measured with both servers loaded at once: label, cheaper, dearer."""


def throughput(idp: TestProvider, workdir: Path, duration: int, rounds: int) -> dict[str, Any]:
    base = (
        f'[storage]\nurl = "sqlite:///{workdir}/bench.db"\n'
        f'[[providers]]\nname = "corp"\nmethod = "jwt"\nissuer = "{idp.issuer}"\n'
        f'audience = ["{RESOURCE}"]\n'
    )
    token = idp.jwt_token("alice")
    auth = {"Authorization": f"Bearer {token}"}
    path = "/rest/api/2/serverInfo"
    servers: dict[str, tuple[str, subprocess.Popen[bytes]]] = {}
    bare_port = free_port()
    bare = _bare(bare_port)
    try:
        for name, variant in VARIANTS.items():
            config = workdir / f"{name}.toml"
            config.write_text(base + variant.get("rules", ""))
            env = {k: v for k, v in variant.items() if k.startswith("JIRAGUARD_")}
            if name == "open":
                subprocess.run(
                    [
                        JIRAGUARD,
                        "user",
                        "add",
                        "alice",
                        "--config",
                        str(config),
                        "--create-database",
                    ],
                    check=True,
                    capture_output=True,
                )
            port = free_port()
            servers[name] = (f"http://127.0.0.1:{port}{path}", _server(config, port, env))
        targets = {name: url for name, (url, _) in servers.items()}
        targets["myself"] = targets["auth"].replace(path, "/rest/api/2/myself")
        targets["bare"] = f"http://127.0.0.1:{bare_port}/rest/api/2/myself"
        for url in targets.values():
            assert httpx.get(url, headers=auth).is_success
        assert httpx.get(servers["auth"][0]).status_code == 401
        # Every server gets the same request bytes; only what jiraguard does with them differs.
        results: dict[str, list[float]] = {name: [] for name in targets}
        for url in targets.values():
            _wrk(url, auth, 1, 32)  # warm-up
        for round_ in range(rounds):  # in reverse order every other round: no place favoured
            names = list(targets) if round_ % 2 == 0 else list(targets)[::-1]
            for name in names:
                results[name].append(_wrk(targets[name], auth, duration, 32))
        # The same ratios again with each pair loaded at once (bench.together): cheaper,
        # dearer, their CPU per request in the same seconds.
        pid = {name: process.pid for name, (_, process) in servers.items()}
        pid["myself"], pid["bare"] = pid["auth"], bare.pid
        loads = {name: Load(name, pid[name], url, auth) for name, url in targets.items()}
        together = {
            label: paired(loads[cheaper], loads[dearer], duration, 32, 0, rounds)
            for label, cheaper, dearer in TOGETHER
        }
    finally:
        bare.terminate()
        bare.wait(10)
        for _, process in servers.values():
            process.terminate()
            process.wait(10)
    medians = {name: statistics.median(values) for name, values in results.items()}
    return {"rps": medians, "rounds": results, "together": together}


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


async def _drive(app: Any, headers: list[list[tuple[bytes, bytes]]]) -> float:
    """Seconds to serve ``GET /rest/api/2/myself`` once per header list, one after another."""
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    path = "/rest/api/2/myself"
    started = time.perf_counter()
    for extra in headers:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"bench"), *extra],
            "client": ("127.0.0.1", 50000),
            "server": ("bench", 80),
            "state": {},
        }
        await app(scope, receive, send)
    elapsed = time.perf_counter() - started
    if set(status) != {200}:
        raise RuntimeError(f"statuses {sorted(set(status))}")
    return elapsed


async def dpop_ratio(
    idp: TestProvider, workdir: Path, count: int, rounds: int, alg: str = "ES256"
) -> dict[str, float]:
    url = f"sqlite:///{workdir}/dpop-{alg}.db"
    run_migrations(url)
    provider = {"name": "corp", "method": "jwt", "issuer": idp.issuer, "audience": [RESOURCE]}
    settings = validate_settings(
        {
            "server": {"base_url": "http://bench"},
            "storage": {"url": url},
            "audit": {"record_allowed": False},
            "providers": [{**provider, "dpop": "allowed"}],
        }
    )
    services = Services.build(settings)
    await services.users.add("alice")
    app = create_app(settings, services)
    key = DPoPKey(alg)
    bound = idp.user_token("alice", resource=RESOURCE, dpop=key)
    plain = idp.jwt_token("alice")
    htu = "http://bench/rest/api/2/myself"
    bearer = [[(b"authorization", f"Bearer {plain}".encode())]] * count
    per_round = []
    for _ in range(rounds + 1):  # the first round warms the cache and the key
        proofs = [key.proof("GET", htu, token=bound) for _ in range(count)]
        per_round.append(
            [[(b"authorization", f"DPoP {bound}".encode()), (b"dpop", p.encode())] for p in proofs]
        )
    await _drive(app, bearer[:10])
    await _drive(app, per_round[0][:10])
    dpop_s, bearer_s = [], []
    for headers in per_round[1:]:
        bearer_s.append(await _drive(app, bearer))
        dpop_s.append(await _drive(app, headers))
    await services.aclose()
    bearer_rps = count / statistics.median(bearer_s)
    dpop_rps = count / statistics.median(dpop_s)
    return {"bearer_rps": bearer_rps, "dpop_rps": dpop_rps, "ratio": dpop_rps / bearer_rps}


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
            dpop = {
                alg: asyncio.run(dpop_ratio(idp, workdir, 2000, args.rounds, alg))
                for alg in ("ES256", "PS256")
            }
    rps = tp["rps"]
    print(
        f"serverInfo req/s  open: {rps['open']:.0f}  auth (cached JWT): {rps['auth']:.0f}"
        f"  auth without audit: {rps['auth_no_audit']:.0f}"
        f"  auth + 20 rules + rate limit: {rps['rules']:.0f}"
    )
    print(
        f"  auth/open: {rps['auth'] / rps['open']:.3f} (target >= 0.90)"
        f"  rules/auth: {rps['rules'] / rps['auth']:.3f} (target >= 0.85)"
    )
    print(
        f"myself req/s  auth (cached JWT): {rps['myself']:.0f}  bare ASGI app: {rps['bare']:.0f}"
        f"  myself/bare: {rps['myself'] / rps['bare']:.3f} (target >= 0.5)"
    )
    rounds = {name: [round(v) for v in values] for name, values in tp["rounds"].items()}
    print(f"  rounds: {rounds}")
    own = {
        label: statistics.median(
            a / b for a, b in zip(tp["rounds"][x], tp["rounds"][y], strict=True)
        )
        for label, x, y in (("auth/open", "auth", "open"), ("myself/bare", "myself", "bare"))
    }
    # Each round runs the two servers of a pair one right after the other: a ratio within a
    # round compares them on the same machine, when the load drifts between rounds.
    print(
        "  median of the rounds' own ratios: " + "  ".join(f"{k} {v:.3f}" for k, v in own.items())
    )
    for label, _, _ in TOGETHER:
        found = tp["together"][label]
        names = [name for name in found if name != "ratio"]
        costs = "  ".join(f"{name} {statistics.median(found[name]):.1f} us" for name in names)
        rounds_ = " / ".join(f"{r:.3f}" for r in found["ratio"])
        print(
            f"  {label}, loaded at once (CPU per request): {costs}"
            f"  ratio {statistics.median(found['ratio']):.3f} (rounds {rounds_})"
        )
    print(
        f"cold JWT validation  jiraguard: {cold['jiraguard_us']:.1f} us  bare PyJWT: "
        f"{cold['pyjwt_us']:.1f} us  ratio: {cold['ratio']:.3f}  (target <= 1.3)"
    )
    print(f"provider calls per 1,000 requests over 10 opaque tokens: {calls}  (target 10)")
    for alg, found in dpop.items():
        print(
            f"myself req/s in process  cached bearer JWT: {found['bearer_rps']:.0f}  cached DPoP "
            f"JWT + {alg} proof: {found['dpop_rps']:.0f}  dpop/bearer: {found['ratio']:.3f}"
            "  (target >= 0.7)"
        )


if __name__ == "__main__":
    main()
