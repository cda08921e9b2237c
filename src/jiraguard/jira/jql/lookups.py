"""Projects, users and groups a query names, fetched once before it is compiled.

Jira rejects a value naming no project or user ("The value 'X' does not exist for the field
'project'.") and a ``membersOf()`` group that does not exist, so the values are looked up up
front: one query each for projects, users and groups, asking only for what the query names.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.jira.jql.syntax import And, Clause, Condition, FunctionCall, Literal, Not, Or, Query
from jiraguard.store.ids import row_id
from jiraguard.store.models import Group, Project, User, user_groups

PROJECT_FIELDS = frozenset({"project"})
USER_FIELDS = frozenset({"assignee", "reporter", "creator"})


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


def _clauses(condition: Condition | None) -> Iterator[Clause]:
    if isinstance(condition, Clause):
        yield condition
    elif isinstance(condition, And | Or):
        for term in condition.terms:
            yield from _clauses(term)
    elif isinstance(condition, Not):
        yield from _clauses(condition.term)


def _groups(query: Query, user_fields: frozenset[str]) -> set[str]:
    """The groups ``membersOf("group")`` names in user clauses."""
    names: set[str] = set()
    for clause in _clauses(query.where):
        if clause.field.lower() not in user_fields:
            continue
        operand = clause.operand
        for value in operand if isinstance(operand, tuple) else (operand,):
            if isinstance(value, FunctionCall) and value.name.lower() == "membersof":
                names.update(argument.lower() for argument in value.arguments[:1])
    return names


def _literals(query: Query, fields: frozenset[str]) -> set[str]:
    texts: set[str] = set()
    for clause in _clauses(query.where):
        if clause.field.lower() not in fields:
            continue
        operand = clause.operand
        for value in operand if isinstance(operand, tuple) else (operand,):
            if isinstance(value, Literal):
                texts.add(value.text)
    return texts


async def load_directory(
    session: AsyncSession, query: Query, custom_user_fields: frozenset[str] = frozenset()
) -> Directory:
    """Look up every project, user and group ``query`` names (three queries at most);
    ``custom_user_fields``: the JQL names of user picker custom fields, lower case."""
    user_fields = USER_FIELDS | custom_user_fields
    project_values = _literals(query, PROJECT_FIELDS)
    user_values = _literals(query, user_fields)
    keys: dict[str, int] = {}
    names: dict[str, int] = {}
    ids: set[int] = set()
    if project_values:
        numbers = [n for n in map(row_id, project_values) if n is not None]
        rows = await session.execute(
            select(Project.id, Project.key, Project.name).where(
                or_(
                    func.upper(Project.key).in_([v.upper() for v in project_values]),
                    func.lower(Project.name).in_([v.lower() for v in project_values]),
                    Project.id.in_(numbers),
                )
            )
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
    return Directory(keys, names, frozenset(ids), users, groups)
