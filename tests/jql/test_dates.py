"""Date values and date functions (Atlassian's fields and functions references).

See docs/jira-compat.md §7.

``NOW`` is Wednesday 2026-03-18 15:30 UTC; weeks start on Monday (ISO 8601), days at 00:00
UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from jiraguard.jira.jql import JQLError
from jiraguard.jira.jql.dates import Moment, resolve
from jiraguard.jira.jql.syntax import FunctionCall, Literal

NOW = datetime(2026, 3, 18, 15, 30, tzinfo=UTC)


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Literal("-7d"), Moment(at(2026, 3, 11, 15, 30))),
        (Literal("-2w"), Moment(at(2026, 3, 4, 15, 30))),
        (Literal("4h"), Moment(at(2026, 3, 18, 19, 30))),
        (Literal("-30m"), Moment(at(2026, 3, 18, 15, 0))),
        (Literal("1w 2d"), Moment(at(2026, 3, 27, 15, 30))),
        (Literal("-1w 2d"), Moment(at(2026, 3, 9, 15, 30))),
        (Literal("2024-01-05"), Moment(at(2024, 1, 5), whole_day=True)),
        (Literal("2024/1/5"), Moment(at(2024, 1, 5), whole_day=True)),
        (Literal("2024-01-05 09:45"), Moment(at(2024, 1, 5, 9, 45))),
        (Literal("2024/01/05 9:45"), Moment(at(2024, 1, 5, 9, 45))),
        (FunctionCall("now"), Moment(NOW)),
        (FunctionCall("startOfDay"), Moment(at(2026, 3, 18))),
        (FunctionCall("startofday", ("-1d",)), Moment(at(2026, 3, 17))),
        (FunctionCall("startOfDay", ("1",)), Moment(at(2026, 3, 19))),
        (FunctionCall("endOfDay"), Moment(at(2026, 3, 18, 23, 59, 59, 999999))),
        (FunctionCall("startOfWeek"), Moment(at(2026, 3, 16))),
        (FunctionCall("endOfWeek"), Moment(at(2026, 3, 22, 23, 59, 59, 999999))),
        (FunctionCall("startOfWeek", ("-1w",)), Moment(at(2026, 3, 9))),
        (FunctionCall("startOfMonth"), Moment(at(2026, 3, 1))),
        (FunctionCall("endOfMonth", ("-1",)), Moment(at(2026, 2, 28, 23, 59, 59, 999999))),
        (FunctionCall("startOfMonth", ("+1M",)), Moment(at(2026, 4, 1))),
        (FunctionCall("startOfYear"), Moment(at(2026, 1, 1))),
        (FunctionCall("endOfYear"), Moment(at(2026, 12, 31, 23, 59, 59, 999999))),
    ],
)
def test_values_resolve_to_utc_instants(value: Literal | FunctionCall, expected: Moment) -> None:
    assert resolve(value, "created", NOW) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            Literal("2024-13-01"),
            "Date value '2024-13-01' for field 'created' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'.",
        ),
        (
            Literal("soon"),
            "Date value 'soon' for field 'created' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'.",
        ),
        (
            FunctionCall("startOfDay", ("x",)),
            "Function 'startOfDay' was given an invalid increment 'x' for the field 'created'.",
        ),
        (
            FunctionCall("now", ("1d",)),
            "Function 'now' expected at most 0 argument(s) but received 1.",
        ),
    ],
)
def test_invalid_values(value: Literal | FunctionCall, message: str) -> None:
    with pytest.raises(JQLError) as caught:
        resolve(value, "created", NOW)
    assert str(caught.value) == message
