"""Projects, users, groups, versions and components a query names, fetched once before it
is compiled.

Jira rejects a value naming no project, user, version or component ("The value 'X' does not
exist for the field 'project'.") and a ``membersOf()`` group that does not exist, so the
values are looked up up front: one query each, asking only for what the query names. The
projects include those the version functions (``releasedVersions(P1)``) name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import String, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.jira.jql.syntax import FunctionCall, Literal, Query, clauses_of
from jiraguard.store.ids import row_id
from jiraguard.store.models import Component, Group, Project, User, Version, user_groups

PROJECT_FIELDS = frozenset({"project"})
USER_FIELDS = frozenset({"assignee", "reporter", "creator", "watcher", "voter"})
VERSION_FIELDS = frozenset({"fixversion", "affectedversion"})
COMPONENT_FIELDS = frozenset({"component"})
VERSION_FUNCTIONS = frozenset(
    {"releasedversions", "unreleasedversions", "latestreleasedversion", "earliestunreleasedversion"}
)
"""The JQL functions that name versions; their arguments are projects."""


@dataclass(frozen=True, slots=True)
class Directory:
    """What a query's project and user values name; absent values do not exist."""

    project_keys: dict[str, int] = field(default_factory=dict)
    """Upper-case project key -> project id."""
    project_names: dict[str, int] = field(default_factory=dict)
    """Case-folded project name -> project id."""
    project_ids: frozenset[int] = frozenset()
    users: dict[str, int] = field(default_factory=dict)
    """Lower-case user name -> user id."""
    groups: dict[str, frozenset[int]] = field(default_factory=dict)
    """Lower-case group name -> ids of its members (for ``membersOf()``)."""
    versions: frozenset[str] = frozenset()
    """The version values of the query that name a version: lower-case names and ids."""
    components: frozenset[str] = frozenset()
    """The same for components."""

    def project(self, value: str) -> int | None:
        """A project by key, then by name, then by id (the order Jira tries)."""
        found = self.project_keys.get(value.upper()) or self.project_names.get(value.casefold())
        ident = row_id(value) if found is None else None
        if ident is not None and ident in self.project_ids:
            found = ident
        return found

    def user(self, name: str) -> int | None:
        return self.users.get(name.lower())

    def members(self, group: str) -> frozenset[int] | None:
        return self.groups.get(group.lower())

    def has_item(self, kind: type[Version] | type[Component], value: str) -> bool:
        """Whether some version (or component) in any project has this name or id."""
        known = self.versions if kind is Version else self.components
        return value.strip().lower() in known


def _groups(query: Query, user_fields: frozenset[str]) -> set[str]:
    """The groups ``membersOf("group")`` names in user clauses."""
    names: set[str] = set()
    for clause in clauses_of(query.where):
        if clause.field.lower() not in user_fields:
            continue
        operand = clause.operand
        for value in operand if isinstance(operand, tuple) else (operand,):
            if isinstance(value, FunctionCall) and value.name.lower() == "membersof":
                names.update(argument.lower() for argument in value.arguments[:1])
    return names


def _function_projects(query: Query) -> set[str]:
    """The projects the version functions name (``releasedVersions(P1, P2)``)."""
    names: set[str] = set()
    for clause in clauses_of(query.where):
        operand = clause.operand
        for value in operand if isinstance(operand, tuple) else (operand,):
            if isinstance(value, FunctionCall) and value.name.lower() in VERSION_FUNCTIONS:
                names.update(value.arguments)
    return names


async def _known_items(
    session: AsyncSession, item: type[Version] | type[Component], values: set[str]
) -> frozenset[str]:
    """Which of ``values`` name an ``item`` (by name, any case, or by id)."""
    if not values:
        return frozenset()
    lowered = {value.strip().lower() for value in values}
    numbers = [n for n in map(row_id, lowered) if n is not None]
    rows = await session.execute(
        select(item.id, item.lower_name).where(
            or_(item.lower_name.in_(sorted(lowered)), item.id.in_(numbers))
        )
    )
    found: set[str] = set()
    for ident, lower_name in rows:
        found.update({lower_name, str(ident)} & lowered)
    return frozenset(found | {v for v in lowered if str(row_id(v)) in found})


def _literals(query: Query, fields: frozenset[str]) -> set[str]:
    texts: set[str] = set()
    for clause in clauses_of(query.where):
        if clause.field.lower() not in fields:
            continue
        operand = clause.operand
        for value in operand if isinstance(operand, tuple) else (operand,):
            if isinstance(value, Literal):
                texts.add(value.text)
    return texts


_PROJECTS = select(Project.id, Project.key, Project.name).where(
    or_(
        func.upper(Project.key).in_(bindparam("keys", type_=String, expanding=True)),
        func.lower(Project.name).in_(bindparam("names", type_=String, expanding=True)),
        Project.id.in_(bindparam("ids", expanding=True)),
    )
)
"""The projects a query names by key, name or id; built once (every search names one)."""


async def load_directory(
    session: AsyncSession, query: Query, custom_user_fields: frozenset[str] = frozenset()
) -> Directory:
    """Look up every project, user, group, version and component ``query`` names (five
    queries at most); ``custom_user_fields``: the JQL names of user picker custom fields,
    lower case."""
    user_fields = USER_FIELDS | custom_user_fields
    project_values = _literals(query, PROJECT_FIELDS) | _function_projects(query)
    user_values = _literals(query, user_fields)
    keys: dict[str, int] = {}
    names: dict[str, int] = {}
    ids: set[int] = set()
    if project_values:
        numbers = [n for n in map(row_id, project_values) if n is not None]
        rows = await session.execute(
            _PROJECTS,
            {
                "keys": [v.upper() for v in project_values],
                "names": [v.lower() for v in project_values],
                "ids": numbers,
            },
        )
        for ident, key, name in rows:
            keys[key.upper()] = ident
            names[name.casefold()] = ident
            ids.add(ident)
    users: dict[str, int] = {}
    if user_values:
        found = await session.execute(
            select(User.id, User.lower_name).where(
                User.lower_name.in_([v.lower() for v in user_values])
            )
        )
        users = {lower_name: ident for ident, lower_name in found}
    members: dict[str, set[int]] = {}
    if group_names := _groups(query, user_fields):
        memberships = await session.execute(
            select(Group.lower_name, user_groups.c.user_id)
            .outerjoin(user_groups, user_groups.c.group_id == Group.id)
            .where(Group.lower_name.in_(group_names))
        )
        for group, user_id in memberships:
            members.setdefault(group, set()).update([] if user_id is None else [user_id])
    groups = {group: frozenset(ids) for group, ids in members.items()}
    versions = await _known_items(session, Version, _literals(query, VERSION_FIELDS))
    components = await _known_items(session, Component, _literals(query, COMPONENT_FIELDS))
    return Directory(keys, names, frozenset(ids), users, groups, versions, components)
