"""``search_issues`` on real databases: which issues each query finds, in which order.

One conformance run per database (SQLite and PostgreSQL, the ``database_url`` fixture).
Each test seeds ``dataset`` once and checks a table of queries against it; a failure lists
every query that went wrong. Field semantics follow Atlassian's JQL fields, operators and
functions references (docs/jira-compat.md §7); messages follow §6 there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, update

from jiraguard.jira.jql import JQLError, search_issues
from jiraguard.store.db import Database
from jiraguard.store.models import Comment, Issue
from tests.jql.dataset import ALL, NOW, Seeded, seed

pytestmark = pytest.mark.anyio


@dataclass
class SearchDB:
    database: Database
    seeded: Seeded

    def placeholders(self) -> dict[str, int]:
        """``{BETA}`` is BETA's project id, ``{id_ALPHA_3}`` the id of ALPHA-3."""
        ids = {"id_" + key.replace("-", "_"): ident for key, ident in self.seeded.issues.items()}
        return {**self.seeded.projects, **ids}

    async def search(
        self, jql: str, *, user: str | None = "bob", start_at: int = 0, max_results: int = 50
    ) -> tuple[int, list[int]]:
        async with self.database.session() as session:
            return await search_issues(
                session,
                jql.format(**self.placeholders()),
                current_user_id=self.seeded.users[user] if user else None,
                start_at=start_at,
                max_results=max_results,
                now=NOW,
            )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[SearchDB]:
    database = Database(database_url)
    try:
        yield SearchDB(database, await seed(database))
    finally:
        await database.close()


Case = tuple[str, list[str]]


async def check(db: SearchDB, cases: list[Case], *, user: str | None = "bob") -> None:
    """Run every case; fail once, listing each query whose keys or total differ."""
    wrong = []
    for jql, expected in cases:
        total, ids = await db.search(jql, user=user)
        found = db.seeded.keys(ids)
        if (total, found) != (len(expected), expected):
            wrong.append(f"{jql!r}: expected {expected}, found {found} (total {total})")
    assert not wrong, "\n".join(wrong)


async def test_empty_query_finds_every_issue_newest_first(db: SearchDB) -> None:
    """Empty JQL means all issues; the default order is created DESC (then id DESC)."""
    await check(db, [("", ALL), ("   ", ALL), ("ORDER BY created DESC", ALL)])


async def test_project_and_issue_key(db: SearchDB) -> None:
    await check(
        db,
        [
            ("project = ALPHA", ["ALPHA-5", "ALPHA-2", "ALPHA-1", "ALPHA-3", "ALPHA-4"]),
            ("project = alpha", ["ALPHA-5", "ALPHA-2", "ALPHA-1", "ALPHA-3", "ALPHA-4"]),
            ('project = "Beta Suite"', ["BETA-1", "BETA-3", "BETA-2"]),
            ("project = {BETA}", ["BETA-1", "BETA-3", "BETA-2"]),
            ("project != ALPHA", ["BETA-1", "BETA-3", "BETA-2"]),
            ("project not in (ALPHA)", ["BETA-1", "BETA-3", "BETA-2"]),
            ("project in (ALPHA, BETA)", ALL),
            ("key = ALPHA-2", ["ALPHA-2"]),
            ("issuekey = alpha-2", ["ALPHA-2"]),
            ("key in (ALPHA-1, BETA-3)", ["BETA-3", "ALPHA-1"]),
            ("key > ALPHA-3", ["ALPHA-5", "ALPHA-4"]),
            ("key <= ALPHA-2 ORDER BY key", ["ALPHA-1", "ALPHA-2"]),
            ("id = {id_ALPHA_3}", ["ALPHA-3"]),
            ("key != ALPHA-1 AND project = ALPHA", ["ALPHA-5", "ALPHA-2", "ALPHA-3", "ALPHA-4"]),
        ],
    )


