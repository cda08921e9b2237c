"""Seed a database with many realistic issues, fast, for the JQL search benchmark.

    .venv/bin/python -m bench.seed DATABASE_URL [--issues 100000] [--projects 10]

Migrates the database, then bulk-inserts (Core ``executemany`` in batches, not the ORM per
row) users, projects P1..Pn, issues with random words in summary and description, mixed
statuses, priorities, types, assignees, labels, dates and due dates, and comments on about a
third of the issues; each project gets versions (the first half released) and components, and
issues name some of them (``fixVersions``, ``versions``, ``components``); each issue's reporter
watches it, as after a create. Each project's
``issue_counter`` ends at its last issue number. The random generator is seeded, so two runs
with the same arguments produce the same data.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.progress import Progress
from sqlalchemy import Engine, create_engine, delete, func, insert, select, update

from jiraguard.jira import catalog
from jiraguard.store.db import driver_urls, run_migrations
from jiraguard.store.models import (
    Comment,
    Component,
    Issue,
    IssueLabel,
    IssueProperty,
    Project,
    RemoteLink,
    User,
    Version,
    issue_affected_versions,
    issue_components,
    issue_fix_versions,
    issue_voters,
    issue_watchers,
)

BATCH = 5_000
ISSUE_ROWS = (issue_watchers, issue_voters, RemoteLink.__table__, IssueProperty.__table__)
"""Rows of issues deleted before seeding (SQLite without ``foreign_keys`` does not cascade)."""

# Words of issue trackers, drawn with Zipf-like weights: the most common is in 93% of the
# issues, the least common in 4.5%. One string reads (and edits) better than 260 literals.
VOCABULARY = """
error crash login page user button timeout database server request response failed fails
slow performance memory leak cache update upgrade install build deploy release version
test tests flaky broken missing wrong incorrect display screen mobile android ios browser
chrome firefox safari layout style css font color icon image upload download file export
import report dashboard chart table filter search sort pagination api endpoint token auth
session cookie password reset email notification alert message queue worker job schedule
cron backup restore migration schema index query slowly deadlock lock thread process
config configuration setting option flag feature toggle permission role admin account
profile avatar settings billing invoice payment checkout cart order customer product price
discount coupon shipping address validation form field input dropdown modal dialog tooltip
menu navigation link redirect url route router proxy network latency bandwidth connection
socket websocket http https certificate ssl tls dns domain host container docker kubernetes
pod node cluster scaling load balancer gateway service microservice monolith refactor
cleanup rename remove delete add create improve optimize document documentation readme
typo translation locale language timezone date time calendar event meeting invite sync
offline online status health metrics logging logs trace tracing monitor monitoring audit
security vulnerability xss csrf injection encryption key secret vault compliance gdpr
accessibility keyboard focus contrast screenreader animation transition scroll resize
zoom print pdf csv json xml yaml parser serializer encoding unicode emoji attachment
comment reply thread mention watcher assignee reporter priority label sprint epic story
""".split()  # noqa: SIM905

LABELS = [
    "backend", "frontend", "ui", "ux", "api", "mobile", "security", "performance",
    "regression", "customer", "tech-debt", "infra", "docs", "qa", "hotfix", "release",
    "design", "data", "billing", "search",
]  # fmt: skip

COMPONENTS = ["Backend", "Frontend", "API", "Mobile", "Database", "Infrastructure"]
VERSIONS_PER_PROJECT = 8
"""Versions 1.0 … 8.0 of each project; the first half are released."""

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=730)


def _weights(count: int) -> list[float]:
    return [1 / (rank + 1) ** 0.8 for rank in range(count)]


class Writer:
    """Random issue data from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.word_weights = _weights(len(VOCABULARY))

    def words(self, low: int, high: int) -> str:
        count = self.random.randint(low, high)
        picked = self.random.choices(VOCABULARY, self.word_weights, k=count)
        return " ".join(picked)

    def sentence(self) -> str:
        text = self.words(4, 10)
        return text[0].upper() + text[1:]


