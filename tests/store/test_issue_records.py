"""Issue records (``store.issue_records``): what the ORM entities hold, column for column.

Issue GET and search render records read with Core statements instead of ORM entities; the
JSON is only the same if every value is. Checked against the entities on SQLite (through a
unit in a worker thread, as the routes read) and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.db import Database
from jiraguard.store.issue_records import (
    IssueRecord,
    PersonRecord,
    find_issue_record,
    issue_records,
)
from jiraguard.store.models import Issue, Project, User
from tests.jql.dataset import Seeded, seed

pytestmark = pytest.mark.anyio


@pytest.fixture
async def seeded(database_url: str) -> AsyncIterator[tuple[Database, Seeded]]:
    database = Database(database_url)
    try:
        data = await seed(database)
        async with database.transaction() as session:
            # One project with a lead, one without; an inactive user with an e-mail address.
            await session.execute(
                update(Project).where(Project.key == "ALPHA").values(lead_id=data.users["bob"])
            )
            await session.execute(
                update(User)
                .where(User.id == data.users["bob"])
                .values(active=False, email="bob@example.test")
            )
        yield database, data
    finally:
        await database.close()


def _person(user: User | None) -> PersonRecord | None:
    if user is None:
        return None
    return PersonRecord(user.id, user.name, user.key, user.display_name, user.email, user.active)


def _as_entity_says(issue: Issue) -> dict[str, object]:
    project = issue.project
    return {
        "id": issue.id,
        "key": issue.key,
        "summary": issue.summary,
        "description": issue.description,
        "issuetype_id": issue.issuetype_id,
        "status_id": issue.status_id,
        "priority_id": issue.priority_id,
        "resolution_id": issue.resolution_id,
        "created_at": issue.created_at,
        "updated_at": issue.updated_at,
        "resolved_at": issue.resolved_at,
        "due_date": issue.due_date,
        "project": (
            project.id,
            project.key,
            project.name,
            project.description,
            project.project_type_key,
            _person(project.lead),
        ),
        "assignee": _person(issue.assignee),
        "reporter": _person(issue.reporter),
        "creator": _person(issue.creator),
        "labels": tuple(row.label for row in issue.labels),
    }


def _as_record_says(record: IssueRecord) -> dict[str, object]:
    project = record.project
    said: dict[str, object] = {
        name: getattr(record, name)
        for name in (
            "id",
            "key",
            "summary",
            "description",
            "issuetype_id",
            "status_id",
            "priority_id",
            "resolution_id",
            "created_at",
            "updated_at",
            "resolved_at",
            "due_date",
            "assignee",
            "reporter",
            "creator",
            "labels",
        )
    }
    said["project"] = (
        project.id,
        project.key,
        project.name,
        project.description,
        project.project_type_key,
        project.lead,
    )
    return said


async def test_records_hold_what_the_entities_hold(seeded: tuple[Database, Seeded]) -> None:
    database, data = seeded
    ids = sorted(data.issues.values(), reverse=True)  # an order that is not the table's

    async def records(session: AsyncSession) -> list[IssueRecord]:
        return await issue_records(session, [*ids, 999_999])  # a missing id is skipped

    read = await database.run(records)
    async with database.session() as session:
        entities = (await session.scalars(select(Issue).where(Issue.id.in_(ids)))).unique()
        expected = {issue.id: _as_entity_says(issue) for issue in entities}
    assert [record.id for record in read] == ids
    assert [_as_record_says(record) for record in read] == [expected[i] for i in ids]
    assert any(record.labels for record in read)
    assert any(record.project.lead is not None for record in read)
    assert any(record.assignee is None for record in read)


async def test_one_record_by_key_or_id_as_find_issue_finds_it(
    seeded: tuple[Database, Seeded],
) -> None:
    database, data = seeded
    ident = data.issues["BETA-2"]

    async def found(session: AsyncSession) -> list[IssueRecord | None]:
        return [
            await find_issue_record(session, name)
            for name in ("beta-2", "BETA-2", str(ident), "BETA-999", "9" * 30, "0")
        ]

    by_key, upper, by_id, *missing = await database.run(found)
    assert by_key is not None
    assert by_key.id == ident
    assert upper == by_key
    assert by_id == by_key
    assert missing == [None, None, None]
