"""Fields stored as ids: project, status, statusCategory, issuetype, priority, resolution,
assignee, reporter, creator.

A value resolves to a set of ids (a name, a key, an id, ``currentUser()``), ``EMPTY`` to
NULL; unknown values are Jira's "The value 'X' does not exist for the field 'F'.".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import ge, gt, le, lt
from typing import Any

from sqlalchemy import and_, false, not_, or_, true
from sqlalchemy.orm import InstrumentedAttribute

from jiraguard.jira import catalog
from jiraguard.jira.jql.clauses import (
    EMPTINESS,
    EQUALITY,
    ORDERING,
    Condition,
    Context,
    emptiness,
    function_error,
    single_value,
)
from jiraguard.jira.jql.errors import JQLError, no_such_value, unsupported_operator
from jiraguard.jira.jql.parser import as_values
from jiraguard.jira.jql.syntax import Clause, Empty, FunctionCall, Literal
from jiraguard.store.models import Issue


@dataclass(frozen=True, slots=True)
class Resolved:
    ids: frozenset[int]
    empty: bool = False


class IdField:
    """A field stored as an id: values resolve to sets of ids, EMPTY to NULL.

    ``!=`` and ``NOT IN`` never match an empty field, as in Jira.
    """

    ordered = False

    def __init__(self, name: str, column: InstrumentedAttribute[Any], nullable: bool) -> None:
        self.name = name
        self.column = column
        self.nullable = nullable

    def resolve(self, value: Literal | FunctionCall, context: Context) -> Resolved:
        raise NotImplementedError

    def rank(self, ident: int) -> int:  # pragma: no cover - only ordered fields rank
        raise NotImplementedError

    def condition(self, clause: Clause, context: Context) -> Condition:
        operator = clause.operator
        if operator in EMPTINESS:
            return emptiness(clause, self.column, self.nullable)
        if operator in ORDERING and self.ordered:
            return self._ordering(clause, context)
        if operator not in EQUALITY:
            raise unsupported_operator(operator, self.name)
        found = resolve_all(clause, lambda value: self.resolve(value, context))
        ids, empty = set(found.ids), found.empty
        column = self.column
        if operator in ("=", "in"):
            terms: list[Condition] = [_one_of(column, ids)] if ids else []
            if empty and self.nullable:
                terms.append(column.is_(None))
            return or_(false(), *terms)  # no terms: nothing matches
        kept: list[Condition] = [not_(_one_of(column, ids))] if ids else []
        if self.nullable:
            kept.append(column.is_not(None))
        return and_(true(), *kept)

    def _ordering(self, clause: Clause, context: Context) -> Condition:
        value = single_value(clause)
        if isinstance(value, Empty):
            raise unsupported_operator(clause.operator, self.name)
        resolved = self.resolve(value, context)
        test = _RANK_TESTS[clause.operator]
        wanted = {
            item
            for item in self.all_ids()
            if any(test(self.rank(item), self.rank(given)) for given in resolved.ids)
        }
        return self.column.in_(sorted(wanted)) if wanted else false()

    def all_ids(self) -> Iterable[int]:  # pragma: no cover - only ordered fields rank
        raise NotImplementedError


def resolve_all(clause: Clause, resolve: Callable[[Literal | FunctionCall], Resolved]) -> Resolved:
    """What the values an ``=``/``!=``/``IN``/``NOT IN`` clause lists resolve to, together;
    ``EMPTY`` among them (or a value meaning empty) makes ``empty``."""
    ids: set[int] = set()
    empty = False
    for value in as_values(clause.operand):
        if isinstance(value, Empty):
            empty = True
            continue
        resolved = resolve(value)
        ids |= resolved.ids
        empty = empty or resolved.empty
    return Resolved(frozenset(ids), empty)


_RANK_TESTS: dict[str, Callable[[int, int], bool]] = {">": gt, ">=": ge, "<": lt, "<=": le}


def _one_of(column: Any, ids: set[int]) -> Condition:
    # "=" for one id: the plainest form for both planners' index matching.
    found: Condition = column == min(ids) if len(ids) == 1 else column.in_(sorted(ids))
    return found


class CatalogField(IdField):
    """status, issuetype, priority, resolution: names or ids from ``jira.catalog``."""

    def __init__(
        self,
        name: str,
        column: InstrumentedAttribute[Any],
        items: Sequence[catalog.Status | catalog.Named],
        *,
        nullable: bool,
        ordered: bool = False,
        empty_names: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(name, column, nullable)
        self.items = items
        self.ordered = ordered
        self.empty_names = empty_names

    def resolve(self, value: Literal | FunctionCall, context: Context) -> Resolved:
        if isinstance(value, FunctionCall):
            raise function_error(value, self.name)
        if value.text.casefold() in self.empty_names:
            return Resolved(frozenset(), empty=True)
        for item in self.items:
            if item.name.casefold() == value.text.casefold() or str(item.id) == value.text:
                return Resolved(frozenset({item.id}))
        raise no_such_value(value.text, self.name)

    def all_ids(self) -> Iterable[int]:
        return [item.id for item in self.items]

    def rank(self, ident: int) -> int:
        # Catalog order is Jira's sequence: the first priority ("Highest") ranks highest,
        # so "priority > Medium" means High and Highest.
        return -next(i for i, item in enumerate(self.items) if item.id == ident)


class StatusCategoryField(IdField):
    """statusCategory: a category's name, key or id selects the statuses in it."""

    def __init__(self) -> None:
        super().__init__("statusCategory", Issue.status_id, nullable=False)

    def resolve(self, value: Literal | FunctionCall, context: Context) -> Resolved:
        if isinstance(value, FunctionCall):
            raise function_error(value, self.name)
        wanted = value.text.casefold()
        for category in catalog.STATUS_CATEGORIES:
            if wanted in (category.name.casefold(), category.key, str(category.id)):
                return Resolved(frozenset(s.id for s in catalog.STATUSES if s.category == category))
        raise no_such_value(value.text, self.name)