async def test_status_type_priority_resolution(db: SearchDB) -> None:
    await check(
        db,
        [
            ("status = Open", ["BETA-1", "BETA-3", "ALPHA-1"]),
            ('status = "in progress"', ["ALPHA-2", "BETA-2"]),
            ("status in (Resolved, Closed)", ["ALPHA-3", "ALPHA-4"]),
            ("status = 4", ["ALPHA-5"]),
            ("status != Open", ["ALPHA-5", "ALPHA-2", "ALPHA-3", "ALPHA-4", "BETA-2"]),
            ("statusCategory = Done", ["ALPHA-3", "ALPHA-4"]),
            ('statusCategory = "To Do"', ["BETA-1", "ALPHA-5", "BETA-3", "ALPHA-1"]),
            ("statusCategory = indeterminate", ["ALPHA-2", "BETA-2"]),
            ("type = Bug", ["BETA-1", "BETA-3", "ALPHA-1", "ALPHA-3"]),
            ('issuetype in ("New Feature", Improvement)', ["ALPHA-5", "ALPHA-2"]),
            ("priority = High", ["BETA-3", "ALPHA-1"]),
            ("priority > Medium", ["BETA-3", "ALPHA-1", "ALPHA-3"]),
            ("priority <= Low", ["ALPHA-4", "BETA-2"]),
            ("priority is EMPTY", ["ALPHA-5"]),
            (
                "priority is not empty AND priority >= Medium ORDER BY priority DESC, key",
                ["ALPHA-3", "ALPHA-1", "BETA-3", "ALPHA-2", "BETA-1"],
            ),
            (
                "resolution = Unresolved",
                ["BETA-1", "ALPHA-5", "BETA-3", "ALPHA-2", "ALPHA-1", "BETA-2"],
            ),
            ("resolution is not empty", ["ALPHA-3", "ALPHA-4"]),
            ("resolution = Fixed", ["ALPHA-3"]),
            (
                "resolution in (Done, Unresolved) AND project = ALPHA",
                ["ALPHA-5", "ALPHA-2", "ALPHA-1", "ALPHA-4"],
            ),
        ],
    )


async def test_users_and_current_user(db: SearchDB) -> None:
    """User values are user names in any case; currentUser() is the caller (here bob)."""
    await check(
        db,
        [
            ("assignee = alice", ["BETA-3", "ALPHA-1", "ALPHA-3"]),
            ("assignee = ALICE", ["BETA-3", "ALPHA-1", "ALPHA-3"]),
            ("assignee = currentUser()", ["ALPHA-2"]),
            (
                "assignee != currentUser() OR assignee is EMPTY",
                ["BETA-1", "ALPHA-5", "BETA-3", "ALPHA-1", "ALPHA-3", "ALPHA-4", "BETA-2"],
            ),
            ("assignee is EMPTY", ["ALPHA-4", "BETA-2"]),
            ("assignee = EMPTY", ["ALPHA-4", "BETA-2"]),
            ("assignee in (bob, carol)", ["BETA-1", "ALPHA-5", "ALPHA-2"]),
            ("assignee not in (alice, EMPTY)", ["BETA-1", "ALPHA-5", "ALPHA-2"]),
            ("reporter = bob", ["ALPHA-5", "BETA-3", "ALPHA-1"]),
            ("creator = carol", ["ALPHA-3", "BETA-2"]),
            (
                "assignee in membersOf(developers)",
                ["BETA-1", "ALPHA-5", "BETA-3", "ALPHA-1", "ALPHA-3"],
            ),
            ('reporter not in membersOf("Developers")', ["ALPHA-5", "BETA-3", "ALPHA-1"]),
            ("assignee in membersOf(empty-team)", []),
            ("assignee in (membersOf(empty-team), bob, EMPTY)", ["ALPHA-2", "ALPHA-4", "BETA-2"]),
        ],
    )


async def test_current_user_when_anonymous_names_nobody(db: SearchDB) -> None:
    await check(
        db,
        [
            ("assignee = currentUser()", []),
            (
                "assignee != currentUser()",
                ["BETA-1", "ALPHA-5", "BETA-3", "ALPHA-2", "ALPHA-1", "ALPHA-3"],
            ),
        ],
        user=None,
    )


async def test_labels(db: SearchDB) -> None:
    """``labels != x`` skips issues without labels, as Jira does."""
    await check(
        db,
        [
            ("labels = urgent", ["ALPHA-5", "ALPHA-1"]),
            ("labels in (backend, performance)", ["BETA-1", "ALPHA-5", "BETA-3", "ALPHA-3"]),
            ("labels is EMPTY", ["ALPHA-4", "BETA-2"]),
            ("labels != frontend", ["BETA-1", "ALPHA-5", "BETA-3", "ALPHA-3"]),
            ("labels in (frontend, EMPTY)", ["ALPHA-2", "ALPHA-1", "ALPHA-4", "BETA-2"]),
        ],
    )


