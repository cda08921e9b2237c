"""Gateway identity modes side by side: ``oauth1_impersonation`` ÷ ``trusted_header``.

    .venv/bin/python -m bench.identity_modes [--duration 5] [--rounds 3] [--connections 32]

One upstream — jiraguard embedded on SQLite with one issue, both ``[signed_identity]`` and an
``[oauth1]`` consumer on — and two gateways in front of it that differ only in
``upstream.identity``. The same request, ``GET /rest/api/2/issue/BENCH-1`` with a cached JWT,
goes through each gateway in turn, several rounds. Reported: throughput of each and their
ratio, and each gateway's CPU time per request (from ``/proc``: user + system time over the
requests wrk counted), which is steadier than throughput on a shared machine.

The OAuth 1.0a mode signs every request with RSA-SHA1 (a fresh timestamp and nonce each
time, so a signature cannot be reused); what can be cached is: the parsed private key, the
constant header parameters, and whether Jira knows the user (``upstream.user_check_ttl``).
The upstream also verifies a signature per request in that mode, so it is given its own core
and the gateways share the other with wrk. Needs Node.js and wrk.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.directory import add_user
from bench.gateway import SECRET, _seed, _serve, _wrk
from tests.support.idp import RESOURCE, TestProvider, ensure_node_modules, free_port
from tests.support.servers import wait_until_serving

PATH = "/rest/api/2/issue/BENCH-1"
MODES = ("trusted_header", "oauth1_impersonation")


def _keys(workdir: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = workdir / "consumer.key", workdir / "consumer.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def _configs(idp: TestProvider, workdir: Path) -> tuple[Path, dict[str, Path], dict[str, int]]:
    private, public = _keys(workdir)
    ports = {"upstream": free_port(), **{mode: free_port() for mode in MODES}}
    provider = (
        f'[[providers]]\nname = "corp"\nmethod = "jwt"\nissuer = "{idp.issuer}"\n'
        f'audience = ["{RESOURCE}"]\n'
    )
    upstream = workdir / "upstream.toml"
    upstream.write_text(
        f"[server]\nport = {ports['upstream']}\n"
        f'[storage]\nurl = "sqlite:///{workdir}/upstream.db"\n'
        f'[tokens]\nbootstrap_token_file = "{workdir}/upstream-admin"\n'
        f'[signed_identity]\nenabled = true\nshared_secret = "{SECRET}"\n'
        f'trusted_peers = ["127.0.0.0/8"]\n'
        f"[oauth1]\nenabled = true\n[[oauth1.consumers]]\n"
        f'consumer_key = "bench"\nname = "bench"\npublic_key_file = "{public}"\n'
        f"allow_impersonation = true\n" + provider
    )
    gateways = {}
    for mode in MODES:
        identity = (
            f'shared_secret = "{SECRET}"\n'
            if mode == "trusted_header"
            else f'consumer_key = "bench"\nprivate_key_file = "{private}"\n'
        )
        gateway = gateways[mode] = workdir / f"{mode}.toml"
        gateway.write_text(
            f"[server]\nport = {ports[mode]}\n"
            f'[storage]\nurl = "sqlite:///{workdir}/{mode}.db"\n'
            f'[tokens]\nbootstrap_token_file = "{workdir}/{mode}-admin"\n'
            f'[upstream]\nurl = "http://127.0.0.1:{ports["upstream"]}"\n'
            f'identity = "{mode}"\n{identity}' + provider
        )
    return upstream, gateways, ports


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def run(
    idp: TestProvider, workdir: Path, duration: int, rounds: int, connections: int
) -> dict[str, list[dict[str, float]]]:
    upstream_config, gateways, ports = _configs(idp, workdir)
    add_user(upstream_config, "alice", admin=True)
    token = idp.jwt_token("alice")
    servers = {"upstream": _serve(upstream_config, 1)}
    servers.update({mode: _serve(gateways[mode], 0) for mode in MODES})
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    try:
        for name in servers:
            wait_until_serving(f"http://127.0.0.1:{ports[name]}/healthz")
        _seed(f"http://127.0.0.1:{ports['upstream']}", token)
        urls = {mode: f"http://127.0.0.1:{ports[mode]}{PATH}" for mode in MODES}
        for mode, url in urls.items():
            answer = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, (mode, answer.text)
            _wrk(url, token, 1, connections)  # warm-up
        for _ in range(rounds):
            for mode, url in urls.items():
                before = _cpu_seconds(servers[mode].pid)
                measured = _wrk(url, token, duration, connections)
                used = _cpu_seconds(servers[mode].pid) - before
                measured["cpu_us"] = used / (measured["rps"] * duration) * 1e6
                results[mode].append(measured)
    finally:
        for process in servers.values():
            process.terminate()
            process.wait(10)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    ensure_node_modules()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        with TestProvider(workdir=workdir) as idp:
            results = run(idp, workdir, args.duration, args.rounds, args.connections)
    rps = {mode: statistics.median(r["rps"] for r in results[mode]) for mode in MODES}
    cpu = {mode: statistics.median(r["cpu_us"] for r in results[mode]) for mode in MODES}
    print(f"GET {PATH} through the gateway, {args.connections} connections, medians")
    for mode in MODES:
        rounds = [round(r["rps"]) for r in results[mode]]
        print(f"  {mode:22} {rps[mode]:8.0f} req/s  {cpu[mode]:7.0f} µs CPU/request  {rounds}")
    ratio = rps["oauth1_impersonation"] / rps["trusted_header"]
    extra = cpu["oauth1_impersonation"] - cpu["trusted_header"]
    print(f"  oauth1_impersonation ÷ trusted_header: {ratio:.2f} of the throughput,")
    print(f"  {extra:+.0f} µs of gateway CPU per request")


if __name__ == "__main__":
    main()
