"""The embedded server's common reads, two source trees side by side in one run.

    .venv/bin/python -m bench.embedded --before /path/to/old/src [--after src]
        [--duration 5] [--rounds 3] [--issues 100000]

Both trees serve the same seeded data (``bench.seed``: a SQLite file and a PostgreSQL
database, seeded once and reused; each tree gets its own copy, since ``serve`` migrates).
Per tree, three ``jiraguard serve`` processes, pinned to core 1 like wrk's counterpart in
``bench.auth``: SQLite, PostgreSQL, and SQLite with nothing protected (the "open" server);
and one bare ASGI app (``bench.peer:upstream``) for the ceiling. Every round runs wrk
(1 thread, 32 connections, pinned to core 0) against each target, before and after
alternating (who goes first alternates by round), and reads each server's CPU time from
``/proc`` over the requests wrk counted; the bare app runs next to ``myself`` in each round,
so the two ratios can also be read by CPU per request (bare ÷ ours), the figure a busy
shared machine disturbs least.

Targets: ``GET /rest/api/2/myself`` with a cached JWT; ``serverInfo`` authenticated and open;
``GET /rest/api/2/issue/P1-10``; an equality search (50 results) on both databases. Before
measuring, every response of the two trees is compared byte for byte (with the port in
``self`` links made equal).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg

from bench.auth import JIRAGUARD, ROOT, _bare, _pinned, _server
from bench.jira_api import QUERIES
from bench.search import _count_issues, _postgres_url
from bench.seed import seed
from tests.support.idp import RESOURCE, TestProvider, ensure_node_modules, free_port

SEARCH = "/rest/api/2/search?jql=" + quote(QUERIES["equality"]) + "&maxResults=50"
TARGETS = {
    # name: (server, path)
    "myself": ("sqlite", "/rest/api/2/myself"),
    "serverInfo auth": ("sqlite", "/rest/api/2/serverInfo"),
    "serverInfo open": ("open", "/rest/api/2/serverInfo"),
    "issue sqlite": ("sqlite", "/rest/api/2/issue/P1-10"),
    "issue postgresql": ("postgresql", "/rest/api/2/issue/P1-10"),
    "search sqlite": ("sqlite", SEARCH),
    "search postgresql": ("postgresql", SEARCH),
}


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]

    def cpu_seconds(self) -> float:
        """User + system time of the process (all its threads) so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Samples:
    rps: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)


def _wrk(url: str, token: str, duration: int) -> tuple[float, int]:
    command = [*_pinned(0), "wrk", "-t1", "-c32", f"-d{duration}s", "--timeout", "30s"]
    command += ["-H", f"Authorization: Bearer {token}", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"connect (\d+), read (\d+), write (\d+)", output)
    if "Non-2xx" in output or (errors is not None and any(int(n) for n in errors.groups())):
        raise RuntimeError(f"wrk saw errors:\n{output}")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    count = re.search(r"(\d+) requests in", output)
    if rps is None or count is None:
        raise RuntimeError(output)
    return float(rps.group(1)), int(count.group(1))


def _serve(src: Path, config: Path, env_extra: dict[str, str]) -> Server:
    """``jiraguard serve`` of the tree ``src`` (``bench.auth``'s server, pinned to core 1)."""
    port = free_port()
    return Server(port, _server(config, port, {**env_extra, "PYTHONPATH": f"{src}:{ROOT}"}))


def _copies(label: str, sqlite: Path, postgres: str, workdir: Path) -> tuple[str, str]:
    """A SQLite file and a PostgreSQL database of the tree ``label``, copied from the seed."""
    target = workdir / f"{label}.db"
    shutil.copy(sqlite, target)
    admin, seeded = postgres.rsplit("/", 1)
    name = f"{seeded}_{label}"
    with psycopg.connect(f"{admin}/postgres", autocommit=True, connect_timeout=3) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{seeded}"')
    return f"sqlite:///{target}", f"{admin}/{name}"