async def test_text_search_is_word_based(db: SearchDB) -> None:
    """``~`` needs every word, in any order and case; ``word*`` is a prefix."""
    await check(
        db,
        [
            ("summary ~ login", ["BETA-3", "ALPHA-1"]),
            ("text ~ login", ["BETA-3", "ALPHA-1", "ALPHA-4"]),
            ('description ~ "crash"', ["ALPHA-5", "ALPHA-1"]),
            ('text ~ "crash*"', ["ALPHA-5", "ALPHA-1", "ALPHA-3", "BETA-2"]),
            ("comment ~ crash", ["BETA-2"]),
            ('summary ~ "LOGIN timeout"', ["BETA-3"]),
            ('summary ~ "timeout login"', ["BETA-3"]),
            ('text ~ "migration timeout"', ["ALPHA-3"]),
            ('summary ~ "café"', ["BETA-2"]),
            ("summary !~ login AND project = BETA", ["BETA-1", "BETA-2"]),
            ("description is EMPTY", ["ALPHA-2"]),
            ('text ~ "search*"', ["BETA-1"]),
            ('summary ~ "crash reporter"', ["ALPHA-5"]),
            ("summary ~ crash", ["ALPHA-5"]),
            ("text ~ login ORDER BY summary", ["ALPHA-1", "BETA-3", "ALPHA-4"]),
            ('text ~ "crash*" ORDER BY key DESC', ["BETA-2", "ALPHA-5", "ALPHA-3", "ALPHA-1"]),
            ("text ~ login AND text !~ timeout", ["ALPHA-1", "ALPHA-4"]),
            ("comment !~ crash AND project = BETA", ["BETA-1", "BETA-3"]),
            ("""summary ~ '"login page"'""", ["ALPHA-1"]),
            ("""summary ~ '"page login"'""", []),
            (r'text ~ "\"migration crash*\""', ["ALPHA-3"]),
            ("""text ~ '"the crash"'""", ["ALPHA-1", "BETA-2"]),
            ('description ~ "parser.py"', ["ALPHA-4"]),
            ('description ~ "flow parser.py"', ["ALPHA-4"]),
            ('description ~ "parser.js"', []),
        ],
    )


async def test_dates_and_date_functions(db: SearchDB) -> None:
    """NOW is Wed 2026-03-18 12:00 UTC; relative dates and functions count from it."""
    await check(
        db,
        [
            ("created >= -2d", ["BETA-1", "ALPHA-5", "BETA-3"]),
            ("created > -2d", ["BETA-1", "ALPHA-5"]),
            ("created < -3w", ["ALPHA-4", "BETA-2"]),
            ('created >= "2026-02-26" AND created < "2026/03/09"', ["ALPHA-1", "ALPHA-3"]),
            ('created = "2026-01-05"', ["BETA-2"]),
            ('created = "2026-01-05 08:30"', ["BETA-2"]),
            ('created > "2026/01/05 08:30"', ALL[:-1]),
            ("created >= startOfDay()", ["BETA-1"]),
            ("created >= startOfDay(-1d)", ["BETA-1", "ALPHA-5"]),
            ("created >= startOfWeek()", ["BETA-1", "ALPHA-5", "BETA-3"]),
            (
                "created >= startOfMonth() AND created <= endOfMonth()",
                ["BETA-1", "ALPHA-5", "BETA-3", "ALPHA-2", "ALPHA-1"],
            ),
            ("created < startOfMonth(-1)", ["BETA-2"]),
            ("created <= endOfDay(-1d)", ALL[1:]),
            ("updated > -2h", ["ALPHA-4"]),
            ("resolutiondate >= -3d", ["ALPHA-3"]),
            ("resolved is empty", ["BETA-1", "ALPHA-5", "BETA-3", "ALPHA-2", "ALPHA-1", "BETA-2"]),
            ("duedate < now()", ["ALPHA-5", "ALPHA-1"]),
            ("duedate >= now()", ["BETA-3", "ALPHA-2"]),
            ("duedate = 2026-03-18", ["ALPHA-5"]),
            ("duedate <= endOfWeek()", ["ALPHA-5", "BETA-3", "ALPHA-2", "ALPHA-1"]),
            (
                "duedate < now() or duedate is empty",
                ["BETA-1", "ALPHA-5", "ALPHA-1", "ALPHA-3", "ALPHA-4", "BETA-2"],
            ),
            ("due > 2026-03-19", ["ALPHA-2"]),
        ],
    )


