"""ORDER BY: sort keys to SQL ordering, with the issue id last so paging is stable.

Sortable fields per Atlassian's "Advanced searching - keywords reference" (ORDER BY). An
empty value sorts as the largest (last ascending, first descending) on both databases.
Catalog fields sort in Jira's sequence; ``priority DESC`` puts "Highest" first. Versions
sort in their project's version order (an issue by its earliest version), components by
name (an issue by its first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, case, func, select
from sqlalchemy.orm import aliased

from jiraguard.jira import catalog
from jiraguard.jira.jql.custom_fields import sort_key
from jiraguard.jira.jql.errors import JQLError
from jiraguard.jira.jql.syntax import SortKey
from jiraguard.store.custom_fields import FieldRecord
from jiraguard.store.models import (
    Component,
    Issue,
    Project,
    User,
    Version,
    issue_affected_versions,
    issue_components,
    issue_fix_versions,
)

DEFAULT_ORDER = (SortKey("created", descending=True),)
"""Jira's order when a query names none: newest first."""


def _sequence(column: Any, items: Sequence[catalog.Status | catalog.Named]) -> Any:
    """The position of the column's id in a catalog tuple (Jira's sort sequence)."""
    return case({item.id: index for index, item in enumerate(items)}, value=column)


@dataclass(frozen=True, slots=True)
class Sort:
    """How to sort on one field: its expressions, whether they may be NULL, what to join."""

    expressions: tuple[Any, ...]
    nullable: bool = False
    joins: tuple[str, ...] = field(default=())


_assignee = aliased(User, name="sort_assignee")
_reporter = aliased(User, name="sort_reporter")
_creator = aliased(User, name="sort_creator")
_project = aliased(Project, name="sort_project")

_JOINS: dict[str, tuple[Any, Any]] = {
    "assignee": (_assignee, _assignee.id == Issue.assignee_id),
    "reporter": (_reporter, _reporter.id == Issue.reporter_id),
    "creator": (_creator, _creator.id == Issue.creator_id),
    "project": (_project, _project.id == Issue.project_id),
}


def _versions(table: Table) -> Sort:
    """The issue's versions in ``table``: their project, then the earliest's place in it."""
    held = table.join(Version, Version.id == table.c.version_id)
    mine = table.c.issue_id == Issue.id
    project = select(func.min(Version.project_id)).select_from(held).where(mine)
    place = select(func.min(Version.sequence)).select_from(held).where(mine)
    return Sort((project.scalar_subquery(), place.scalar_subquery()), nullable=True)


_held_components = issue_components.join(Component, Component.id == issue_components.c.component_id)
_COMPONENT = Sort(
    (
        select(func.min(Component.lower_name))
        .select_from(_held_components)
        .where(issue_components.c.issue_id == Issue.id)
        .scalar_subquery(),
    ),
    nullable=True,
)
_KEY = Sort((_project.key, Issue.number), joins=("project",))
_ORIGINAL = Sort((Issue.original_estimate,), nullable=True)
_REMAINING = Sort((Issue.remaining_estimate,), nullable=True)
_SPENT = Sort((Issue.time_spent,), nullable=True)
_TYPE = Sort((_sequence(Issue.issuetype_id, catalog.ISSUE_TYPES),))
_CREATED = Sort((Issue.created_at,))
_UPDATED = Sort((Issue.updated_at,))
_RESOLVED = Sort((Issue.resolved_at,), nullable=True)
_DUE = Sort((Issue.due_date,), nullable=True)

SORTS: dict[str, Sort] = {
    "created": _CREATED,
    "createddate": _CREATED,
    "updated": _UPDATED,
    "updateddate": _UPDATED,
    "key": _KEY,
    "issuekey": _KEY,
    "id": Sort((Issue.id,)),
    "project": Sort((_project.key,), joins=("project",)),
    # Highest has the lowest sequence number, so it is the largest value.
    "priority": Sort((-_sequence(Issue.priority_id, catalog.PRIORITIES),), nullable=True),
    "status": Sort((_sequence(Issue.status_id, catalog.STATUSES),)),
    "resolution": Sort((_sequence(Issue.resolution_id, catalog.RESOLUTIONS),), nullable=True),
    "issuetype": _TYPE,
    "type": _TYPE,
    "summary": Sort((Issue.summary,)),
    "assignee": Sort((_assignee.display_name,), nullable=True, joins=("assignee",)),
    "reporter": Sort((_reporter.display_name,), nullable=True, joins=("reporter",)),
    "creator": Sort((_creator.display_name,), nullable=True, joins=("creator",)),
    "duedate": _DUE,
    "due": _DUE,
    "resolutiondate": _RESOLVED,
    "resolved": _RESOLVED,
    "fixversion": _versions(issue_fix_versions),
    "affectedversion": _versions(issue_affected_versions),
    "component": _COMPONENT,
    "originalestimate": _ORIGINAL,
    "timeoriginalestimate": _ORIGINAL,
    "remainingestimate": _REMAINING,
    "timeestimate": _REMAINING,
    "timespent": _SPENT,
}


INDEXED = frozenset({"created", "createddate", "updated", "updateddate"})


def follows_index(keys: Sequence[SortKey]) -> bool:
    """Whether the first sort key has an index to walk (``created``, ``updated``)."""
    return (keys or DEFAULT_ORDER)[0].field.lower() in INDEXED


def apply_order(
    statement: Select[Any],
    keys: Sequence[SortKey],
    custom: Mapping[str, FieldRecord] | None = None,
) -> Select[Any]:
    """``statement`` ordered by ``keys`` (Jira's default when empty), then by issue id;
    ``custom``: the custom fields by lower-case JQL name, sorted on their values."""
    keys = keys or DEFAULT_ORDER
    joined: list[str] = []
    clauses: list[ColumnElement[Any]] = []
    for key in keys:
        sort = SORTS.get(key.field.lower())
        record = (custom or {}).get(key.field.lower()) if sort is None else None
        if record is not None:
            expression, joins = sort_key(record)
            for target, on in joins:
                if target.name not in joined:
                    statement = statement.outerjoin(target, on)
                    joined.append(target.name)
            sort = Sort((expression,), nullable=True)
        if sort is None:
            raise JQLError(f"Not able to sort using field '{key.field}'.")
        for name in sort.joins:
            if name not in joined:
                target, on = _JOINS[name]
                statement = statement.outerjoin(target, on)
                joined.append(name)
        for expression in sort.expressions:
            ordered = expression.desc() if key.descending else expression.asc()
            if sort.nullable:
                ordered = ordered.nulls_first() if key.descending else ordered.nulls_last()
            clauses.append(ordered)
    # The tiebreaker follows the first key's direction: "created DESC" pages newest first.
    clauses.append(Issue.id.desc() if keys[0].descending else Issue.id.asc())
    return statement.order_by(*clauses)