def _normalised(body: bytes, port: int) -> bytes:
    """The port in links and serverInfo's clock made equal; nothing else."""
    body = re.sub(rb'"serverTime":"[^"]*"', b'"serverTime":"T"', body)
    return body.replace(f"127.0.0.1:{port}".encode(), b"127.0.0.1:PORT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the old tree's src folder")
    parser.add_argument("--after", type=Path, default=ROOT / "src", help="the new tree's src")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--sqlite", default=str(Path(tempfile.gettempdir()) / "jiraguard_bench.db"))
    parser.add_argument("--postgres-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--postgres-database", default="jiraguard_bench")
    parser.add_argument(
        "--allow-differences",
        action="store_true",
        help="measure even when the trees answer differently (the newer adds fields)",
    )
    parser.add_argument("--only", nargs="*", choices=sorted(TARGETS), help="targets to measure")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    ensure_node_modules()
    postgres = _postgres_url(args.postgres_admin, args.postgres_database)
    for url in (f"sqlite:///{args.sqlite}", postgres):
        if asyncio.run(_count_issues(url)) < args.issues:
            print(f"seeding {url} with {args.issues:,} issues")
            seed(url, args.issues)
    targets = {k: v for k, v in TARGETS.items() if not args.only or k in args.only}
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    servers: dict[tuple[str, str], Server] = {}
    bare_port = free_port()
    bare = Server(bare_port, _bare(bare_port))
    with (
        tempfile.TemporaryDirectory() as tmp,
        TestProvider(workdir=Path(tmp), access_token_ttl=7200) as idp,
    ):
        workdir = Path(tmp)
        try:
            for label, src in trees.items():
                sqlite, pg = _copies(label, Path(args.sqlite), postgres, workdir)
                for name, url, extra in (
                    ("sqlite", sqlite, {}),
                    ("open", sqlite, {"JIRAGUARD_AUTH__PROTECTED_PATHS": '["/none/"]'}),
                    ("postgresql", pg, {}),
                ):
                    config = workdir / f"{label}-{name}.toml"
                    config.write_text(
                        f'[storage]\nurl = "{url}"\n'
                        f'[[providers]]\nname = "corp"\nmethod = "jwt"\n'
                        f'issuer = "{idp.issuer}"\naudience = ["{RESOURCE}"]\n'
                    )
                    if name != "open":
                        subprocess.run(
                            [JIRAGUARD, "user", "add", "alice", "--config", str(config)],
                            env={**os.environ, "PYTHONPATH": f"{src}:{ROOT}"},
                            capture_output=True,
                            check=False,  # exists already when the seed was used before
                        )
                    servers[(label, name)] = _serve(src, config, extra)
            token = idp.jwt_token("alice")
            _compare(servers, targets, token, args.allow_differences)
            results = _measure(servers, targets, token, bare, args)
        finally:
            bare.process.terminate()
            for server in servers.values():
                server.process.terminate()
            for server in servers.values():
                server.process.wait(20)
            bare.process.wait(10)
    _report(results, targets)


