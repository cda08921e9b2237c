"""The one JQL error: its text is what Jira shows the user.

The REST layer answers it with 400 and ``{"errorMessages": [str(exc)], "errors": {}}``
(docs/jira-compat.md §6). Messages follow Jira's wording, for example
"Field 'X' does not exist or you do not have permission to view it.".
"""

from __future__ import annotations


class JQLError(Exception):
    """A query that cannot be parsed or run; ``str(exc)`` is the user-facing message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def syntax_error(detail: str, line: int | None = None, column: int | None = None) -> JQLError:
    """An "Error in the JQL Query: ..." error, with Jira's "(line L, character C)" suffix."""
    where = f" (line {line}, character {column})" if line is not None else ""
    return JQLError(f"Error in the JQL Query: {detail}{where}")


def no_such_value(value: str, field: str) -> JQLError:
    return JQLError(f"The value '{value}' does not exist for the field '{field}'.")


def no_such_field(field: str) -> JQLError:
    return JQLError(f"Field '{field}' does not exist or you do not have permission to view it.")


def unsupported_operator(operator: str, field: str) -> JQLError:
    return JQLError(f"The operator '{operator}' is not supported by the '{field}' field.")
