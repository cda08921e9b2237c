"""A small, fully known set of issues for the JQL tests, seeded through the ORM.

``NOW`` is Wednesday 2026-03-18 12:00 UTC; the week started on Monday 2026-03-16.

key      type         status       prio     resol.  assignee  reporter  labels            created
ALPHA-1  Bug          Open         High             alice     bob       frontend, urgent  NOW-10d
ALPHA-2  New Feature  In Progress  Medium           bob       alice     frontend          NOW-5d
ALPHA-3  Bug          Resolved     Highest  Fixed   alice     carol     backend           NOW-20d
ALPHA-4  Task         Closed       Low      Done              alice                       NOW-30d
ALPHA-5  Improvement  Reopened                      carol     bob       backend, urgent   NOW-1d
BETA-1   Bug          Open         Medium           carol     alice     performance       NOW-3h
BETA-2   Task         In Progress  Lowest                     carol                       2026-01-05
BETA-3   Bug          Open         High             alice     bob       backend           NOW-2d

Due: ALPHA-1 2026-03-10, ALPHA-2 2026-03-20, ALPHA-5 2026-03-18, BETA-3 2026-03-19.
BETA-2 was created at 08:30 UTC. Updated is created + 1h, except ALPHA-4 (NOW - 1h).
Resolved: ALPHA-3 NOW - 2d, ALPHA-4 NOW - 25d. The creator is the reporter.
BETA-2 has the comments "the crash happens weekly" and "crash seen again".
Group "Developers": alice and carol; group "empty-team": nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from jiraguard.jira import catalog
from jiraguard.store.db import Database
from jiraguard.store.models import Comment, Group, Issue, IssueLabel, Project, User

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)

ALL = ["BETA-1", "ALPHA-5", "BETA-3", "ALPHA-2", "ALPHA-1", "ALPHA-3", "ALPHA-4", "BETA-2"]
"""Every key in the default order (created DESC)."""

USERS = {"alice": "Alice Archer", "bob": "Bob Baker", "carol": "Carol Cruz"}
PROJECTS = {"ALPHA": "Alpha Project", "BETA": "Beta Suite"}


def _status(name: str) -> int:
    found = catalog.by_name(catalog.STATUSES, name)
    assert found is not None
    return found.id


def _named(items: tuple[catalog.Named, ...], name: str | None) -> int | None:
    if name is None:
        return None
    found = catalog.by_name(items, name)
    assert found is not None
    return found.id


@dataclass(frozen=True)
class Row:
    key: str
    summary: str
    description: str | None
    type: str
    status: str
    priority: str | None
    resolution: str | None
    assignee: str | None
    reporter: str
    labels: tuple[str, ...]
    created: datetime
    due: date | None = None
    updated: datetime | None = None
    resolved: datetime | None = None


ROWS = [
    Row(
        "ALPHA-1",
        "Login page crashes on submit",
        "Stack trace attached for the crash",
        "Bug",
        "Open",
        "High",
        None,
        "alice",
        "bob",
        ("frontend", "urgent"),
        NOW - timedelta(days=10),
        due=date(2026, 3, 10),
    ),
    Row(
        "ALPHA-2",
        "Add dark mode",
        None,
        "New Feature",
        "In Progress",
        "Medium",
        None,
        "bob",
        "alice",
        ("frontend",),
        NOW - timedelta(days=5),
        due=date(2026, 3, 20),
    ),
    Row(
        "ALPHA-3",
        "Database migration fails",
        "The migration crashes with a timeout",
        "Bug",
        "Resolved",
        "Highest",
        "Fixed",
        "alice",
        "carol",
        ("backend",),
        NOW - timedelta(days=20),
        resolved=NOW - timedelta(days=2),
    ),
    Row(
        "ALPHA-4",
        "Update documentation",
        "Docs for the login flow in parser.py",
        "Task",
        "Closed",
        "Low",
        "Done",
        None,
        "alice",
        (),
        NOW - timedelta(days=30),
        updated=NOW - timedelta(hours=1),
        resolved=NOW - timedelta(days=25),
    ),
    Row(
        "ALPHA-5",
        "Crash reporter integration",
        "Send crash reports",
        "Improvement",
        "Reopened",
        None,
        None,
        "carol",
        "bob",
        ("backend", "urgent"),
        NOW - timedelta(days=1),
        due=date(2026, 3, 18),
    ),
    Row(
        "BETA-1",
        "Slow search results",
        "Searching takes ten seconds",
        "Bug",
        "Open",
        "Medium",
        None,
        "carol",
        "alice",
        ("performance",),
        NOW - timedelta(hours=3),
    ),
    Row(
        "BETA-2",
        "Café menu translation",
        "Translate the menu",
        "Task",
        "In Progress",
        "Lowest",
        None,
        None,
        "carol",
        (),
        datetime(2026, 1, 5, 8, 30, tzinfo=UTC),
    ),
    Row(
        "BETA-3",
        "Login timeout",
        "Users are logged out",
        "Bug",
        "Open",
        "High",
        None,
        "alice",
        "bob",
        ("backend",),
        NOW - timedelta(days=2),
        due=date(2026, 3, 19),
    ),
]


@dataclass(frozen=True)
class Seeded:
    """Ids of what ``seed`` created, by user name, project key and issue key."""

    users: dict[str, int]
    projects: dict[str, int]
    issues: dict[str, int]

    def keys(self, ids: list[int]) -> list[str]:
        by_id = {ident: key for key, ident in self.issues.items()}
        return [by_id[ident] for ident in ids]


async def seed(database: Database) -> Seeded:
    """Create the users, projects, issues, labels and comment of the table above."""
    async with database.transaction() as session:
        users = {
            name: User(name=name, lower_name=name, key=name, display_name=display)
            for name, display in USERS.items()
        }
        projects = {key: Project(key=key, name=name) for key, name in PROJECTS.items()}
        developers = Group(name="Developers", lower_name="developers")
        users["alice"].groups = [developers]
        users["carol"].groups = [developers]
        session.add_all([*users.values(), *projects.values(), developers])
        session.add(Group(name="empty-team", lower_name="empty-team"))
        await session.flush()
        issues: dict[str, Issue] = {}
        for row in ROWS:
            project_key, _, number = row.key.partition("-")
            project = projects[project_key]
            project.issue_counter = max(project.issue_counter or 0, int(number))
            issue = Issue(
                project_id=project.id,
                number=int(number),
                key=row.key,
                summary=row.summary,
                description=row.description,
                issuetype_id=_named(catalog.ISSUE_TYPES, row.type),
                status_id=_status(row.status),
                priority_id=_named(catalog.PRIORITIES, row.priority),
                resolution_id=_named(catalog.RESOLUTIONS, row.resolution),
                assignee_id=users[row.assignee].id if row.assignee else None,
                reporter_id=users[row.reporter].id,
                creator_id=users[row.reporter].id,
                created_at=row.created,
                updated_at=row.updated or row.created + timedelta(hours=1),
                resolved_at=row.resolved,
                due_date=row.due,
            )
            issue.labels = [IssueLabel(label=label) for label in row.labels]
            session.add(issue)
            issues[row.key] = issue
        await session.flush()
        session.add_all(
            Comment(issue_id=issues["BETA-2"].id, author_id=users["bob"].id, body=body)
            for body in ("the crash happens weekly", "crash seen again")
        )
        return Seeded(
            users={name: user.id for name, user in users.items()},
            projects={key: project.id for key, project in projects.items()},
            issues={key: issue.id for key, issue in issues.items()},
        )
