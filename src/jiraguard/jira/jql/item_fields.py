"""fixVersion, affectedVersion, component: the versions and components issues name.

A value is a name (case-insensitive, in any project, as Jira matches it) or a numeric id; a
value naming no version (component) of any project is Jira's "The value 'X' does not exist
for the field 'F'.". As for ``labels``, ``!=`` and ``NOT IN`` skip issues that name none,
and ``is EMPTY`` is an issue that names none. The version fields take Jira's version
functions: ``releasedVersions([project, …])``, ``unreleasedVersions([project, …])`` (archived
versions left out), ``latestReleasedVersion(project)`` and
``earliestUnreleasedVersion(project)`` (by the project's version order, not by dates).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Table, exists, or_, select

from jiraguard.jira.jql.clauses import Condition, Context, function_error, multi_valued
from jiraguard.jira.jql.errors import JQLError, no_such_value
from jiraguard.jira.jql.syntax import Clause, FunctionCall
from jiraguard.store.ids import row_id
from jiraguard.store.models import (
    Component,
    Issue,
    Version,
    issue_affected_versions,
    issue_components,
    issue_fix_versions,
)

_SETS = {"releasedversions": True, "unreleasedversions": False}
"""The functions naming every released (unreleased) version."""
_ONES = {"latestreleasedversion": True, "earliestunreleasedversion": False}
"""The functions naming one version of one project."""


def _projects(function: FunctionCall, context: Context) -> list[int]:
    """The project ids a version function's arguments name (key, name or id), or 400."""
    found = []
    for argument in function.arguments:
        project = context.directory.project(argument)
        if project is None:
            raise JQLError(
                f"Could not resolve the project '{argument}' provided to function "
                f"'{function.name}'."
            )
        found.append(project)
    return found


def version_function(function: FunctionCall, field: str, context: Context) -> Select[Any]:
    """The ids of the versions a version function names."""
    name = function.name.lower()
    projects = _projects(function, context)
    if name in _SETS:
        chosen = select(Version.id).where(
            Version.released.is_(_SETS[name]), Version.archived.is_(False)
        )
        return chosen.where(Version.project_id.in_(projects)) if projects else chosen
    if name in _ONES:
        if len(function.arguments) != 1:
            raise JQLError(
                f"Function '{function.name}' expected '1' arguments but received "
                f"'{len(function.arguments)}'."
            )
        released = _ONES[name]
        order = Version.sequence.desc() if released else Version.sequence.asc()
        one = (
            select(Version.id)
            .where(
                Version.project_id == projects[0],
                Version.released.is_(released),
                Version.archived.is_(False),
            )
            .order_by(order, Version.id)
            .limit(1)
        )
        return select(one.subquery().c.id)
    raise function_error(function, field)


class ItemField:
    """A clause on one issue ↔ item association table (``models.issue_*``)."""

    def __init__(self, name: str, table: Table, item: type[Version] | type[Component]) -> None:
        self.name = name
        self.table = table
        self.item = item
        self.column = table.c[f"{item.__tablename__[:-1]}_id"]

    def _holding(self, ids: Any) -> Condition:
        return Issue.id.in_(select(self.table.c.issue_id).where(self.column.in_(ids)))

    def condition(self, clause: Clause, context: Context) -> Condition:
        def named(texts: list[str]) -> Condition:
            for text in texts:
                if not context.directory.has_item(self.item, text):
                    raise no_such_value(text, self.name)
            names = sorted({text.strip().lower() for text in texts})
            ids = sorted({i for i in (row_id(text.strip()) for text in texts) if i is not None})
            item = self.item
            wanted = select(item.id).where(or_(item.lower_name.in_(names), item.id.in_(ids)))
            return self._holding(wanted)

        def called(function: FunctionCall) -> Condition:
            return self._holding(version_function(function, self.name, context))

        any_item = exists().where(self.table.c.issue_id == Issue.id)
        call = called if self.item is Version else None
        return multi_valued(clause, self.name, any_item, named, call)


ITEM_FIELDS = {
    "fixversion": ItemField("fixVersion", issue_fix_versions, Version),
    "affectedversion": ItemField("affectedVersion", issue_affected_versions, Version),
    "component": ItemField("component", issue_components, Component),
}
"""JQL name (lower case) → field."""