async def test_and_or_not_and_parentheses(db: SearchDB) -> None:
    """AND binds tighter than OR; keywords and field names in any case."""
    await check(
        db,
        [
            (
                "project = ALPHA AND status = Open OR project = BETA AND status = Open",
                ["BETA-1", "BETA-3", "ALPHA-1"],
            ),
            (
                "project = BETA OR status = Closed AND assignee is EMPTY",
                ["BETA-1", "BETA-3", "ALPHA-4", "BETA-2"],
            ),
            ("(project = BETA OR status = Closed) AND assignee is EMPTY", ["ALPHA-4", "BETA-2"]),
            ("NOT project = ALPHA", ["BETA-1", "BETA-3", "BETA-2"]),
            ("not (status = Open or labels = backend)", ["ALPHA-2", "ALPHA-4", "BETA-2"]),
            ("status = Open && assignee = alice", ["BETA-3", "ALPHA-1"]),
            ("PROJECT = alpha and Status = OPEN", ["ALPHA-1"]),
        ],
    )


async def test_order_by(db: SearchDB) -> None:
    """Empty values sort last ascending and first descending; catalog fields by sequence."""
    await check(
        db,
        [
            ("order by created asc", ALL[::-1]),
            (
                "project = ALPHA order by updated desc",
                ["ALPHA-4", "ALPHA-5", "ALPHA-2", "ALPHA-1", "ALPHA-3"],
            ),
            (
                "ORDER BY key",
                [
                    "ALPHA-1",
                    "ALPHA-2",
                    "ALPHA-3",
                    "ALPHA-4",
                    "ALPHA-5",
                    "BETA-1",
                    "BETA-2",
                    "BETA-3",
                ],
            ),
            (
                "order by key desc",
                [
                    "BETA-3",
                    "BETA-2",
                    "BETA-1",
                    "ALPHA-5",
                    "ALPHA-4",
                    "ALPHA-3",
                    "ALPHA-2",
                    "ALPHA-1",
                ],
            ),
            (
                "project = ALPHA order by priority desc",
                ["ALPHA-5", "ALPHA-3", "ALPHA-1", "ALPHA-2", "ALPHA-4"],
            ),
            (
                "project = ALPHA order by priority asc",
                ["ALPHA-4", "ALPHA-2", "ALPHA-1", "ALPHA-3", "ALPHA-5"],
            ),
            (
                "order by status, key",
                [
                    "ALPHA-1",
                    "BETA-1",
                    "BETA-3",
                    "ALPHA-2",
                    "BETA-2",
                    "ALPHA-5",
                    "ALPHA-3",
                    "ALPHA-4",
                ],
            ),
            (
                "order by assignee, key",
                [
                    "ALPHA-1",
                    "ALPHA-3",
                    "BETA-3",
                    "ALPHA-2",
                    "ALPHA-5",
                    "BETA-1",
                    "ALPHA-4",
                    "BETA-2",
                ],
            ),
            (
                "order by duedate, key",
                [
                    "ALPHA-1",
                    "ALPHA-5",
                    "BETA-3",
                    "ALPHA-2",
                    "ALPHA-3",
                    "ALPHA-4",
                    "BETA-1",
                    "BETA-2",
                ],
            ),
            (
                "order by summary",
                [
                    "ALPHA-2",
                    "BETA-2",
                    "ALPHA-5",
                    "ALPHA-3",
                    "ALPHA-1",
                    "BETA-3",
                    "BETA-1",
                    "ALPHA-4",
                ],
            ),
            (
                "order by issuetype, key",
                [
                    "ALPHA-1",
                    "ALPHA-3",
                    "BETA-1",
                    "BETA-3",
                    "ALPHA-2",
                    "ALPHA-4",
                    "BETA-2",
                    "ALPHA-5",
                ],
            ),
            (
                "order by resolutiondate desc, key",
                [
                    "ALPHA-1",
                    "ALPHA-2",
                    "ALPHA-5",
                    "BETA-1",
                    "BETA-2",
                    "BETA-3",
                    "ALPHA-3",
                    "ALPHA-4",
                ],
            ),
            (
                "order by project, created",
                [
                    "ALPHA-4",
                    "ALPHA-3",
                    "ALPHA-1",
                    "ALPHA-2",
                    "ALPHA-5",
                    "BETA-2",
                    "BETA-3",
                    "BETA-1",
                ],
            ),
        ],
    )


