"""Jira's time-tracking durations: ``"1w 2d 3h 30m"`` ⇄ seconds.

Jira's defaults: a day is 8 hours and a week 5 days (``jira.timetracking.hours.per.day``,
``days.per.week``).
"""

from __future__ import annotations

import re

from jiraguard.untrusted import is_digits

UNITS = {"w": 5 * 8 * 3600, "d": 8 * 3600, "h": 3600, "m": 60}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhm])", re.IGNORECASE | re.ASCII)
MAX_SECONDS = 2**31 - 1
"""Worklogs store seconds in a 32-bit column."""
MAX_LENGTH = 100
"""Longest duration text read; "1w 2d 3h 30m" needs a dozen characters."""


def parse_duration(text: str) -> int | None:
    """Seconds in ``text`` (``"1h 30m"``, ``"2d"``, a bare number = minutes); None if invalid."""
    cleaned = text.strip()
    if len(cleaned) > MAX_LENGTH:  # before the regular expression, which is quadratic on digits
        return None
    if is_digits(cleaned):
        minutes = int(cleaned)
        return minutes * 60 if minutes * 60 <= MAX_SECONDS else None
    parts = _PART.findall(cleaned)
    if not parts or _PART.sub("", cleaned).strip():
        return None
    seconds = sum(float(amount) * UNITS[unit.lower()] for amount, unit in parts)
    return round(seconds) if seconds <= MAX_SECONDS else None


def format_duration(seconds: int) -> str:
    """``5400`` → ``"1h 30m"``, as Jira prints ``timeSpent``."""
    parts = []
    remaining = seconds
    for unit, size in UNITS.items():
        amount, remaining = divmod(remaining, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return " ".join(parts) or "0m"
