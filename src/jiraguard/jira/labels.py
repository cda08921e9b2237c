"""A label as Jira takes it, for the ``labels`` field and for custom label fields."""

from __future__ import annotations

from typing import Any

MAX_LABEL = 255


class LabelProblem(ValueError):
    """Not a label; the message is Jira's."""


def checked_label(value: Any) -> str:
    """``value`` when it is a label: a non-empty string of at most 255 characters, no spaces."""
    if not isinstance(value, str) or not value:
        raise LabelProblem("Labels must be non-empty strings.")
    if any(ch.isspace() for ch in value):
        raise LabelProblem(f"The label '{value}' contained spaces which is invalid.")
    if len(value) > MAX_LABEL:
        raise LabelProblem(f"The label must not be longer than {MAX_LABEL} characters.")
    return value
