"""``syntax`` conditions to one SQLAlchemy condition on ``issues``.

AND, OR and NOT map to SQL's; each clause goes to its field (``fields``), except a saved
filter's (``filter = …``), which stands for the filter's own query (``saved_filters``).
Nothing here writes SQL text: values travel as bound parameters.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select, true

from jiraguard.jira.jql.clauses import Context
from jiraguard.jira.jql.custom_fields import CustomFieldClauses
from jiraguard.jira.jql.disjunctions import Budget, QueryTooLarge, grouped, merge_equalities
from jiraguard.jira.jql.errors import JQLError
from jiraguard.jira.jql.fields import TextField, field
from jiraguard.jira.jql.saved_filters import filter_values, is_filter_clause
from jiraguard.jira.jql.syntax import And, Clause, Condition, Or
from jiraguard.store.models import Issue


def compile_condition(condition: Condition | None, context: Context) -> ColumnElement[bool]:
    """The SQL condition for ``condition``; every issue when there is none.

    Long chains are made safe first (``disjunctions``): OR'ed equalities on one field become
    one ``IN``, the rest is grouped; a query still too large raises ``JQLError``.
    """
    if condition is None:
        return true()
    return _compile(condition, context, Budget())


def _compile(condition: Condition, context: Context, budget: Budget) -> ColumnElement[bool]:
    if isinstance(condition, Clause):
        budget.spend(condition)
        if is_filter_clause(condition):
            return _saved(condition, context, budget)
        return field(condition.field, context.custom).condition(condition, context)
    if isinstance(condition, And):
        return grouped(and_, [_compile(term, context, budget) for term in condition.terms])
    if isinstance(condition, Or):
        return grouped(or_, _compile_any(condition.terms, context, budget))
    return not_(_compile(condition.term, context, budget))


def _saved(clause: Clause, context: Context, budget: Budget) -> ColumnElement[bool]:
    """The issues matching (``=``, ``IN``) or not matching the named filters' queries."""
    terms = []
    for value in filter_values(clause):
        where = context.saved.condition(value)
        terms.append(true() if where is None else _compile(where, context, budget))
    found = or_(*terms) if len(terms) > 1 else terms[0]
    return found if clause.operator in ("=", "in") else not_(found)


def _compile_any(
    terms: tuple[Condition, ...], context: Context, budget: Budget
) -> list[ColumnElement[bool]]:
    compiled: list[ColumnElement[bool]] = []
    for term, parts in merge_equalities(terms):
        if not parts:
            compiled.append(_compile(term, context, budget))
            continue
        spent = budget.clauses, budget.values
        try:
            compiled.append(_compile(term, context, budget))
        except QueryTooLarge:
            raise
        except JQLError:
            # A part is wrong (it raises again, with its own message), or the field takes
            # "=" but not "IN": then the parts are compiled one by one.
            budget.clauses, budget.values = spent
            for part in parts:
                _compile(part, context, Budget())
            compiled.extend(_compile(part, context, budget) for part in parts)
    return compiled


def compile_count(
    condition: Condition | None, where: ColumnElement[bool], context: Context
) -> Select[Any]:
    """``SELECT count(*)`` of the issues matching ``condition`` (compiled as ``where``).

    A query that is a single ``~`` clause may be counted from the full-text index alone, one
    on a custom field from the index of its values.
    """
    if isinstance(condition, Clause) and not is_filter_clause(condition):
        searched = field(condition.field, context.custom)
        if isinstance(searched, TextField | CustomFieldClauses):
            shortcut = searched.count(condition, context)
            if shortcut is not None:
                return shortcut
    return select(func.count()).select_from(Issue).where(where)
