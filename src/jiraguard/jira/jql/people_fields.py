"""watcher, voter (who is on an issue's lists) and watchers, votes (how many are).

``watcher`` and ``voter`` take what ``assignee`` takes (a user name, ``currentUser()``,
``membersOf()``); as for ``labels``, ``!=`` and ``NOT IN`` skip issues with nobody on the
list, and ``IS EMPTY`` is an issue with nobody. ``watchers`` and ``votes`` compare the
count with a whole number.
"""

from __future__ import annotations

from sqlalchemy import Table, and_, exists, false, func, not_, or_, select

from jiraguard.jira.jql.clauses import (
    EMPTINESS,
    EQUALITY,
    ORDERING,
    Condition,
    Context,
    compare,
    function_error,
    single_value,
)
from jiraguard.jira.jql.errors import JQLError, unsupported_operator
from jiraguard.jira.jql.id_fields import resolve_all, resolve_user
from jiraguard.jira.jql.syntax import Clause, FunctionCall, Literal
from jiraguard.store.ids import row_id
from jiraguard.store.issue_people import VOTERS, WATCHERS
from jiraguard.store.models import Issue


class PersonListField:
    """A clause on one issue ↔ user table: is one of these users on the issue's list."""

    def __init__(self, name: str, table: Table) -> None:
        self.name = name
        self.table = table

    def condition(self, clause: Clause, context: Context) -> Condition:
        listed = exists().where(self.table.c.issue_id == Issue.id)
        operator = clause.operator
        if operator in EMPTINESS:
            return not_(listed) if operator == "is" else listed
        if operator not in EQUALITY:
            raise unsupported_operator(operator, self.name)
        found = resolve_all(clause, lambda value: resolve_user(value, context, self.name))
        ids, empty = found.ids, found.empty
        table = self.table
        chosen = select(table.c.issue_id).where(table.c.user_id.in_(sorted(ids)))
        matched = Issue.id.in_(chosen)
        if operator in ("=", "in"):
            terms: list[Condition] = [matched] if ids else []
            if empty:
                terms.append(not_(listed))
            return or_(false(), *terms)
        return and_(listed, not_(matched)) if ids else listed


class PersonCountField:
    """How many users are on an issue's list, compared with a whole number."""

    def __init__(self, name: str, table: Table) -> None:
        self.name = name
        self.table = table

    def condition(self, clause: Clause, context: Context) -> Condition:
        operator = clause.operator
        if operator not in ORDERING | {"=", "!="}:
            raise unsupported_operator(operator, self.name)
        value = single_value(clause)
        if isinstance(value, FunctionCall):
            raise function_error(value, self.name)
        number = row_id(value.text.strip()) if isinstance(value, Literal) else None
        if number is None:
            text = value.text if isinstance(value, Literal) else "EMPTY"
            raise JQLError(
                f"The value '{text}' for field '{self.name}' is invalid - please specify a "
                "positive integer."
            )
        table = self.table
        count = select(func.count()).where(table.c.issue_id == Issue.id).scalar_subquery()
        return compare(count, operator, number)


PEOPLE_FIELDS: dict[str, PersonListField | PersonCountField] = {
    "watcher": PersonListField("watcher", WATCHERS),
    "voter": PersonListField("voter", VOTERS),
    "watchers": PersonCountField("watchers", WATCHERS),
    "votes": PersonCountField("votes", VOTERS),
}
"""JQL name (lower case) → field."""