class ProjectField(IdField):
    def __init__(self) -> None:
        super().__init__("project", Issue.project_id, nullable=False)

    def resolve(self, value: Literal | FunctionCall, context: Context) -> Resolved:
        if isinstance(value, FunctionCall):
            raise function_error(value, self.name)
        found = context.directory.project(value.text)
        if found is None:
            raise no_such_value(value.text, self.name)
        return Resolved(frozenset({found}))


class UserField(IdField):
    """assignee, reporter, creator: a user name (any case), ``currentUser()``,
    ``membersOf("group")`` or EMPTY."""

    def __init__(self, name: str, column: InstrumentedAttribute[Any]) -> None:
        super().__init__(name, column, nullable=True)

    def resolve(self, value: Literal | FunctionCall, context: Context) -> Resolved:
        return resolve_user(value, context, self.name)


def resolve_user(value: Literal | FunctionCall, context: Context, field: str) -> Resolved:
    """The users a value names for a user field: a name (any case), ``currentUser()`` or
    ``membersOf("group")``; else Jira's error for ``field``."""
    if isinstance(value, FunctionCall):
        return _user_call(value, context, field)
    found = context.directory.user(value.text)
    if found is None:
        raise no_such_value(value.text, field)
    return Resolved(frozenset({found}))


def _user_call(function: FunctionCall, context: Context, field: str) -> Resolved:
    name = function.name.lower()
    if name == "currentuser" and not function.arguments:
        # Anonymous: currentUser() names nobody, so "=" matches no issue.
        ids = () if context.current_user_id is None else (context.current_user_id,)
        return Resolved(frozenset(ids))
    if name == "membersof" and len(function.arguments) == 1:
        group = function.arguments[0]
        members = context.directory.members(group)
        if members is None:
            raise JQLError(
                f"Function 'membersOf' can not generate a list of usernames for group "
                f"'{group}'; the group does not exist."
            )
        return Resolved(members)
    raise function_error(function, field)
