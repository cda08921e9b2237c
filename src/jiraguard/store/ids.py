"""Row ids as they arrive in URLs."""

from __future__ import annotations

from jiraguard.untrusted import is_digits

__all__ = ["MAX_ID", "is_digits", "row_id"]

MAX_ID = 2**31 - 1
"""Ids are 32-bit integers in every table; a larger number names no row (and must not reach
the driver: SQLite refuses integers past 64 bits with an OverflowError)."""


def row_id(text: str) -> int | None:
    """The id in ``text`` (ASCII digits only), or None when it cannot name a row.

    The length is checked before ``int()``: thousands of digits would make ``int`` raise
    (or, below the interpreter's limit, take time) for a number that names nothing anyway.
    """
    if not is_digits(text):
        return None
    digits = text.lstrip("0")
    if len(digits) > len(str(MAX_ID)):
        return None
    number = int(digits) if digits else 0
    return number if number <= MAX_ID else None
