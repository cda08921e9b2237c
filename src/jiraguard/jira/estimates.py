"""How logging work moves an issue's remaining estimate: the worklog requests'
``adjustEstimate`` parameter (``auto``, the default; ``new`` with ``newEstimate``; ``leave``;
``manual`` with ``reduceBy`` on add or ``increaseBy`` on delete, not on update), as Jira's
worklog resource reads it. A remaining estimate never goes below zero; an issue without
one counts as zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request

from jiraguard.errors import field_errors
from jiraguard.jira.durations import parse_duration
from jiraguard.jira.params import query_str

Operation = Literal["add", "update", "delete"]
MODES = ("auto", "leave", "new", "manual")
AMOUNT_REQUIRED = "You must supply a valid amount of time to adjust the estimate by."
INVALID_MODE = "The adjustEstimate value must be one of [AUTO, LEAVE, NEW, MANUAL]."
NOT_ON_UPDATE = "The 'manual' adjustment is not applicable when editing a worklog."


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A checked ``adjustEstimate``: the mode and, for ``new`` and ``manual``, seconds."""

    mode: str = "auto"
    seconds: int = 0


def _duration(request: Request, name: str, field: str, missing: str, invalid: str) -> int:
    text = query_str(request, name)
    if text is None:
        raise field_errors({name: missing})
    seconds = parse_duration(text)
    if seconds is None:
        raise field_errors({field: invalid})
    return seconds


def read_adjustment(request: Request, operation: Operation) -> Adjustment:
    """The request's ``adjustEstimate`` and its amount; 400 with Jira's messages."""
    given = query_str(request, "adjustEstimate")
    mode = (given or "auto").strip().lower()
    if mode not in MODES:
        raise field_errors({"adjustEstimate": INVALID_MODE})
    if mode == "new":
        seconds = _duration(
            request,
            "newEstimate",
            "newEstimate",
            "You must supply a valid new estimate.",
            "Invalid new estimate entered.",
        )
        return Adjustment(mode, seconds)
    if mode == "manual":
        if operation == "update":
            raise field_errors({"adjustEstimate": NOT_ON_UPDATE})
        name = "increaseBy" if operation == "delete" else "reduceBy"
        invalid = "Invalid time duration entered to adjust the estimate by."
        return Adjustment(
            mode, _duration(request, name, "adjustmentAmount", AMOUNT_REQUIRED, invalid)
        )
    return Adjustment(mode)


def adjusted(remaining: int | None, adjustment: Adjustment, old: int, new: int) -> int | None:
    """The remaining estimate once a worklog of ``old`` seconds is ``new`` seconds (an add
    has ``old`` 0, a delete ``new`` 0)."""
    if adjustment.mode == "leave":
        return remaining
    if adjustment.mode == "new":
        return adjustment.seconds
    current = remaining or 0
    if adjustment.mode == "manual":
        change = adjustment.seconds if new == 0 else -adjustment.seconds
        return max(0, current + change)
    return max(0, current + old - new)
