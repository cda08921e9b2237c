"""``syntax`` conditions to one SQLAlchemy condition on ``issues``.

AND, OR and NOT map to SQL's; each clause goes to its field (``fields``). Nothing here
writes SQL text: values travel as bound parameters.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select, true

from jiraguard.jira.jql.clauses import Context
from jiraguard.jira.jql.fields import TextField, field
from jiraguard.jira.jql.syntax import And, Clause, Condition, Or
from jiraguard.store.models import Issue


def compile_condition(condition: Condition | None, context: Context) -> ColumnElement[bool]:
    """The SQL condition for ``condition``; every issue when there is none."""
    if condition is None:
        return true()
    if isinstance(condition, Clause):
        return field(condition.field).condition(condition, context)
    if isinstance(condition, And):
        return and_(*(compile_condition(term, context) for term in condition.terms))
    if isinstance(condition, Or):
        return or_(*(compile_condition(term, context) for term in condition.terms))
    return not_(compile_condition(condition.term, context))


def compile_count(
    condition: Condition | None, where: ColumnElement[bool], context: Context
) -> Select[Any]:
    """``SELECT count(*)`` of the issues matching ``condition`` (compiled as ``where``).

    A query that is a single ``~`` clause may be counted from the full-text index alone.
    """
    if isinstance(condition, Clause):
        searched = field(condition.field)
        shortcut = searched.count(condition, context) if isinstance(searched, TextField) else None
        if shortcut is not None:
            return shortcut
    return select(func.count()).select_from(Issue).where(where)
