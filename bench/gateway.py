"""Gateway benchmark: what the proxy hop costs, measured side by side in one run.

    .venv/bin/python -m bench.gateway [--duration 5] [--rounds 3] [--connections 32]

One upstream — jiraguard embedded on SQLite with one issue, ``[signed_identity]`` on — and one
gateway in front of it (``[upstream] url``, trusted_header identity). The same request,
``GET /rest/api/2/issue/BENCH-1`` with a cached JWT, is sent by wrk straight to the upstream
and through the gateway, alternating, several rounds:

1. throughput at ``--connections`` (target: gateway/direct >= 0.75);
2. latency at one connection: p50 and p99 direct and through the gateway; the difference is
   the latency the gateway adds.

Pinning (``taskset``): wrk and the gateway share core 0, the upstream has core 1, so the
upstream gets the same CPU in both runs and the gateway's cost shows up in the ratio. Needs
Node.js (for the test OpenID provider) and wrk (``apt-get install wrk``).
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
from pathlib import Path

import httpx

from bench.directory import add_user
from tests.support.idp import RESOURCE, TestProvider, ensure_node_modules, free_port
from tests.support.servers import wait_until_serving

JIRAGUARD = str(Path(sys.executable).with_name("jiraguard"))
SECRET = "bench-gateway-shared-secret"
PATH = "/rest/api/2/issue/BENCH-1"
PATH_ARG_HELP = "the path to request (default: one issue)"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _pinned(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") and os.cpu_count() else []


def _wrk(url: str, token: str, duration: int, connections: int) -> dict[str, float]:
    """Requests/s and latency percentiles (ms) of one wrk run."""
    command = [*_pinned(0), "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    command += ["-H", f"Authorization: Bearer {token}", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rps is None:
        raise RuntimeError(output)
    result = {"rps": float(rps.group(1))}
    for percentile in ("50", "99"):
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if match is None:
            raise RuntimeError(output)
        result[f"p{percentile}"] = float(match.group(1)) * _UNITS[match.group(2)]
    return result


def _serve(config: Path, core: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [*_pinned(core), JIRAGUARD, "serve", "--config", str(config), "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process


def _configs(idp: TestProvider, workdir: Path) -> tuple[Path, Path, int, int]:
    upstream_port, gateway_port = free_port(), free_port()
    provider = (
        f'[[providers]]\nname = "corp"\nmethod = "jwt"\nissuer = "{idp.issuer}"\n'
        f'audience = ["{RESOURCE}"]\n'
    )
    upstream = workdir / "upstream.toml"
    upstream.write_text(
        f"[server]\nport = {upstream_port}\n"
        f'[storage]\nurl = "sqlite:///{workdir}/upstream.db"\n'
        f'[tokens]\nbootstrap_token_file = "{workdir}/upstream-admin"\n'
        f'[signed_identity]\nenabled = true\nshared_secret = "{SECRET}"\n'
        f'trusted_peers = ["127.0.0.0/8"]\n' + provider
    )
    gateway = workdir / "gateway.toml"
    gateway.write_text(
        f"[server]\nport = {gateway_port}\n"
        f'[storage]\nurl = "sqlite:///{workdir}/gateway.db"\n'
        f'[tokens]\nbootstrap_token_file = "{workdir}/gateway-admin"\n'
        f'[upstream]\nurl = "http://127.0.0.1:{upstream_port}"\nshared_secret = "{SECRET}"\n'
        + provider
    )
    return upstream, gateway, upstream_port, gateway_port


def _seed(base: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    project = httpx.post(
        f"{base}/rest/api/2/project", json={"key": "BENCH", "name": "Bench"}, headers=headers
    )
    assert project.status_code == 201, project.text
    fields = {"project": {"key": "BENCH"}, "issuetype": {"name": "Task"}, "summary": "bench"}
    issue = httpx.post(f"{base}/rest/api/2/issue", json={"fields": fields}, headers=headers)
    assert issue.status_code == 201, issue.text


def run(
    idp: TestProvider,
    workdir: Path,
    duration: int,
    rounds: int,
    connections: int,
    path: str = PATH,
) -> dict[str, list[dict[str, float]]]:
    upstream_config, gateway_config, upstream_port, gateway_port = _configs(idp, workdir)
    add_user(upstream_config, "alice", admin=True)
    token = idp.jwt_token("alice")
    processes = [_serve(upstream_config, 1), _serve(gateway_config, 0)]
    direct = f"http://127.0.0.1:{upstream_port}{path}"
    through = f"http://127.0.0.1:{gateway_port}{path}"
    results: dict[str, list[dict[str, float]]] = {
        name: [] for name in ("direct", "gateway", "direct_c1", "gateway_c1")
    }
    try:
        wait_until_serving(f"http://127.0.0.1:{upstream_port}/healthz")
        wait_until_serving(f"http://127.0.0.1:{gateway_port}/healthz")
        _seed(f"http://127.0.0.1:{upstream_port}", token)
        auth = {"Authorization": f"Bearer {token}"}
        same = [httpx.get(url, headers=auth) for url in (direct, through)]
        assert [r.status_code for r in same] == [200, 200], [r.text for r in same]
        assert httpx.get(through).status_code == 401
        for url in (direct, through):
            _wrk(url, token, 1, connections)  # warm-up
        for _ in range(rounds):
            results["direct"].append(_wrk(direct, token, duration, connections))
            results["gateway"].append(_wrk(through, token, duration, connections))
            results["direct_c1"].append(_wrk(direct, token, duration, 1))
            results["gateway_c1"].append(_wrk(through, token, duration, 1))
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
    return results


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--path", default=PATH, help=PATH_ARG_HELP)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    ensure_node_modules()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with TestProvider(workdir=workdir) as idp:
            results = run(idp, workdir, args.duration, args.rounds, args.connections, args.path)
    direct, gateway = _median(results["direct"], "rps"), _median(results["gateway"], "rps")
    print(f"GET {args.path} req/s at {args.connections} connections")
    print(
        f"  direct: {direct:.0f}  through the gateway: {gateway:.0f}"
        f"  ratio: {gateway / direct:.3f} (target >= 0.75)"
    )
    print(
        f"  rounds: direct {[round(r['rps']) for r in results['direct']]}"
        f"  gateway {[round(r['rps']) for r in results['gateway']]}"
    )
    for p in ("p50", "p99"):
        d, g = _median(results["direct_c1"], p), _median(results["gateway_c1"], p)
        print(
            f"latency {p} at 1 connection: direct {d:.2f} ms  gateway {g:.2f} ms"
            f"  added {g - d:.2f} ms"
        )


if __name__ == "__main__":
    main()
