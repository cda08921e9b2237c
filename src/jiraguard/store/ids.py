"""Row ids as they arrive in URLs."""

from __future__ import annotations

MAX_ID = 2**31 - 1
"""Ids are 32-bit integers in every table; a larger number names no row (and must not reach
the driver: SQLite refuses integers past 64 bits with an OverflowError)."""


def is_digits(text: str) -> bool:
    """Only ASCII digits (``str.isdigit`` alone lets ``"²"`` through, which ``int`` refuses)."""
    return text.isascii() and text.isdigit()


def row_id(text: str) -> int | None:
    """The id in ``text`` (ASCII digits only), or None when it cannot name a row."""
    if not is_digits(text):
        return None
    number = int(text)
    return number if number <= MAX_ID else None
