"""Throughput of ``jiraguard serve --workers 1`` against ``--workers 2``, side by side.

    .venv/bin/python -m bench.workers [--duration 5] [--rounds 5] [--connections 32]

Identical servers (SQLite, one JWT provider) differ only in their number of worker
processes (and a third in writing the request log); wrk sends all the same request,
``GET /rest/api/2/serverInfo`` with the same cached JWT, alternating between them round
after round. The servers may use every core; wrk (one thread) is pinned to core 0, so on a
2-core machine it takes its share of one core from whichever server is measured, the same
for all.

Needs Node.js (for the test OpenID provider) and wrk (``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from bench.auth import _server, _wrk
from bench.directory import add_user
from tests.support.idp import RESOURCE, TestProvider, ensure_node_modules, free_port

PATH = "/rest/api/2/serverInfo"
VARIANTS = {
    "1 worker": {"workers": 1},
    "2 workers": {"workers": 2},
    "1 worker, request log on": {"workers": 1, "log_level": "info"},
}
"""Identical servers but for the named differences (the log goes to /dev/null)."""


def throughput(
    idp: TestProvider, workdir: Path, duration: int, rounds: int, connections: int
) -> dict[str, list[float]]:
    config = workdir / "bench.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{workdir}/bench.db"\n'
        f'[[providers]]\nname = "corp"\nmethod = "jwt"\nissuer = "{idp.issuer}"\n'
        f'audience = ["{RESOURCE}"]\n'
    )
    add_user(config, "alice")
    auth = {"Authorization": f"Bearer {idp.jwt_token('alice')}"}
    servers: dict[str, tuple[str, subprocess.Popen[bytes]]] = {}
    try:
        for name, options in VARIANTS.items():
            port = free_port()
            process = _server(
                config,
                port,
                {},
                workers=int(options["workers"]),
                pinned=False,
                log_level=str(options.get("log_level", "warning")),
            )
            servers[name] = (f"http://127.0.0.1:{port}{PATH}", process)
        for url, _ in servers.values():
            assert httpx.get(url, headers=auth, timeout=10).is_success
            _wrk(url, auth, 2, connections)  # warm-up: every worker has the key and the token
        results: dict[str, list[float]] = {name: [] for name in servers}
        for _ in range(rounds):
            for name, (url, _) in servers.items():
                results[name].append(_wrk(url, auth, duration, connections))
    finally:
        for _, process in servers.values():
            process.terminate()
            process.wait(40)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    ensure_node_modules()
    with tempfile.TemporaryDirectory() as tmp, TestProvider(workdir=Path(tmp)) as idp:
        results = throughput(idp, Path(tmp), args.duration, args.rounds, args.connections)
    rps = {name: statistics.median(values) for name, values in results.items()}
    one, two, logged = rps["1 worker"], rps["2 workers"], rps["1 worker, request log on"]
    print(f"{os.cpu_count()} cores, GET {PATH} with a cached JWT, {args.connections} connections")
    print(f"req/s  --workers 1: {one:.0f}  --workers 2: {two:.0f}  ratio: {two / one:.2f}")
    print(f"req/s  --workers 1 with the request log: {logged:.0f}  ({logged / one:.2f} of without)")
    rounds = {name: [round(v) for v in values] for name, values in results.items()}
    print(f"  rounds: {rounds}")


if __name__ == "__main__":
    main()
