"""DPoP against bearer over HTTP, as a client meets it: ``jiraguard serve``, wrk, several rounds.

    .venv/bin/python -m bench.dpop [--before /path/to/old/src] [--after src]
        [--duration 5] [--rounds 5] [--connections 32] [--algs ES256 PS256] [--redis URL]

One ``jiraguard serve`` process per source tree (uvicorn, one worker, SQLite, one JWT provider
with ``dpop = "allowed"``, the defaults otherwise: audit on, log level ``warning``), pinned to
core 1; wrk (1 thread, ``--connections``) pinned to core 0. Every round sends
``GET /rest/api/2/myself`` to each tree (who goes first alternates by round), once per case:

* ``bearer``: a cached plain JWT, the same ``Authorization: Bearer`` on every request;
* ``dpop ES256`` (and each other ``--algs``): a cached DPoP-bound JWT (``cnf.jkt``) of the
  same provider and scope, as ``Authorization: DPoP``, with a distinct valid proof on every
  request. wrk cannot sign, so the proofs are made before each run (unique ``jti``, ``htm``
  GET, ``htu`` the URL wrk sends, ``ath`` of the token, ``iat`` of their making: seconds old
  when used, well within ``auth.dpop_max_age``) and a wrk Lua script walks the file, one
  proof a request, as ``bench.peer`` walks its bad tokens. How many: the case's fastest rate
  so far (the warm-up's first) times the duration, doubled; a walk past the end would send
  a request without a proof, and any non-2xx answer stops the benchmark.

Per run: req/s, and the server's CPU µs per request (utime + stime from ``/proc`` over the
requests wrk counted). The figures are medians over the rounds; the ratio is
``dpop / bearer`` of the same tree (target >= 0.7), in req/s and in CPU per request.

With ``--redis`` each tree also gets a second server sharing state through that Redis (the
replay cache then costs one ``SET NX`` a proof). Needs Node.js (the test OpenID provider)
and wrk (``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.auth import JIRAGUARD, ROOT, _pinned
from bench.embedded import Server, _serve
from tests.support.dpop import DPoPKey
from tests.support.idp import RESOURCE, TestProvider, ensure_node_modules

PATH = "/rest/api/2/myself"
SCOPE = "openid profile email jira:read"

WALK_PROOFS = """
local proofs, i, authorization = {}, 0, nil
function init(args)
  authorization = "DPoP " .. args[1]
  for line in io.lines(args[2]) do proofs[#proofs + 1] = line end
end
function request()
  i = i + 1
  return wrk.format(nil, nil, {["Authorization"] = authorization, ["DPoP"] = proofs[i]})
end
"""
"""One proof a request, in the file's order; past its end no ``DPoP`` header (a 401)."""


@dataclass
class Case:
    name: str  # "bearer", "dpop ES256"
    token: str
    key: DPoPKey | None = None
    fastest: float = 0.0  # req/s, for the number of proofs a run needs
    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)


