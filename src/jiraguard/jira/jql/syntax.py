"""The parsed form of a JQL query: clauses joined by AND, OR and NOT, then ORDER BY.

Positions are Jira's: line and character, both counted from 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Literal:
    """A value as written: bare (``Open``) or quoted (``"In Progress"``), escapes resolved."""

    text: str
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """``name(arg, ...)``, for example ``currentUser()`` or ``startOfDay(-1d)``."""

    name: str
    arguments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Empty:
    """``EMPTY`` or ``NULL``: the field has no value."""


Value = Literal | FunctionCall | Empty
Operand = Value | tuple[Value, ...]
"""One value, or the list of an ``IN`` / ``NOT IN`` clause."""


@dataclass(frozen=True, slots=True)
class Clause:
    """``field operator operand``; ``operator`` is lower-case: ``=``, ``in``, ``is not`` ..."""

    field: str
    operator: str
    operand: Operand


@dataclass(frozen=True, slots=True)
class And:
    terms: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Or:
    terms: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    term: Condition


Condition = Clause | And | Or | Not


def clauses_of(condition: Condition | None) -> Iterator[Clause]:
    """Every clause of ``condition``, in query order."""
    if isinstance(condition, Clause):
        yield condition
    elif isinstance(condition, And | Or):
        for term in condition.terms:
            yield from clauses_of(term)
    elif isinstance(condition, Not):
        yield from clauses_of(condition.term)


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Query:
    """A whole query. ``where`` is ``None`` for an empty query (every issue)."""

    where: Condition | None = None
    order_by: tuple[SortKey, ...] = ()
