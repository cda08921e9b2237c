"""fixVersion, affectedVersion, component: the versions and components issues name.

A value is a name (case-insensitive, in any project, as Jira matches it) or a numeric id.
As for ``labels``, ``!=`` and ``NOT IN`` skip issues that name none, and ``is EMPTY`` is an
issue that names none.
"""

from __future__ import annotations

from sqlalchemy import Table, exists, or_, select

from jiraguard.jira.jql.clauses import Condition, Context, multi_valued
from jiraguard.jira.jql.syntax import Clause
from jiraguard.store.ids import row_id
from jiraguard.store.models import (
    Component,
    Issue,
    Version,
    issue_affected_versions,
    issue_components,
    issue_fix_versions,
)


class ItemField:
    """A clause on one issue ↔ item association table (``models.issue_*``)."""

    def __init__(self, name: str, table: Table, item: type[Version] | type[Component]) -> None:
        self.name = name
        self.table = table
        self.item = item
        self.column = table.c[f"{item.__tablename__[:-1]}_id"]

    def condition(self, clause: Clause, context: Context) -> Condition:
        def named(texts: list[str]) -> Condition:
            names = sorted({text.strip().lower() for text in texts})
            ids = sorted({i for i in (row_id(text.strip()) for text in texts) if i is not None})
            item = self.item
            wanted = select(item.id).where(or_(item.lower_name.in_(names), item.id.in_(ids)))
            return Issue.id.in_(select(self.table.c.issue_id).where(self.column.in_(wanted)))

        any_item = exists().where(self.table.c.issue_id == Issue.id)
        return multi_valued(clause, self.name, any_item, named)


ITEM_FIELDS = {
    "fixversion": ItemField("fixVersion", issue_fix_versions, Version),
    "affectedversion": ItemField("affectedVersion", issue_affected_versions, Version),
    "component": ItemField("component", issue_components, Component),
}
"""JQL name (lower case) → field."""
