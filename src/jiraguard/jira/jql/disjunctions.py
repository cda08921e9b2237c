"""Long AND and OR chains made safe to run: equalities merged into ``IN`` lists, the rest in
bounded groups, and what is still too large refused with Jira's 400.

A script that ORs 2,000 ``key = …`` clauses would otherwise compile to one flat SQL ``OR``
of 2,000 terms, which SQLite parses into a tree 2,000 levels deep and refuses ("Expression
tree is too large", its limit is 1,000). Jira defines ``f IN (a, b)`` as ``f = a OR f = b``
(Atlassian, "Advanced searching - operators reference"), so OR'ed ``=`` and ``IN`` clauses
on one field become one ``IN`` clause: one indexed lookup, however many values. What cannot
be merged (``~``, ``>``, functions as lists, NOT) is joined in groups of :data:`GROUP`
terms nested in parentheses, so no SQL expression is deeper than a few dozen levels.

A query that still holds more than :data:`MAX_CLAUSES` clauses, or more than
:data:`MAX_VALUES` values in its lists, is a 400 before any SQL is built: the cost of
running it grows with its size, and both databases bound how many parameters one statement
takes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import ColumnElement
from sqlalchemy.sql.elements import Grouping

from jiraguard.jira.jql.errors import JQLError
from jiraguard.jira.jql.syntax import Clause, Condition, Value

GROUP = 64
"""Terms per parenthesised group: SQLite's depth limit is 1,000, a flat group adds 64."""
MAX_CLAUSES = 1000
"""Clauses one query may hold once equalities are merged."""
MAX_VALUES = 10_000
"""Values all the lists of one query may hold together (``key in (…)`` of 10,000 keys)."""

TOO_LARGE = (
    "The JQL query is too large: it has more than {limit} {what}. Combine values of one "
    "field with IN, or split the query."
)


def merge_equalities(terms: Sequence[Condition]) -> list[tuple[Condition, list[Clause]]]:
    """OR'ed ``terms`` with every field's ``=`` and ``IN`` clauses merged into one ``IN``.

    Each item is a term to compile and the clauses it was merged from (empty when it was
    not merged: compile it as it is). A merged clause keeps the place of its first part.
    """
    merged: list[tuple[Condition, list[Clause]]] = []
    where: dict[str, int] = {}
    for term in terms:
        values = _equality_values(term)
        if values is None:
            merged.append((term, []))
            continue
        assert isinstance(term, Clause)
        name = term.field.lower()
        if name not in where:
            where[name] = len(merged)
            merged.append((term, [term]))
            continue
        index = where[name]
        first, parts = merged[index]
        assert isinstance(first, Clause)
        before = _equality_values(first) or ()
        merged[index] = (Clause(first.field, "in", (*before, *values)), [*parts, term])
    return [(term, parts if len(parts) > 1 else []) for term, parts in merged]


def _equality_values(term: Condition) -> tuple[Value, ...] | None:
    """The values an ``=`` or ``IN (…)`` clause accepts; None for any other term."""
    if not isinstance(term, Clause):
        return None
    if term.operator == "in" and isinstance(term.operand, tuple):
        return term.operand
    if term.operator == "=" and not isinstance(term.operand, tuple):
        return (term.operand,)
    return None


class _Parenthesised(Grouping[bool]):
    """A parenthesised group its parent keeps whole: a plain ``Grouping`` passes its inner
    operator through, so SQLAlchemy would flatten an OR group into the OR around it."""

    inherit_cache = True
    operator = None


def grouped(
    join: Callable[..., ColumnElement[bool]], conditions: list[ColumnElement[bool]]
) -> ColumnElement[bool]:
    """``join(*conditions)`` nested in parenthesised groups of at most :data:`GROUP`."""
    while len(conditions) > GROUP:
        conditions = [
            _Parenthesised(join(*conditions[i : i + GROUP]))
            for i in range(0, len(conditions), GROUP)
        ]
    return join(*conditions)


class QueryTooLarge(JQLError):
    """The query holds more clauses or values than one query may."""


class Budget:
    """Counts the clauses and list values compiled for one query; raises past the limits."""

    def __init__(self) -> None:
        self.clauses = 0
        self.values = 0

    def spend(self, clause: Clause) -> None:
        self.clauses += 1
        self.values += len(clause.operand) if isinstance(clause.operand, tuple) else 1
        if self.clauses > MAX_CLAUSES:
            raise QueryTooLarge(TOO_LARGE.format(limit=MAX_CLAUSES, what="clauses"))
        if self.values > MAX_VALUES:
            raise QueryTooLarge(TOO_LARGE.format(limit=f"{MAX_VALUES:,}", what="values"))