def _compare(
    servers: dict[tuple[str, str], Server],
    targets: dict[str, tuple[str, str]],
    token: str,
    allow_differences: bool = False,
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    for name, (server, path) in targets.items():
        bodies = []
        for label in ("before", "after"):
            port = servers[(label, server)].port
            response = httpx.get(f"http://127.0.0.1:{port}{path}", headers=headers, timeout=30)
            response.raise_for_status()
            head = "\n".join(
                f"{k}: {v}"
                for k, v in response.headers.items()
                if k not in ("date", "x-request-id")
            )
            bodies.append(_normalised(head.encode() + b"\n\n" + response.content, port))
        same = "identical" if bodies[0] == bodies[1] else "DIFFERENT"
        print(f"{name:<20} responses of before and after: {same} ({len(bodies[1]):,} bytes)")
        if bodies[0] != bodies[1] and not allow_differences:
            sys.exit("the trees answer differently: not measuring")


def _measure(
    servers: dict[tuple[str, str], Server],
    targets: dict[str, tuple[str, str]],
    token: str,
    bare: Server,
    args: argparse.Namespace,
) -> dict[str, Samples]:
    results: dict[str, Samples] = {}
    for server, path in targets.values():  # warm-up
        for label in ("before", "after"):
            _wrk(f"http://127.0.0.1:{servers[(label, server)].port}{path}", token, 1)
    for round_ in range(args.rounds):
        order = ("before", "after") if round_ % 2 == 0 else ("after", "before")
        for name, (server, path) in targets.items():
            runs = [(f"{name}|{label}", servers[(label, server)], path) for label in order]
            if name == "myself":  # the bare app right next to the request it is compared with
                runs.insert(round_ % 3, ("bare", bare, "/rest/api/2/myself"))
            for key, process, target in runs:
                started = process.cpu_seconds()
                url = f"http://127.0.0.1:{process.port}{target}"
                rps, count = _wrk(url, token, args.duration)
                cpu = (process.cpu_seconds() - started) / count * 1e6
                samples = results.setdefault(key, Samples())
                samples.rps.append(rps)
                samples.cpu_us.append(cpu)
                shown = key.replace("|", " ")
                print(f"round {round_ + 1} {shown:<27} {rps:9,.0f} req/s {cpu:9,.1f} us")
    return results


def _report(results: dict[str, Samples], targets: dict[str, tuple[str, str]]) -> None:
    bare = statistics.median(results["bare"].rps) if "bare" in results else math.nan
    bare_cpu = statistics.median(results["bare"].cpu_us) if "bare" in results else math.nan
    if "bare" in results:
        print(
            f"\nbare ASGI app: {bare:,.0f} req/s (rounds {_rounds(results['bare'].rps)}), ", end=""
        )
        print(f"{bare_cpu:.1f} us CPU (rounds {_rounds(results['bare'].cpu_us, '.1f')})")
    print(f"{'target':<20}{'before req/s':>14}{'after req/s':>14}{'after/before':>14}", end="")
    print(f"{'before CPU us':>15}{'after CPU us':>14}")
    medians: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for name in targets:
        old, new = results[f"{name}|before"], results[f"{name}|after"]
        medians[f"{name}|before"] = statistics.median(old.rps)
        medians[f"{name}|after"] = statistics.median(new.rps)
        cpu[f"{name}|before"] = statistics.median(old.cpu_us)
        cpu[f"{name}|after"] = statistics.median(new.cpu_us)
        print(
            f"{name:<20}{statistics.median(old.rps):>14,.0f}{statistics.median(new.rps):>14,.0f}"
            f"{statistics.median(new.rps) / statistics.median(old.rps):>14.2f}"
            f"{statistics.median(old.cpu_us):>15,.1f}{statistics.median(new.cpu_us):>14,.1f}"
        )
    # By CPU: the bare app's CPU per request over ours is the req/s ratio a server would
    # reach with a core of its own, whatever else runs on the machine meanwhile.
    for label in ("before", "after"):
        line = [label]
        if "myself" in targets:
            line.append(
                f"myself/bare {medians[f'myself|{label}'] / bare:.2f} req/s, "
                f"{bare_cpu / cpu[f'myself|{label}']:.2f} by CPU (target >= 0.5)"
            )
        if "serverInfo auth" in targets and "serverInfo open" in targets:
            ratio = medians[f"serverInfo auth|{label}"] / medians[f"serverInfo open|{label}"]
            by_cpu = cpu[f"serverInfo open|{label}"] / cpu[f"serverInfo auth|{label}"]
            line.append(f"serverInfo auth/open {ratio:.2f} req/s, {by_cpu:.2f} by CPU (>= 0.9)")
        print("  ".join(line))


def _rounds(values: list[float], spec: str = ",.0f") -> str:
    return " / ".join(format(v, spec) for v in values)


if __name__ == "__main__":
    main()
