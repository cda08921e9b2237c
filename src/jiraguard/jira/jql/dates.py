"""Date values and date functions, as instants in UTC.

Per Atlassian's fields reference a date is absolute (``yyyy/MM/dd``, ``yyyy-MM-dd``, either
with `` HH:mm``) or relative to now (``-7d``, ``-2w``, ``4h``, ``-30m``, ``1w 2d``); per its
functions reference ``now()``, ``startOfDay()``, ``endOfDay()``, ``startOfWeek()``,
``endOfWeek()``, ``startOfMonth()``, ``endOfMonth()``, ``startOfYear()`` and ``endOfYear()``
take an optional increment such as ``-1d`` or ``+2w`` (a bare number counts the function's
own unit). The server has no per-user time zone: days start at 00:00 UTC and weeks on
Monday (ISO 8601).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from jiraguard.jira.jql.errors import JQLError
from jiraguard.jira.jql.syntax import FunctionCall, Literal

_ABSOLUTE = re.compile(
    r"(?P<year>\d{4})([-/])(?P<month>\d{1,2})\2(?P<day>\d{1,2})"
    r"(?:\s+(?P<hour>\d{1,2}):(?P<minute>\d{2}))?"
)
_PERIOD = re.compile(r"([-+]?)\s*(\d+)\s*([yMwdhm])")
_PERIOD_FULL = re.compile(r"[-+]?\s*\d+\s*[yMwdhm](?:\s*[-+]?\s*\d+\s*[yMwdhm])*")
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1)}
_UNITS["m"] = timedelta(minutes=1)

EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
"""The instants a date value may name: a day inside datetime's range on both sides, so the
arithmetic after it (the day's end, the next day) cannot overflow."""

OUT_OF_RANGE = (
    "Date value '{value}' for field '{field}' is out of range: dates must fall between the "
    "years 1 and 9999."
)

INVALID_DATE = (
    "Date value '{value}' for field '{field}' is invalid. Valid formats include: "
    "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format "
    "e.g. '-5d', '4w 2d'."
)


@dataclass(frozen=True, slots=True)
class Moment:
    """An instant in UTC; ``whole_day`` when it was written as a date without a time."""

    instant: datetime
    whole_day: bool = False

    @property
    def day(self) -> date:
        return self.instant.date()


def resolve(value: Literal | FunctionCall, field: str, now: datetime) -> Moment:
    """The instant a date value or date function names (``now`` is timezone-aware UTC)."""
    if isinstance(value, FunctionCall):
        return Moment(_bounded(_call(value, field, now), value.name + "()", field))
    text = value.text.strip()
    if match := _ABSOLUTE.fullmatch(text):
        try:
            instant = datetime(
                int(match["year"]),
                int(match["month"]),
                int(match["day"]),
                int(match["hour"] or 0),
                int(match["minute"] or 0),
                tzinfo=UTC,
            )
        except ValueError as exc:
            raise JQLError(INVALID_DATE.format(value=value.text, field=field)) from exc
        return Moment(_bounded(instant, value.text, field), whole_day=match["hour"] is None)
    if _PERIOD_FULL.fullmatch(text):
        try:
            moved = _shift(now, text, default_unit=None)
        except (ValueError, OverflowError):  # -99999999999d: past datetime's range
            raise JQLError(OUT_OF_RANGE.format(value=value.text, field=field)) from None
        return Moment(_bounded(moved, value.text, field))
    raise JQLError(INVALID_DATE.format(value=value.text, field=field))


def _bounded(instant: datetime, value: str, field: str) -> datetime:
    if not EARLIEST <= instant <= LATEST:
        raise JQLError(OUT_OF_RANGE.format(value=value, field=field))
    return instant


def _shift(start: datetime, period: str, default_unit: str | None) -> datetime:
    """``start`` moved by a period: ``-1w 2d`` moves back nine days (the sign leads)."""
    text = period.strip()
    if default_unit and re.fullmatch(r"[-+]?\d+", text):
        text += default_unit
    parts = _PERIOD.findall(text)
    if not parts or not _PERIOD_FULL.fullmatch(text):
        raise ValueError(period)
    sign = -1 if parts[0][0] == "-" else 1
    moved = start
    for explicit, amount, unit in parts:
        step = sign if not explicit else (-1 if explicit == "-" else 1)
        if len(amount.lstrip("0")) > 9:  # beyond 10,000 years in any unit; int() might balk
            raise OverflowError(period)
        moved = _add(moved, step * int(amount), unit)
    return moved


def _add(start: datetime, amount: int, unit: str) -> datetime:
    if unit in _UNITS:
        return start + amount * _UNITS[unit]
    months = amount * (12 if unit == "y" else 1)
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError(f"year {year} is out of range")
    day = min(start.day, _days_in_month(year, month + 1))
    return start.replace(year=year, month=month + 1, day=day)


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


_TICK = timedelta(microseconds=1)


def _start_of_day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _start_of_week(now: datetime) -> datetime:
    return _start_of_day(now) - timedelta(days=now.weekday())


def _start_of_month(now: datetime) -> datetime:
    return _start_of_day(now).replace(day=1)


def _start_of_year(now: datetime) -> datetime:
    return _start_of_month(now).replace(month=1)


# name -> (start of the period, its unit, whether the function names the period's end)
_PERIODS = {
    "startofday": (_start_of_day, "d", False),
    "endofday": (_start_of_day, "d", True),
    "startofweek": (_start_of_week, "w", False),
    "endofweek": (_start_of_week, "w", True),
    "startofmonth": (_start_of_month, "M", False),
    "endofmonth": (_start_of_month, "M", True),
    "startofyear": (_start_of_year, "y", False),
    "endofyear": (_start_of_year, "y", True),
}

DATE_FUNCTIONS = frozenset({"now", *_PERIODS})


def _call(function: FunctionCall, field: str, now: datetime) -> datetime:
    name = function.name.lower()
    if name == "now":
        if function.arguments:
            raise _arguments(function, 0)
        return now
    start, unit, at_end = _PERIODS[name]
    if len(function.arguments) > 1:
        raise _arguments(function, 1)
    moment = start(now)
    if function.arguments:
        try:
            moment = _shift(moment, function.arguments[0], default_unit=unit)
        except OverflowError:
            raise JQLError(_out_of_range(function, field)) from None
        except ValueError:
            raise JQLError(
                f"Function '{function.name}' was given an invalid increment "
                f"'{function.arguments[0]}' for the field '{field}'."
            ) from None
    if at_end:
        # The last instant of the period: the next period's start less one microsecond,
        # the finest step both databases store.
        try:
            moment = _add(moment, 1, unit) - _TICK
        except (ValueError, OverflowError):
            raise JQLError(_out_of_range(function, field)) from None
    return moment


def _out_of_range(function: FunctionCall, field: str) -> str:
    increment = function.arguments[0] if function.arguments else ""
    return (
        f"Function '{function.name}' was given an increment '{increment}' for the field "
        f"'{field}' that leaves the years 1 to 9999."
    )


def _arguments(function: FunctionCall, most: int) -> JQLError:
    return JQLError(
        f"Function '{function.name}' expected at most {most} argument(s) but received "
        f"{len(function.arguments)}."
    )
