"""originalEstimate, remainingEstimate, timeSpent (and their ``timeoriginalestimate``,
``timeestimate``, ``timespent`` names): an issue's time tracking, in seconds.

A value is a positive duration in Jira's syntax (``2h``, ``"1d 4h"``; a bare number is
minutes, Jira's default unit); ``EMPTY`` is an issue without one. As for other fields,
``!=`` and ``NOT IN`` never match an empty one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, not_, or_, true
from sqlalchemy.orm import InstrumentedAttribute

from jiraguard.jira.durations import parse_duration
from jiraguard.jira.jql.clauses import (
    EMPTINESS,
    EQUALITY,
    ORDERING,
    Condition,
    Context,
    compare,
    emptiness,
    function_error,
    single_value,
)
from jiraguard.jira.jql.errors import JQLError, unsupported_operator
from jiraguard.jira.jql.parser import as_values
from jiraguard.jira.jql.syntax import Clause, Empty, FunctionCall, Value
from jiraguard.store.models import Issue


class DurationField:
    """A time-tracking column compared with durations."""

    def __init__(self, name: str, column: InstrumentedAttribute[Any]) -> None:
        self.name = name
        self.column = column

    def _seconds(self, value: Value, clause: Clause) -> int:
        if isinstance(value, FunctionCall):
            raise function_error(value, self.name)
        if isinstance(value, Empty):
            raise unsupported_operator(clause.operator, self.name)
        seconds = parse_duration(value.text)
        if seconds is None:
            raise JQLError(
                f"The value '{value.text}' for field '{clause.field}' is invalid - please "
                "specify a positive duration format."
            )
        return seconds

    def condition(self, clause: Clause, context: Context) -> Condition:
        operator = clause.operator
        if operator in EMPTINESS:
            return emptiness(clause, self.column, nullable=True)
        if operator in ORDERING:
            return compare(self.column, operator, self._seconds(single_value(clause), clause))
        if operator not in EQUALITY:
            raise unsupported_operator(operator, self.name)
        values = as_values(clause.operand)
        empty = any(isinstance(v, Empty) for v in values)
        seconds = sorted({self._seconds(v, clause) for v in values if not isinstance(v, Empty)})
        if operator in ("=", "in"):
            terms: list[Condition] = [self.column.in_(seconds)] if seconds else []
            if empty:
                terms.append(self.column.is_(None))
            return or_(false(), *terms)
        kept: list[Condition] = [not_(self.column.in_(seconds))] if seconds else []
        return and_(true(), self.column.is_not(None), *kept)


_ORIGINAL = DurationField("originalEstimate", Issue.original_estimate)
_REMAINING = DurationField("remainingEstimate", Issue.remaining_estimate)
_SPENT = DurationField("timeSpent", Issue.time_spent)

TIME_FIELDS = {
    "originalestimate": _ORIGINAL,
    "timeoriginalestimate": _ORIGINAL,
    "remainingestimate": _REMAINING,
    "timeestimate": _REMAINING,
    "timespent": _SPENT,
}
"""JQL name (lower case) → field."""
