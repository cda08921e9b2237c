"""Issues as plain records for reading: the columns an issue's JSON shows, and nothing else.

Issue GET and search render issues they never change. Loading them as ORM entities (an
``Issue`` with its project, the project's lead and three users joined, the labels by a second
query) costs the identity map, the instance state and the eager loaders per row: at a page
of 50 that was most of a search's time. Here the same rows are read with Core statements
into frozen records: one statement for the issues with their project and users joined, one
for their labels. The values are those the ORM would give (the same columns, the same type
processing), so the JSON built from them is the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.id_lists import in_ids
from jiraguard.store.ids import is_digits, row_id
from jiraguard.store.models import Issue, IssueLabel, Project, User


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """A user as issues show them (assignee, reporter, creator, a project's lead)."""

    id: int
    name: str
    key: str
    display_name: str
    email: str
    active: bool


@dataclass(frozen=True, slots=True)
class ProjectRecord:
    """A project as an issue's ``project`` field shows it."""

    id: int
    key: str
    name: str
    description: str
    project_type_key: str
    assignee_type: str
    lead: PersonRecord | None


@dataclass(frozen=True, slots=True)
class IssueRecord:
    """An issue's own columns, its project and its users; ``labels`` in label order."""

    id: int
    key: str
    summary: str
    description: str | None
    issuetype_id: int
    status_id: int
    priority_id: int | None
    resolution_id: int | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    due_date: date | None
    original_estimate: int | None
    remaining_estimate: int | None
    time_spent: int | None
    project: ProjectRecord
    assignee: PersonRecord | None
    reporter: PersonRecord | None
    creator: PersonRecord | None
    labels: tuple[str, ...]


_ISSUE = Issue.__table__
_PROJECT = Project.__table__
_LABEL = IssueLabel.__table__
_ISSUE_COLUMNS = (
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
    "original_estimate",
    "remaining_estimate",
    "time_spent",
)
_PROJECT_COLUMNS = ("id", "key", "name", "description", "project_type_key", "assignee_type")
_PERSON_COLUMNS = ("id", "name", "key", "display_name", "email", "active")
_PEOPLE = ("lead", "assignee", "reporter", "creator")


def _issue_query() -> Select[Any]:
    users = {role: User.__table__.alias(role) for role in _PEOPLE}
    columns = [_ISSUE.c[name] for name in _ISSUE_COLUMNS]
    columns += [_PROJECT.c[name] for name in _PROJECT_COLUMNS]
    for table in users.values():
        columns += [table.c[name] for name in _PERSON_COLUMNS]
    joined = _ISSUE.join(_PROJECT, _ISSUE.c.project_id == _PROJECT.c.id)
    joined = joined.outerjoin(users["lead"], _PROJECT.c.lead_id == users["lead"].c.id)
    for role in _PEOPLE[1:]:
        joined = joined.outerjoin(users[role], _ISSUE.c[f"{role}_id"] == users[role].c.id)
    return select(*columns).select_from(joined)


_ISSUES = _issue_query()
"""The issues with their project, the project's lead and their three users: one statement."""
# Built once with their parameters, so a request neither builds nor hashes them again
# (SQLAlchemy keeps a statement's cache key; a statement built per request is hashed whole).
_BY_IDS = _ISSUES.where(in_ids(_ISSUE.c.id, "ids"))
_BY_ID = _ISSUES.where(_ISSUE.c.id == bindparam("id"))
_BY_KEY = _ISSUES.where(_ISSUE.c.key == bindparam("key"))
_LABELS = (
    select(_LABEL.c.issue_id, _LABEL.c.label)
    .where(in_ids(_LABEL.c.issue_id, "keys"))
    .order_by(_LABEL.c.issue_id, _LABEL.c.label)
)


async def issue_records(session: AsyncSession, ids: Sequence[int]) -> list[IssueRecord]:
    """The issues with ``ids``, in that order (missing ones are skipped)."""
    if not ids:
        return []
    return _in_order(await _records(session, _BY_IDS, {"ids": list(ids)}), ids)


async def find_issue_record(session: AsyncSession, id_or_key: str) -> IssueRecord | None:
    """An issue by numeric id or by key (case-insensitive), as ``issues.find_issue`` finds it."""
    if is_digits(id_or_key):
        ident = row_id(id_or_key)
        if ident is None:
            return None
        found = await _records(session, _BY_ID, {"id": ident})
    else:
        found = await _records(session, _BY_KEY, {"key": id_or_key.upper()})
    return found[0] if found else None


def _in_order(records: list[IssueRecord], ids: Sequence[int]) -> list[IssueRecord]:
    by_id = {record.id: record for record in records}
    return [by_id[i] for i in ids if i in by_id]


async def _records(
    session: AsyncSession, query: Select[Any], parameters: dict[str, Any]
) -> list[IssueRecord]:
    rows = (await session.execute(query, parameters)).all()
    if not rows:
        return []
    keys = [row[0] for row in rows]
    labels: dict[int, list[str]] = {key: [] for key in keys}
    for issue_id, label in await session.execute(_LABELS, {"keys": keys}):
        labels[issue_id].append(label)
    people: dict[int, PersonRecord] = {}
    projects: dict[int, ProjectRecord] = {}
    issues_end = len(_ISSUE_COLUMNS)
    project_end = issues_end + len(_PROJECT_COLUMNS)
    width = len(_PERSON_COLUMNS)

    def person(row: Sequence[Any], start: int) -> PersonRecord | None:
        ident = row[start]
        if ident is None:
            return None
        found = people.get(ident)
        if found is None:
            found = people[ident] = PersonRecord(*row[start : start + width])
        return found

    records = []
    for row in rows:
        project = projects.get(row[issues_end])
        if project is None:
            own = zip(_PROJECT_COLUMNS, row[issues_end:project_end], strict=True)
            project = projects[row[issues_end]] = ProjectRecord(
                **dict(own), lead=person(row, project_end)
            )
        assignee, reporter, creator = (
            person(row, project_end + width * n) for n in range(1, len(_PEOPLE))
        )
        records.append(
            IssueRecord(
                **dict(zip(_ISSUE_COLUMNS, row[:issues_end], strict=True)),
                project=project,
                assignee=assignee,
                reporter=reporter,
                creator=creator,
                labels=tuple(labels[row[0]]),
            )
        )
    return records
