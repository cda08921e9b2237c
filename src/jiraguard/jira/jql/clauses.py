"""What every field's clause compiler shares: the context, operator families, helpers.

Operators per Atlassian's "Advanced searching - operators reference" (docs/jira-compat.md §7).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, false, not_, or_, true

from jiraguard.jira.jql import dates
from jiraguard.jira.jql.errors import JQLError, unsupported_operator
from jiraguard.jira.jql.lookups import Directory
from jiraguard.jira.jql.parser import as_values
from jiraguard.jira.jql.saved_filters import SavedFilters
from jiraguard.jira.jql.syntax import Clause, Empty, FunctionCall, Value
from jiraguard.store.comments import PUBLIC, Audience
from jiraguard.store.custom_fields import FieldRecord

Condition = ColumnElement[bool]
EQUALITY = frozenset({"=", "!=", "in", "not in"})
EMPTINESS = frozenset({"is", "is not"})
ORDERING = frozenset({">", ">=", "<", "<="})
CONTAINS = frozenset({"~", "!~"})


@dataclass(frozen=True, slots=True)
class Context:
    """What compiling a clause may consult besides the clause."""

    dialect: str
    now: datetime
    directory: Directory
    current_user_id: int | None
    probe_text_matches: bool = False
    """Compile ``~`` and custom field clauses for a page walked in index order (see
    ``textsearch.contains``)."""
    audience: Audience = PUBLIC
    """Whose comments ``comment ~`` and ``text ~`` search: those the searcher may read."""
    saved: SavedFilters = field(default_factory=SavedFilters)
    """The saved filters the query names (``filter = …``), already parsed."""
    dense: bool = False
    """With ``probe_text_matches``: the query matches many issues (``search.DENSE``), so
    the walk meets a match every few rows."""
    custom: Mapping[str, FieldRecord] = field(default_factory=dict)
    """The custom fields by lower-case JQL name (``cf[10000]``, the field's name)."""


class Field(Protocol):
    """A searchable field: one condition per clause."""

    def condition(self, clause: Clause, context: Context) -> Condition: ...


def single_value(clause: Clause) -> Value:
    operand = clause.operand
    assert not isinstance(operand, tuple), "the grammar gives lists only to IN and NOT IN"
    return operand


KNOWN_FUNCTIONS = dates.DATE_FUNCTIONS | {
    "currentuser",
    "membersof",
    "releasedversions",
    "unreleasedversions",
    "latestreleasedversion",
    "earliestunreleasedversion",
}


def function_error(function: FunctionCall, field: str) -> JQLError:
    if function.name.lower() in KNOWN_FUNCTIONS:
        return JQLError(
            f"A value provided by the function '{function.name}' is invalid for the field "
            f"'{field}'."
        )
    return JQLError(f"Unable to find JQL function '{function.name}()'.")


def emptiness(clause: Clause, column: Any, nullable: bool) -> Condition:
    if not nullable:
        return false() if clause.operator == "is" else true()
    found: Condition = column.is_(None) if clause.operator == "is" else column.is_not(None)
    return found


def compare(column: Any, operator: str, value: Any) -> Condition:
    comparisons: dict[str, Callable[[Any, Any], Condition]] = {
        "=": lambda c, v: c == v,
        "!=": lambda c, v: c != v,
        ">": lambda c, v: c > v,
        ">=": lambda c, v: c >= v,
        "<": lambda c, v: c < v,
        "<=": lambda c, v: c <= v,
    }
    return comparisons[operator](column, value)


FunctionCompiler = Callable[[FunctionCall], Condition]
"""What a function value of a multi-valued field matches (``releasedVersions()``)."""


def listed_texts(
    clause: Clause, field: str, call: FunctionCompiler | None = None
) -> tuple[list[str], bool, list[Condition]]:
    """The texts an ``=``/``!=``/``IN``/``NOT IN`` clause lists, whether it lists EMPTY, and
    what its function values match (``call``; without it a function is an error)."""
    texts: list[str] = []
    empty = False
    called: list[Condition] = []
    for value in as_values(clause.operand):
        if isinstance(value, FunctionCall):
            if call is None:
                raise function_error(value, field)
            called.append(call(value))
        elif isinstance(value, Empty):
            empty = True
        else:
            texts.append(value.text)
    return texts, empty, called


def multi_valued(
    clause: Clause,
    field: str,
    any_value: Condition,
    matching: Callable[[list[str]], Condition],
    call: FunctionCompiler | None = None,
) -> Condition:
    """A clause on a field that holds several values (``labels``, versions, components).

    ``any_value``: the issue holds some value; ``matching(texts)``: it holds one of ``texts``;
    ``call(function)``: it holds one the function names. ``IS EMPTY`` is an issue that holds
    none; ``!=`` and ``NOT IN`` skip those, as in Jira.
    """
    if clause.operator in EMPTINESS:
        return not_(any_value) if clause.operator == "is" else any_value
    if clause.operator not in EQUALITY:
        raise unsupported_operator(clause.operator, field)
    texts, empty, called = listed_texts(clause, field, call)
    found = ([matching(texts)] if texts else []) + called
    matched = or_(*found) if len(found) > 1 else found[0] if found else None
    if clause.operator in ("=", "in"):
        terms: list[Condition] = [matched] if matched is not None else []
        if empty:
            terms.append(not_(any_value))
        return or_(false(), *terms)
    return and_(any_value, not_(matched)) if matched is not None else any_value
