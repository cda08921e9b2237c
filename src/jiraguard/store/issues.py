"""Queries on issues: lookup, creation, deletion, and loading what an issue's JSON shows."""

from __future__ import annotations

import operator
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, reduce

from sqlalchemy import (
    ColumnElement,
    Executable,
    Integer,
    case,
    delete,
    exists,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.attachments import attachments_of
from jiraguard.store.comments import PUBLIC, Audience
from jiraguard.store.custom_fields import FieldRecord, IssueValues, custom_values
from jiraguard.store.id_lists import in_ids
from jiraguard.store.ids import is_digits, row_id
from jiraguard.store.issue_items import FIELDS as ITEM_FIELDS
from jiraguard.store.issue_items import NO_ITEMS, IssueItems, issue_items
from jiraguard.store.issue_people import FIELDS as PEOPLE_FIELDS
from jiraguard.store.issue_people import NOBODY, TALLIES, IssuePeople, issue_people, people_of
from jiraguard.store.issue_records import IssueRecord, issue_records
from jiraguard.store.models import (
    Attachment,
    ChangeGroup,
    ChangeItem,
    Comment,
    Issue,
    IssueLabel,
    IssueLink,
    Project,
    User,
    Worklog,
    issue_affected_versions,
    issue_components,
    issue_fix_versions,
    utcnow,
)
from jiraguard.store.projects import next_issue_number


@dataclass(frozen=True, slots=True)
class Change:
    """One changed field, as Jira's changelog records it (ids and display strings)."""

    field: str
    from_value: str | None
    from_string: str | None
    to_value: str | None
    to_string: str | None
    field_type: str | None = None
    """``custom`` for a custom field (Jira's ``fieldtype``); None for a system field."""


@dataclass(frozen=True, slots=True)
class LinkedIssue:
    """One link of an issue, seen from that issue."""

    id: int
    link_type_id: int
    direction: str
    """``inwardIssue`` or ``outwardIssue``: the JSON member the other issue goes in."""
    other: IssueRecord


@dataclass
class IssueBundle:
    """An issue with the related rows its JSON may show (only those that were asked for)."""

    issue: IssueRecord
    comments: list[Comment] = field(default_factory=list)
    worklogs: list[Worklog] = field(default_factory=list)
    links: list[LinkedIssue] = field(default_factory=list)
    attachments: list[tuple[Attachment, User | None]] = field(default_factory=list)
    """Attachments (content not loaded) with their authors."""
    histories: list[ChangeGroup] = field(default_factory=list)
    items: IssueItems = NO_ITEMS
    """``fixVersions``, ``versions`` and ``components``."""
    people: IssuePeople = NOBODY
    """``watches`` and ``votes``, as the viewer sees them."""
    custom: IssueValues = field(default_factory=dict)
    """The values of the custom fields asked for."""


async def find_issue(session: AsyncSession, id_or_key: str) -> Issue | None:
    """An issue by numeric id or by key (case-insensitive, as Jira accepts ``test-1``)."""
    if is_digits(id_or_key):
        ident = row_id(id_or_key)
        return await session.get(Issue, ident) if ident is not None else None
    return await session.scalar(select(Issue).where(Issue.key == id_or_key.upper()))


async def insert_issue(session: AsyncSession, project: Project, issue: Issue) -> Issue:
    """Give ``issue`` the project's next key and insert it (inside the caller's transaction)."""
    number = await next_issue_number(session, project.id)
    issue.project_id = project.id
    issue.number = number
    issue.key = f"{project.key}-{number}"
    session.add(issue)
    await session.flush()
    return issue


def set_labels(issue: Issue, labels: Iterable[str]) -> None:
    """Make the issue's labels exactly ``labels``, touching only rows that change."""
    wanted = list(dict.fromkeys(labels))
    for row in [row for row in issue.labels if row.label not in wanted]:
        issue.labels.remove(row)
    present = {row.label for row in issue.labels}
    issue.labels.extend(IssueLabel(label=label) for label in wanted if label not in present)


async def record_changes(
    session: AsyncSession,
    issue: Issue,
    author_id: int | None,
    changes: Sequence[Change],
    *,
    at: datetime | None = None,
) -> None:
    """Add one changelog entry for ``changes`` and bump the issue's ``updated``."""
    moment = at or utcnow()
    issue.updated_at = moment
    if not changes:
        return
    group = ChangeGroup(issue_id=issue.id, author_id=author_id, created_at=moment)
    group.items = [
        ChangeItem(
            field=c.field,
            from_value=c.from_value,
            from_string=c.from_string,
            to_value=c.to_value,
            to_string=c.to_string,
            field_type=c.field_type,
        )
        for c in changes
    ]
    session.add(group)


async def delete_issue(session: AsyncSession, issue_id: int) -> None:
    """Delete an issue; comments, worklogs, links, remote links, labels, properties,
    watchers, votes and history go by cascade."""
    await session.execute(delete(Issue).where(Issue.id == issue_id))


async def load_bundles(
    session: AsyncSession,
    ids: Sequence[int],
    parts: Iterable[str],
    *,
    audience: Audience = PUBLIC,
    viewer: str | None = None,
    custom: Sequence[FieldRecord] = (),
) -> list[IssueBundle]:
    """Issues in the order of ``ids`` with the related rows named in ``parts``.

    ``parts`` holds field ids (``comment``, ``worklog``, ``issuelinks``, ``attachment``,
    ``fixVersions``, ``versions``, ``components``, ``watches``, ``votes``) and ``changelog``;
    each costs one query for the whole page, never one per issue, as do the values of the
    ``custom`` fields. Comments are only those ``audience`` may read; ``watches`` and
    ``votes`` say whether ``viewer`` (a user key) is among the watchers and voters.
    """
    records = await issue_records(session, ids)
    return await bundle_issues(
        session, records, parts, audience=audience, viewer=viewer, custom=custom
    )


async def bundle_issues(
    session: AsyncSession,
    issues: Sequence[IssueRecord],
    parts: Iterable[str],
    *,
    audience: Audience = PUBLIC,
    viewer: str | None = None,
    custom: Sequence[FieldRecord] = (),
) -> list[IssueBundle]:
    """Already loaded ``issues`` with the related rows named in ``parts`` (see load_bundles)."""
    bundles = [IssueBundle(issue) for issue in issues]
    by_id = {b.issue.id: b for b in bundles}
    keys = list(by_id)
    if not keys:
        return bundles
    for issue_id, values in (await custom_values(session, keys, custom)).items():
        by_id[issue_id].custom = values
    asked = set(parts)
    if asked.intersection(ITEM_FIELDS):
        asked.add(_ITEMS)
    wanted, people = await _with_rows(session, keys, asked, viewer)
    for issue_id, tallies in people.items():
        by_id[issue_id].people = tallies
    if _ITEMS in wanted:
        for issue_id, items in (await issue_items(session, keys)).items():
            by_id[issue_id].items = items
    if "comment" in wanted:
        comments = (
            select(Comment)
            .where(Comment.issue_id.in_(keys), audience.condition())
            .order_by(Comment.id)
        )
        for comment in (await session.scalars(comments)).unique():
            by_id[comment.issue_id].comments.append(comment)
    if "worklog" in wanted:
        worklogs = select(Worklog).where(Worklog.issue_id.in_(keys)).order_by(Worklog.id)
        for worklog in (await session.scalars(worklogs)).unique():
            by_id[worklog.issue_id].worklogs.append(worklog)
    if "attachment" in wanted:
        for attachment, author in await attachments_of(session, keys):
            by_id[attachment.issue_id].attachments.append((attachment, author))
    if "issuelinks" in wanted:
        await _load_links(session, by_id)
    if "changelog" in wanted:
        groups = select(ChangeGroup).where(ChangeGroup.issue_id.in_(keys)).order_by(ChangeGroup.id)
        for group in (await session.scalars(groups)).unique():
            by_id[group.issue_id].histories.append(group)
    return bundles


_ITEMS = "items"
"""The part standing for the versions and components an issue names (``ITEM_FIELDS``)."""


_LINK = IssueLink.__table__


def _rows_of(part: str) -> ColumnElement[bool]:
    """Whether ``part`` (a field id, ``changelog`` or ``items``) has any row for the issues
    of the ``keys`` parameter."""
    if part == _ITEMS:
        return or_(
            *(
                exists().where(in_ids(table.c.issue_id, "keys"))
                for table in (issue_fix_versions, issue_affected_versions, issue_components)
            )
        )
    if part == "comment":
        return exists().where(in_ids(Comment.__table__.c.issue_id, "keys"))
    if part == "worklog":
        return exists().where(in_ids(Worklog.__table__.c.issue_id, "keys"))
    if part == "attachment":
        return exists().where(in_ids(Attachment.__table__.c.issue_id, "keys"))
    if part == "issuelinks":
        return exists().where(
            or_(in_ids(_LINK.c.inward_issue_id, "keys"), in_ids(_LINK.c.outward_issue_id, "keys"))
        )
    return exists().where(in_ids(ChangeGroup.__table__.c.issue_id, "keys"))


_PROBED = -1
"""The kind of the one row of :func:`_probe` that holds the tests, among the tallies."""


@cache
def _probe(parts: tuple[str, ...], people: bool) -> Executable:
    """The ``EXISTS`` tests of ``parts`` as the bits of one number, built once per set of
    parts; with ``people``, in a row of the watchers' and voters' tallies (``TALLIES``)."""
    bits = [case((_rows_of(part), 1 << n), else_=0) for n, part in enumerate(parts)]
    tests = reduce(operator.add, bits)
    if not people:
        return select(tests)
    zero = literal(0, Integer)
    statement: Executable = union_all(TALLIES, select(literal(_PROBED, Integer), tests, zero, zero))
    return statement


async def _with_rows(
    session: AsyncSession, keys: list[int], wanted: set[str], viewer: str | None
) -> tuple[set[str], dict[int, IssuePeople]]:
    """The parts of ``wanted`` that have rows for ``keys``, and the issues' ``watches`` and
    ``votes`` when ``wanted`` names them.

    The parts are tested in one cheap statement, so the loading queries (the costly part:
    ORM rows) run only for parts with something in them (most issues have no worklog,
    attachment or link); the tallies come in the same statement (the reporter watches every
    new issue, so there is nearly always a row of them). On PostgreSQL a page of 50 once
    kept the plain queries (the tests cost the server more than the empty queries they
    saved); with the tallies in the same statement the tests save two statements of three
    there too (bench/README.md, "Third pass")."""
    people = not wanted.isdisjoint(PEOPLE_FIELDS)
    asked = ["comment", "worklog", "attachment", "issuelinks", "changelog", _ITEMS]
    asked = [part for part in asked if part in wanted]
    if len(asked) < 2:  # the test would cost as much as the query it might save
        return wanted, await issue_people(session, keys, viewer) if people else {}
    rows = await session.execute(_probe(tuple(asked), people), {"keys": keys, "viewer": viewer})
    if not people:
        found = rows.scalar_one()
        return {part for n, part in enumerate(asked) if found >> n & 1}, {}
    tallies = []
    found = 0
    for row in rows:
        if row[0] == _PROBED:
            found = row[1]
        else:
            tallies.append(row)
    return {part for n, part in enumerate(asked) if found >> n & 1}, people_of(tallies)


async def _load_links(session: AsyncSession, by_id: dict[int, IssueBundle]) -> None:
    keys = list(by_id)
    query = (
        select(IssueLink)
        .where(or_(IssueLink.inward_issue_id.in_(keys), IssueLink.outward_issue_id.in_(keys)))
        .order_by(IssueLink.id)
    )
    links = (await session.scalars(query)).all()
    others = {i for link in links for i in (link.inward_issue_id, link.outward_issue_id)}
    issues = {issue.id: issue for issue in await issue_records(session, sorted(others))}
    seen: defaultdict[int, set[int]] = defaultdict(set)
    for link in links:
        for here, there, member in (
            (link.inward_issue_id, link.outward_issue_id, "outwardIssue"),
            (link.outward_issue_id, link.inward_issue_id, "inwardIssue"),
        ):
            if here in by_id and link.id not in seen[here] and there in issues:
                seen[here].add(link.id)
                by_id[here].links.append(
                    LinkedIssue(link.id, link.link_type_id, member, issues[there])
                )