def _wrk(url: str, case: Case, duration: int, connections: int, workdir: Path) -> tuple[float, int]:
    """One wrk run of ``case``: req/s and requests; raises on any error or non-2xx answer."""
    command = [*_pinned(0), "wrk", "-t1", f"-c{connections}", f"-d{duration}s"]
    command += ["--timeout", "30s"]
    if case.key is None:
        command += ["-H", f"Authorization: Bearer {case.token}", url]
    else:
        proofs = workdir / "proofs.txt"
        count = int(max(case.fastest, 6000.0) * duration * 2) + 1000
        htu = url  # wrk sends Host 127.0.0.1:port: the URI the server sees
        with proofs.open("w") as out:
            for _ in range(count):
                out.write(case.key.proof("GET", htu, token=case.token) + "\n")
        script = workdir / "walk-proofs.lua"
        script.write_text(WALK_PROOFS)
        command += ["-s", str(script), url, "--", case.token, str(proofs)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if "Non-2xx" in output or (errors is not None and any(int(n) for n in errors.groups())):
        raise RuntimeError(f"{case.name}: wrk saw errors:\n{output}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rps is None or total is None:
        raise RuntimeError(output)
    case.fastest = max(case.fastest, float(rps.group(1)))
    return float(rps.group(1)), int(total.group(1))


def _config(workdir: Path, label: str, issuer: str, src: Path, redis: str | None) -> Path:
    config = workdir / f"{label}.toml"
    text = (
        f'[storage]\nurl = "sqlite:///{workdir}/{label}.db"\n'
        f'[[providers]]\nname = "corp"\nmethod = "jwt"\nissuer = "{issuer}"\n'
        f'audience = ["{RESOURCE}"]\ndpop = "allowed"\n'
    )
    if redis is not None:
        text = f'[redis]\nurl = "{redis}"\nkey_prefix = "bench-dpop-{label}:"\n' + text
    config.write_text(text)
    subprocess.run(
        [JIRAGUARD, "user", "add", "alice", "--config", str(config), "--create-database"],
        env={**os.environ, "PYTHONPATH": f"{src}:{ROOT}"},
        capture_output=True,
        check=True,
    )
    return config


def _check(server: Server, cases: list[Case]) -> None:
    """Each case answers 200 once, and a proof sent twice is refused the second time."""
    url = f"http://127.0.0.1:{server.port}{PATH}"
    for case in cases:
        if case.key is None:
            headers = {"Authorization": f"Bearer {case.token}"}
            assert httpx.get(url, headers=headers, timeout=30).status_code == 200
            continue
        proof = case.key.proof("GET", url, token=case.token)
        headers = {"Authorization": f"DPoP {case.token}", "DPoP": proof}
        first = httpx.get(url, headers=headers, timeout=30)
        assert first.status_code == 200, (case.name, first.status_code, first.text)
        again = httpx.get(url, headers=headers, timeout=30)
        assert again.status_code == 401, (case.name, again.status_code)
        bearer = httpx.get(url, headers={"Authorization": f"Bearer {case.token}"}, timeout=30)
        assert bearer.status_code == 401, (case.name, "a bound token sent as bearer")


def run(args: argparse.Namespace, workdir: Path, idp: TestProvider) -> list[Case]:
    trees = {"after": args.after.resolve()}
    if args.before is not None:
        trees = {"before": args.before.resolve(), **trees}
    labels = [(tree, "memory") for tree in trees]
    if args.redis:
        labels += [(tree, "redis") for tree in trees]
    cases = [Case("bearer", idp.user_token("alice", scope=SCOPE, resource=RESOURCE))]
    for alg in args.algs:
        key = DPoPKey(alg)
        token = idp.user_token("alice", scope=SCOPE, resource=RESOURCE, dpop=key)
        cases.append(Case(f"dpop {alg}", token, key))
    servers: dict[str, Server] = {}
    try:
        for tree, replay in labels:
            label = f"{tree}-{replay}"
            redis = args.redis if replay == "redis" else None
            config = _config(workdir, label, idp.issuer, trees[tree], redis)
            servers[label] = _serve(trees[tree], config, {})
        for server in servers.values():
            _check(server, cases)
        for server in servers.values():  # warm-up
            for case in cases:
                _wrk(f"http://127.0.0.1:{server.port}{PATH}", case, 1, args.connections, workdir)
        for index in range(args.rounds):
            order = list(servers) if index % 2 == 0 else list(servers)[::-1]
            for label in order:
                server = servers[label]
                for case in cases if index % 2 == 0 else cases[::-1]:
                    url = f"http://127.0.0.1:{server.port}{PATH}"
                    before = server.cpu_seconds()
                    rps, count = _wrk(url, case, args.duration, args.connections, workdir)
                    cpu_us = (server.cpu_seconds() - before) / count * 1e6
                    found = case.samples.setdefault(label, {"rps": [], "cpu_us": []})
                    found["rps"].append(rps)
                    found["cpu_us"].append(cpu_us)
                    print(
                        f"round {index + 1} {label:<13} {case.name:<11} {rps:8,.0f} req/s"
                        f" {cpu_us:7,.0f} µs CPU/request",
                        flush=True,
                    )
    finally:
        for server in servers.values():
            server.process.terminate()
        for server in servers.values():
            server.process.wait(20)
    return cases


def report(cases: list[Case], rounds: int, duration: int, connections: int) -> str:
    bearer = cases[0]
    lines = [
        f"GET {PATH}, {connections} connections, medians of {rounds} rounds of {duration} s",
        "",
        "| server | case | req/s | CPU µs/request | ÷ bearer req/s | bearer CPU ÷ CPU"
        " | rounds req/s |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for label in bearer.samples:
        base_rps = statistics.median(bearer.samples[label]["rps"])
        base_cpu = statistics.median(bearer.samples[label]["cpu_us"])
        for case in cases:
            rps = statistics.median(case.samples[label]["rps"])
            cpu = statistics.median(case.samples[label]["cpu_us"])
            each = " / ".join(f"{r:,.0f}" for r in case.samples[label]["rps"])
            lines.append(
                f"| {label} | {case.name} | {rps:,.0f} | {cpu:,.0f} | {rps / base_rps:.2f} "
                f"| {base_cpu / cpu:.2f} | {each} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="an older tree's src folder, side by side")
    parser.add_argument("--after", type=Path, default=ROOT / "src", help="the tree's src")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--algs", nargs="+", default=["ES256"], choices=["ES256", "PS256", "RS256"])
    parser.add_argument("--redis", help="also measure servers sharing state through this Redis")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    ensure_node_modules()
    load = os.getloadavg()[0]
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory() as tmp,
        TestProvider(workdir=Path(tmp), access_token_ttl=7200) as idp,
    ):
        cases = run(args, Path(tmp), idp)
    minutes = (time.monotonic() - started) / 60
    print(f"\nload average {load:.1f} before, {os.getloadavg()[0]:.1f} after; {minutes:.1f} min")
    print(report(cases, args.rounds, args.duration, args.connections))


if __name__ == "__main__":
    main()
