"""Date fields: created, updated, resolutiondate (instants) and duedate (a calendar date).

Values are those of ``dates``: absolute, relative or a date function, in UTC.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, not_, or_
from sqlalchemy.orm import InstrumentedAttribute

from jiraguard.jira.jql import dates
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
from jiraguard.jira.jql.errors import unsupported_operator
from jiraguard.jira.jql.parser import as_values
from jiraguard.jira.jql.syntax import Clause, Empty, FunctionCall, Value


class DateTimeField:
    """created, updated, resolutiondate: instants compared in UTC.

    Values bind through the column's own type, so SQLite compares the same naive UTC text
    SQLAlchemy stores, and PostgreSQL compares ``timestamptz``. ``=`` with a date and no
    time matches the whole (UTC) day.
    """

    def __init__(self, name: str, column: InstrumentedAttribute[Any], nullable: bool) -> None:
        self.name = name
        self.column = column
        self.nullable = nullable

    def condition(self, clause: Clause, context: Context) -> Condition:
        operator = clause.operator
        if operator in EMPTINESS:
            return emptiness(clause, self.column, self.nullable)
        if operator not in EQUALITY | ORDERING:
            raise unsupported_operator(operator, self.name)
        if operator in ORDERING:
            moment = self._moment(single_value(clause), context, operator)
            return compare(self.column, operator, moment.instant)
        matches: list[Condition] = []
        for value in as_values(clause.operand):
            if isinstance(value, Empty):
                matches.append(emptiness(Clause(self.name, "is", value), self.column, True))
                continue
            moment = self._moment(value, context, operator)
            if moment.whole_day:
                start = moment.instant
                matches.append(and_(self.column >= start, self.column < start + timedelta(1)))
            else:
                matches.append(self.column == moment.instant)
        matched = or_(*matches) if len(matches) > 1 else matches[0]
        if operator in ("=", "in"):
            return matched
        return and_(self.column.is_not(None), not_(matched))

    def _moment(self, value: Value, context: Context, operator: str) -> dates.Moment:
        if isinstance(value, Empty):
            raise unsupported_operator(operator, self.name)
        if isinstance(value, FunctionCall) and value.name.lower() not in dates.DATE_FUNCTIONS:
            raise function_error(value, self.name)
        return dates.resolve(value, self.name, context.now)


class DateField(DateTimeField):
    """duedate: a calendar date; an instant compares as the day it falls on (UTC)."""

    def condition(self, clause: Clause, context: Context) -> Condition:
        operator = clause.operator
        if operator in EMPTINESS or operator not in EQUALITY | ORDERING:
            return super().condition(clause, context)
        if operator in ORDERING:
            day = self.day_bound(self._moment(single_value(clause), context, operator), operator)
            return compare(self.column, operator, day)
        matches: list[Condition] = []
        for value in as_values(clause.operand):
            if isinstance(value, Empty):
                matches.append(self.column.is_(None))
            else:
                matches.append(self.column == self._moment(value, context, operator).day)
        matched = or_(*matches) if len(matches) > 1 else matches[0]
        if operator in ("=", "in"):
            return matched
        return and_(self.column.is_not(None), not_(matched))

    @staticmethod
    def day_bound(moment: dates.Moment, operator: str) -> date:
        """The day an ordering compares a date with (custom date fields share it)."""
        # A due date D stands for D 00:00: "duedate < now()" includes today, and
        # "duedate >= now()" starts tomorrow unless now is exactly midnight.
        day = moment.day
        if operator in (">=", "<") and moment.instant.time() != datetime.min.time():
            day += timedelta(days=1)
        return day
