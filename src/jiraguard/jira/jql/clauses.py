"""What every field's clause compiler shares: the context, operator families, helpers.

Operators per Atlassian's "Advanced searching - operators reference" (docs/jira-compat.md §7).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, false, true

from jiraguard.jira.jql import dates
from jiraguard.jira.jql.errors import JQLError
from jiraguard.jira.jql.lookups import Directory
from jiraguard.jira.jql.syntax import Clause, FunctionCall, Value
from jiraguard.store.comments import PUBLIC, Audience

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
    """Compile ``~`` for a page walked in index order (see ``textsearch.contains``)."""
    audience: Audience = PUBLIC
    """Whose comments ``comment ~`` and ``text ~`` search: those the searcher may read."""


class Field(Protocol):
    """A searchable field: one condition per clause."""

    def condition(self, clause: Clause, context: Context) -> Condition: ...


def single_value(clause: Clause) -> Value:
    operand = clause.operand
    assert not isinstance(operand, tuple), "the grammar gives lists only to IN and NOT IN"
    return operand


KNOWN_FUNCTIONS = dates.DATE_FUNCTIONS | {"currentuser", "membersof"}


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
