"""Time tracking: an issue's original and remaining estimates and its time spent, as Jira
shows them (``timetracking``, the flat ``time*`` fields, ``progress``), sets them (the
``timetracking`` field) and adjusts them when work is logged (``adjustEstimate``).

Jira's "modern" mode (the default): both estimates may be set, on create and on edit. An
issue without a remaining estimate and without logged work takes the original estimate as
its remaining estimate when one is set. Durations use ``durations`` (a day is 8 hours).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jiraguard.jira.durations import format_duration, parse_duration
from jiraguard.store.issues import Change
from jiraguard.store.models import Issue

ORIGINAL_ERROR = "timetracking_originalestimate"
REMAINING_ERROR = "timetracking_remainingestimate"
ORIGINAL_INVALID = "The original estimate specified is not valid."
REMAINING_INVALID = "The remaining estimate specified is not valid."
MEMBERS = {
    "originalEstimate": (ORIGINAL_ERROR, ORIGINAL_INVALID),
    "remainingEstimate": (REMAINING_ERROR, REMAINING_INVALID),
}


class TimeTrackingProblem(Exception):
    """A ``timetracking`` value Jira refuses; ``field`` is the key of Jira's error."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Times:
    """Seconds; None where nothing was estimated or logged."""

    original: int | None
    remaining: int | None
    spent: int | None


def timetracking_json(times: Times) -> dict[str, Any]:
    """The ``timetracking`` field: only the members that have a value (``{}`` for none)."""
    body: dict[str, Any] = {}
    for name, seconds in (
        ("originalEstimate", times.original),
        ("remainingEstimate", times.remaining),
        ("timeSpent", times.spent),
    ):
        if seconds is not None:
            body[name] = format_duration(seconds)
    for name, seconds in (
        ("originalEstimateSeconds", times.original),
        ("remainingEstimateSeconds", times.remaining),
        ("timeSpentSeconds", times.spent),
    ):
        if seconds is not None:
            body[name] = seconds
    return body


def progress_json(times: Times) -> dict[str, Any]:
    """``progress``: time spent against spent + remaining; ``percent`` only for a total."""
    spent, remaining = times.spent or 0, times.remaining or 0
    total = spent + remaining
    body: dict[str, Any] = {"progress": spent, "total": total}
    if total > 0:
        body["percent"] = spent * 100 // total
    return body


def work_ratio(times: Times) -> int:
    """``workratio``: time spent as a percentage of the original estimate; -1 without one."""
    if not times.original:
        return -1
    return (times.spent or 0) * 100 // times.original


def flat_fields(times: Times) -> dict[str, Any]:
    """The fields that show the times one by one (no subtasks: aggregates are the same)."""
    return {
        "timeoriginalestimate": times.original,
        "timeestimate": times.remaining,
        "timespent": times.spent,
        "aggregatetimeoriginalestimate": times.original,
        "aggregatetimeestimate": times.remaining,
        "aggregatetimespent": times.spent,
        "progress": progress_json(times),
        "aggregateprogress": progress_json(times),
        "workratio": work_ratio(times),
    }


TIME_FIELDS = frozenset(
    {
        "timeoriginalestimate",
        "timeestimate",
        "timespent",
        "aggregatetimeoriginalestimate",
        "aggregatetimeestimate",
        "aggregatetimespent",
        "progress",
        "aggregateprogress",
        "workratio",
    }
)
"""The fields ``flat_fields`` gives."""


def _estimate(value: Any, member: str) -> int | None:
    """Seconds of an estimate given as a duration (``"1d 2h"``) or as seconds; ``""`` or
    null clears it (None)."""
    field, message = MEMBERS[member]
    if value is None or value == "":
        return None
    if isinstance(value, str):
        seconds = parse_duration(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value if 0 <= value <= 2**31 - 1 else None
    else:
        seconds = None
    if seconds is None:
        raise TimeTrackingProblem(field, message)
    return seconds


def _given(value: dict[str, Any]) -> dict[str, int | None]:
    """The estimates a ``timetracking`` object sets: ``originalEstimate`` and
    ``remainingEstimate`` (or their ``…Seconds``), each only when present."""
    given: dict[str, int | None] = {}
    for member in MEMBERS:
        for key in (member, f"{member}Seconds"):
            if key in value:
                given[member] = _estimate(value[key], member)
                break
    return given


def time_change(field: str, old: int | None, new: int | None) -> Change | None:
    """Jira's changelog item for a time field: seconds as both value and string."""
    if old == new:
        return None
    before, after = (None if s is None else str(s) for s in (old, new))
    return Change(field, before, before, after, after)


def apply_timetracking(issue: Issue, verb: str, value: Any) -> list[Change]:
    """``fields.timetracking`` (``set``) or ``update.timetracking[{"edit": …}]``: the given
    estimates change, the others stay; the changelog items of what changed."""
    if verb not in ("set", "edit"):
        raise TimeTrackingProblem(
            "timetracking", f"The operation '{verb}' is not supported by the field 'timetracking'."
        )
    if value is None:
        value = {"originalEstimate": None, "remainingEstimate": None}
    if not isinstance(value, dict):
        raise TimeTrackingProblem(
            "timetracking", 'Expected an object like {"originalEstimate": "1d"}.'
        )
    given = _given(value)
    original = given.get("originalEstimate", issue.original_estimate)
    remaining = given.get("remainingEstimate", issue.remaining_estimate)
    untouched = issue.remaining_estimate is None and not issue.time_spent
    if "remainingEstimate" not in given and "originalEstimate" in given and untouched:
        remaining = original
    changes = [
        time_change("timeoriginalestimate", issue.original_estimate, original),
        time_change("timeestimate", issue.remaining_estimate, remaining),
    ]
    issue.original_estimate, issue.remaining_estimate = original, remaining
    return [c for c in changes if c is not None]