def _batches(rows: Iterator[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _issues(
    writer: Writer, count: int, projects: list[int], users: list[int]
) -> Iterator[tuple[dict[str, Any], list[str]]]:
    rnd = writer.random
    numbers = dict.fromkeys(projects, 0)
    statuses = [s.id for s in catalog.STATUSES]
    status_weights = [40, 20, 5, 15, 20]
    done = {catalog.RESOLVED.id, catalog.CLOSED.id}
    types = [t.id for t in catalog.ISSUE_TYPES if not t.subtask]
    priorities = [p.id for p in catalog.PRIORITIES]
    resolutions = [r.id for r in catalog.RESOLUTIONS]
    for _ in range(count):
        project = rnd.choice(projects)
        numbers[project] += 1
        key = f"P{projects.index(project) + 1}-{numbers[project]}"
        created = NOW - SPAN * rnd.random()
        updated = min(created + timedelta(hours=rnd.expovariate(1 / 200)), NOW)
        status = rnd.choices(statuses, status_weights)[0]
        resolved = status in done
        row = {
            "project_id": project,
            "number": numbers[project],
            "key": key,
            "summary": writer.sentence()[:255],
            "description": None if rnd.random() < 0.1 else writer.words(15, 60),
            "issuetype_id": rnd.choice(types),
            "status_id": status,
            "priority_id": None if rnd.random() < 0.05 else rnd.choice(priorities),
            "resolution_id": rnd.choice(resolutions) if resolved else None,
            "assignee_id": None if rnd.random() < 0.15 else rnd.choice(users),
            "reporter_id": rnd.choice(users),
            "creator_id": rnd.choice(users),
            "created_at": created,
            "updated_at": updated,
            "resolved_at": updated if resolved else None,
            "due_date": (created + timedelta(days=rnd.randint(1, 90))).date()
            if rnd.random() < 0.3
            else None,
        }
        labels = rnd.sample(LABELS, rnd.choice((0, 0, 1, 1, 2, 3)))
        yield row, labels


def seed(url: str, issues: int = 100_000, projects: int = 10, users: int = 50) -> None:
    """Migrate ``url`` and fill it with ``issues`` issues (existing issues are deleted)."""
    run_migrations(url)
    engine = create_engine(driver_urls(url)[1])
    try:
        _seed(engine, issues, projects, users)
    finally:
        engine.dispose()


def _seed(engine: Engine, issues: int, project_count: int, user_count: int) -> None:
    writer = Writer(seed=20260101)
    with engine.begin() as connection:
        for table in (*ISSUE_ROWS, Comment, IssueLabel, Issue, Version, Component, Project):
            connection.execute(delete(table))
        connection.execute(delete(User).where(User.lower_name.like("bench%")))
        connection.execute(
            insert(User),
            [
                {
                    "name": f"bench{n}",
                    "lower_name": f"bench{n}",
                    "key": f"bench{n}",
                    "display_name": f"Bench User {n}",
                    "email": f"bench{n}@example.com",
                }
                for n in range(1, user_count + 1)
            ],
        )
        connection.execute(
            insert(Project),
            [
                {"key": f"P{n}", "name": f"Project {n}", "description": "", "issue_counter": 0}
                for n in range(1, project_count + 1)
            ],
        )
        user_ids = list(connection.scalars(select(User.id).where(User.lower_name.like("bench%"))))
        project_ids = list(connection.scalars(select(Project.id).order_by(Project.id)))
        items = _add_items(connection, project_ids)
    with Progress() as progress:
        task = progress.add_task("issues", total=issues)
        rows = _issues(writer, issues, project_ids, user_ids)
        for batch in _batches(({"row": row, "labels": labels} for row, labels in rows)):
            _insert_batch(engine, writer, batch, user_ids, items)
            progress.advance(task, len(batch))
    with engine.begin() as connection:
        # Each issue is watched by its reporter, as one created through the API is.
        reporters = select(Issue.id, Issue.reporter_id).where(Issue.reporter_id.is_not(None))
        connection.execute(insert(issue_watchers).from_select(["issue_id", "user_id"], reporters))
        for project_id in project_ids:
            last = select(func.max(Issue.number)).where(Issue.project_id == project_id)
            connection.execute(
                update(Project)
                .where(Project.id == project_id)
                .values(issue_counter=func.coalesce(last.scalar_subquery(), 0))
            )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")


def _add_items(connection: Any, projects: list[int]) -> dict[int, tuple[list[int], list[int]]]:
    """Each project's versions and components: project id -> (version ids, component ids)."""
    half = VERSIONS_PER_PROJECT // 2
    connection.execute(
        insert(Version),
        [
            {
                "project_id": project,
                "name": f"{n}.0",
                "lower_name": f"{n}.0",
                "description": "",
                "archived": False,
                "released": n <= half,
                "sequence": n,
            }
            for project in projects
            for n in range(1, VERSIONS_PER_PROJECT + 1)
        ],
    )
    connection.execute(
        insert(Component),
        [
            {
                "project_id": project,
                "name": name,
                "lower_name": name.lower(),
                "description": "",
                "assignee_type": "PROJECT_DEFAULT",
            }
            for project in projects
            for name in COMPONENTS
        ],
    )
    found: dict[int, tuple[list[int], list[int]]] = {p: ([], []) for p in projects}
    for project, ident in connection.execute(
        select(Version.project_id, Version.id).order_by(Version.id)
    ):
        found[project][0].append(ident)
    for project, ident in connection.execute(
        select(Component.project_id, Component.id).order_by(Component.id)
    ):
        found[project][1].append(ident)
    return found


def _item_rows(
    rnd: random.Random,
    ids: list[int],
    batch: list[dict[str, Any]],
    items: dict[int, tuple[list[int], list[int]]],
) -> tuple[list[dict[str, int]], list[dict[str, int]], list[dict[str, int]]]:
    """Rows naming versions and components: 40% of issues have a fix version, 15% an
    affected version, 60% one or two components."""
    fixed, affected, parts = [], [], []
    for ident, item in zip(ids, batch, strict=True):
        versions, components = items[item["row"]["project_id"]]
        if rnd.random() < 0.4:
            fixed.append({"issue_id": ident, "version_id": rnd.choice(versions)})
        if rnd.random() < 0.15:
            affected.append({"issue_id": ident, "version_id": rnd.choice(versions)})
        if rnd.random() < 0.6:
            for component in rnd.sample(components, rnd.choice((1, 1, 2))):
                parts.append({"issue_id": ident, "component_id": component})
    return fixed, affected, parts


def _insert_batch(
    engine: Engine,
    writer: Writer,
    batch: list[dict[str, Any]],
    users: list[int],
    items: dict[int, tuple[list[int], list[int]]],
) -> None:
    rnd = writer.random
    with engine.begin() as connection:
        ids = connection.scalars(
            insert(Issue).returning(Issue.id, sort_by_parameter_order=True),
            [item["row"] for item in batch],
        ).all()
        labels = [
            {"issue_id": ident, "label": label}
            for ident, item in zip(ids, batch, strict=True)
            for label in item["labels"]
        ]
        if labels:
            connection.execute(insert(IssueLabel), labels)
        comments = [
            {
                "issue_id": ident,
                "author_id": rnd.choice(users),
                "body": writer.words(5, 30),
                "created_at": item["row"]["updated_at"],
                "updated_at": item["row"]["updated_at"],
            }
            for ident, item in zip(ids, batch, strict=True)
            if rnd.random() < 0.3
        ]
        if comments:
            connection.execute(insert(Comment), comments)
        tables = (issue_fix_versions, issue_affected_versions, issue_components)
        for table, rows in zip(tables, _item_rows(rnd, ids, batch, items), strict=True):
            if rows:
                connection.execute(insert(table), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="database URL, e.g. sqlite:///bench.db")
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--projects", type=int, default=10)
    parser.add_argument("--users", type=int, default=50)
    arguments = parser.parse_args()
    seed(arguments.url, arguments.issues, arguments.projects, arguments.users)


if __name__ == "__main__":
    main()
