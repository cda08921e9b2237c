"""JQL search benchmark: p50/p95 of ``search_issues`` on SQLite and PostgreSQL.

    .venv/bin/python -m bench.search [--issues 100000] [--repetitions 50] [--reseed]
        [--sqlite PATH] [--postgres-admin URL] [--postgres-database NAME]

Seeds (``bench.seed``) a SQLite file and a PostgreSQL database created by this script, unless
they already hold ``--issues`` issues, then times each query: the whole ``search_issues``
call (exact count + one page of 50), and the count alone (``max_results=0``). Targets at
100,000 issues: the project/status query p50 <= 20 ms, the text query p50 <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from bench.seed import seed
from jiraguard.jira.jql import search_issues
from jiraguard.store.db import Database
from jiraguard.store.models import Issue

QUERIES = (
    ("project = P1 AND status = Open ORDER BY created DESC", 20.0),
    ('text ~ "timeout"', 100.0),  # a common word: in over half of the issues
    ('text ~ "dns"', 100.0),  # a middling word: in about 8%
    ('text ~ "story"', 100.0),  # the least likely word of the vocabulary: about 5%
)
"""Each query with its p50 target in milliseconds (seeded words follow a Zipf-like law)."""


@dataclass
class Timing:
    database: str
    jql: str
    what: str
    total: int
    p50: float
    p95: float
    target: float | None


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _count_issues(url: str) -> int:
    database = Database(url)
    try:
        async with database.session() as session:
            return (await session.execute(select(func.count()).select_from(Issue))).scalar_one()
    except Exception:  # a fresh database has no tables yet: seed it
        return -1
    finally:
        await database.close()


async def _measure(name: str, url: str, repetitions: int) -> list[Timing]:
    database = Database(url)
    timings: list[Timing] = []
    try:
        for jql, target in QUERIES:
            for what, max_results in (("count + page of 50", 50), ("count only", 0)):
                samples: list[float] = []
                total = 0
                for round_ in range(repetitions + 3):
                    async with database.session() as session:
                        started = time.perf_counter()
                        total, _ids = await search_issues(
                            session,
                            jql,
                            current_user_id=None,
                            start_at=0,
                            max_results=max_results,
                        )
                        elapsed = (time.perf_counter() - started) * 1000
                    if round_ >= 3:  # the first rounds warm caches and connections
                        samples.append(elapsed)
                timings.append(
                    Timing(
                        name,
                        jql,
                        what,
                        total,
                        statistics.median(samples),
                        _percentile(samples, 0.95),
                        target if max_results else None,
                    )
                )
    finally:
        await database.close()
    return timings


def _postgres_url(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=3) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--repetitions", type=int, default=50)
    parser.add_argument("--reseed", action="store_true", help="seed even if already seeded")
    parser.add_argument("--sqlite", default=str(Path(tempfile.gettempdir()) / "jiraguard_bench.db"))
    parser.add_argument("--postgres-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--postgres-database", default="jiraguard_bench")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    arguments = parser.parse_args()

    console = Console()
    timings: list[Timing] = []
    for name in ("sqlite", "postgresql"):
        if arguments.only and name != arguments.only:
            continue
        if name == "sqlite":
            url = f"sqlite:///{arguments.sqlite}"
        else:
            url = _postgres_url(arguments.postgres_admin, arguments.postgres_database)
        if arguments.reseed or asyncio.run(_count_issues(url)) != arguments.issues:
            console.print(f"seeding {name} with {arguments.issues:,} issues")
            started = time.perf_counter()
            seed(url, arguments.issues)
            console.print(f"seeded {name} in {time.perf_counter() - started:.1f} s")
        timings += asyncio.run(_measure(name, url, arguments.repetitions))

    table = Table(
        title=f"search_issues at {arguments.issues:,} issues, {arguments.repetitions} runs"
    )
    for column in ("database", "query", "timed", "total", "p50 ms", "p95 ms", "target p50"):
        table.add_column(column)
    for timing in timings:
        verdict = ""
        if timing.target is not None:
            mark = "ok" if timing.p50 <= timing.target else "MISSED"
            verdict = f"<= {timing.target:.0f} ({mark})"
        table.add_row(
            timing.database,
            timing.jql,
            timing.what,
            f"{timing.total:,}",
            f"{timing.p50:.1f}",
            f"{timing.p95:.1f}",
            verdict,
        )
    console.print(table)


if __name__ == "__main__":
    main()
