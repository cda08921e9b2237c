"""The embedded Jira API through HTTP at 100,000 issues, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.jira_api [--issues 100000] [--repetitions 50] [--creates 1000]
        [--databases sqlite,postgresql | --only sqlite|postgresql]

For each database (seeded by ``bench.seed`` once and reused, as ``bench.search`` does, then
given custom field values by ``bench.custom_fields`` on every run): one ``jiraguard serve``
process (pinned to one core, the client on the other), a real JWT from the test OpenID
provider, then

* p50/p95 latency of ``GET /rest/api/2/search`` for
  ``project = P1 AND status = Open ORDER BY created DESC`` (50 results),
  ``text ~ "dns"`` (targets at 100k: p50 <= 20 ms and <= 100 ms) and
  ``fixVersion = "2.0" ORDER BY created DESC``, one request at a time (the pages show the
  issues' versions and components, which ``bench.seed`` gives about half of them), and the
  same for a select (``"Bench Team" = Payments``) and a text custom field
  (``"Bench Note" ~ "dns"``); the pages show the custom fields (search's ``*navigable``);
* issue-create throughput: ``POST /rest/api/2/issue`` from 16 concurrent clients.

Needs Node.js (test provider) and the PostgreSQL server on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from bench.auth import JIRAGUARD, _server
from bench.custom_fields import populate
from bench.search import _count_issues, _postgres_url
from bench.seed import seed
from tests.support.idp import RESOURCE, TestProvider, ensure_node_modules, free_port

QUERIES = {
    "equality": "project = P1 AND status = Open ORDER BY created DESC",
    "text": 'text ~ "dns"',
    "version": 'fixVersion = "2.0" ORDER BY created DESC',
    "custom_equality": '"Bench Team" = Payments ORDER BY created DESC',
    "custom_text": '"Bench Note" ~ "dns"',
}
CONCURRENCY = 16


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _search_latency(base: str, token: str, jql: str, repetitions: int) -> tuple[float, float]:
    headers = {"Authorization": f"Bearer {token}"}
    samples = []
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for i in range(repetitions + 3):
            started = time.perf_counter()
            response = client.get("/rest/api/2/search", params={"jql": jql, "maxResults": 50})
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            if i >= 3:  # warm-up
                samples.append(elapsed)
    return statistics.median(samples), _percentile(samples, 0.95)


async def _creates(base: str, token: str, count: int) -> float:
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "fields": {
            "project": {"key": "P1"},
            "issuetype": {"name": "Task"},
            "summary": "benchmark issue",
            "description": "created by bench",
        }
    }
    queue = iter(range(count))

    async def worker(client: httpx.AsyncClient) -> None:
        for _ in queue:
            response = await client.post("/rest/api/2/issue", json=body)
            response.raise_for_status()

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as c:
        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for _ in range(CONCURRENCY)))
        return count / (time.perf_counter() - started)


def measure(
    name: str, url: str, idp: TestProvider, workdir: Path, args: argparse.Namespace
) -> dict[str, float]:
    config = workdir / f"{name}.toml"
    config.write_text(
        f'[storage]\nurl = "{url}"\n'
        f'[[providers]]\nname = "corp"\nmethod = "jwt"\nissuer = "{idp.issuer}"\n'
        f'audience = ["{RESOURCE}"]\n'
    )
    subprocess.run(
        [
            JIRAGUARD,
            "user",
            "add",
            "bench-admin",
            "--admin",
            "--config",
            str(config),
            "--create-database",
        ],
        capture_output=True,
        check=False,  # exists already on a reused database
    )
    token = idp.jwt_token("bench-admin")
    port = free_port()
    process = _server(config, port, {})
    base = f"http://127.0.0.1:{port}"
    try:
        result: dict[str, float] = {}
        for label, jql in QUERIES.items():
            p50, p95 = _search_latency(base, token, jql, args.repetitions)
            result[f"{label}_p50"], result[f"{label}_p95"] = p50, p95
        result["creates_per_s"] = asyncio.run(_creates(base, token, args.creates))
    finally:
        process.terminate()
        process.wait(10)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--repetitions", type=int, default=50)
    parser.add_argument("--creates", type=int, default=1000)
    parser.add_argument("--sqlite", default=str(Path(tempfile.gettempdir()) / "jiraguard_bench.db"))
    parser.add_argument("--postgres-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--postgres-database", default="jiraguard_bench")
    parser.add_argument(
        "--databases", default="sqlite,postgresql", help="which to measure, comma separated"
    )
    parser.add_argument(
        "--only", choices=("sqlite", "postgresql"), help="measure only this one (--databases)"
    )
    args = parser.parse_args()
    ensure_node_modules()
    chosen = {args.only} if args.only else {name.strip() for name in args.databases.split(",")}
    urls = {"sqlite": f"sqlite:///{args.sqlite}"} if "sqlite" in chosen else {}
    if "postgresql" in chosen:
        urls["postgresql"] = _postgres_url(args.postgres_admin, args.postgres_database)
    results = {}
    with tempfile.TemporaryDirectory() as tmp, TestProvider(workdir=Path(tmp)) as idp:
        for name, url in urls.items():
            if asyncio.run(_count_issues(url)) < args.issues:
                print(f"seeding {name} with {args.issues:,} issues")
                seed(url, args.issues)
            print(f"{name}: {populate(url):,} custom field values written")
            results[name] = measure(name, url, idp, Path(tmp), args)
    print(f"{'database':<12}{'search':<18}{'p50 ms':>10}{'p95 ms':>10}")
    for name, r in results.items():
        for label in QUERIES:
            print(f"{name:<12}{label:<18}{r[label + '_p50']:>10.1f}{r[label + '_p95']:>10.1f}")
        print(f"{name:<12}{'creates/s':<18}{r['creates_per_s']:>10.0f}")


if __name__ == "__main__":
    main()