@pytest.mark.parametrize(
    ("jql", "start_at", "max_results", "total", "expected"),
    [
        ("", 0, 3, 8, ALL[0:3]),
        ("", 3, 3, 8, ALL[3:6]),
        ("", 6, 3, 8, ALL[6:]),
        ("", 8, 3, 8, []),
        ("", 0, 0, 8, []),
        ("project = ALPHA ORDER BY key", 1, 2, 5, ["ALPHA-2", "ALPHA-3"]),
        ("status = Open", 2, 50, 3, ["ALPHA-1"]),
        ("text ~ login", 1, 1, 3, ["ALPHA-1"]),
    ],
)
async def test_paging_and_exact_total(
    db: SearchDB, jql: str, start_at: int, max_results: int, total: int, expected: list[str]
) -> None:
    found_total, ids = await db.search(jql, start_at=start_at, max_results=max_results)
    assert (found_total, db.seeded.keys(ids)) == (total, expected)


ERRORS = [
    ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
    ("assignee = zed", "The value 'zed' does not exist for the field 'assignee'."),
    ("status = Nope", "The value 'Nope' does not exist for the field 'status'."),
    ("type = Nope", "The value 'Nope' does not exist for the field 'issuetype'."),
    ("priority in (High, Nope)", "The value 'Nope' does not exist for the field 'priority'."),
    ("resolution = Nope", "The value 'Nope' does not exist for the field 'resolution'."),
    ("foo = bar", "Field 'foo' does not exist or you do not have permission to view it."),
    ("status ~ Open", "The operator '~' is not supported by the 'status' field."),
    ("summary = x", "The operator '=' is not supported by the 'summary' field."),
    ("labels > a", "The operator '>' is not supported by the 'labels' field."),
    ("text is empty", "The operator 'is' is not supported by the 'text' field."),
    ("order by foo", "Not able to sort using field 'foo'."),
    ("status = foo()", "Unable to find JQL function 'foo()'."),
    (
        "assignee in membersOf(nobody)",
        "Function 'membersOf' can not generate a list of usernames for group 'nobody'; "
        "the group does not exist.",
    ),
    (
        "assignee = now()",
        "A value provided by the function 'now' is invalid for the field 'assignee'.",
    ),
    ("summary ~ '!!'", "The field 'summary' does not support searching for an empty string."),
    (
        "summary ~ '*ash'",
        "The text query '*ash' for field 'summary' is not allowed to start with a wildcard.",
    ),
    ("key = foo", "The issue key 'foo' for field 'key' is invalid."),
    (
        "created > yesterday",
        "Date value 'yesterday' for field 'created' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
        "format e.g. '-5d', '4w 2d'.",
    ),
]


async def test_errors_carry_jiras_messages(db: SearchDB) -> None:
    wrong = []
    for jql, message in ERRORS:
        try:
            await db.search(jql)
        except JQLError as exc:
            if str(exc) != message:
                wrong.append(f"{jql!r}: {exc}")
        else:
            wrong.append(f"{jql!r}: no error")
    assert not wrong, "\n".join(wrong)


async def test_text_index_follows_edits_and_deletes(db: SearchDB) -> None:
    """The full-text index (FTS5 triggers on SQLite) sees updates and deletions at once."""
    async with db.database.transaction() as session:
        await session.execute(
            update(Issue).where(Issue.key == "ALPHA-2").values(summary="Add zebra mode")
        )
        await session.execute(update(Comment).values(body="all good now"))
        await session.execute(delete(Issue).where(Issue.key == "BETA-3"))
    await check(
        db,
        [
            ("summary ~ zebra", ["ALPHA-2"]),
            ("summary ~ dark", []),
            ("summary ~ timeout", []),
            ("comment ~ crash", []),
            ("comment ~ good", ["BETA-2"]),
            ("text ~ login", ["ALPHA-1", "ALPHA-4"]),
        ],
    )
