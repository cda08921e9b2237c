"""``filter = 10000``, ``filter = "My bugs"``, ``filter in (…)``: clauses naming saved filters
(also spelt ``request``, ``savedFilter``, ``searchRequest``), each standing for its filter's
query (its ORDER BY is ignored, as in Jira).

The filters are looked up and parsed before compiling, following the filters they name in
turn; a filter that comes back to itself is Jira's "causes a cycle" error. A searcher sees
only the filters they own (filters are private here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.jira.jql.errors import JQLError, no_such_value, unsupported_operator
from jiraguard.jira.jql.parser import as_values, parse
from jiraguard.jira.jql.syntax import Clause, Condition, Empty, FunctionCall, Literal, clauses_of
from jiraguard.store.filters import owned_filter
from jiraguard.store.models import Filter

FILTER_FIELDS = frozenset({"filter", "request", "savedfilter", "searchrequest"})
OPERATORS = frozenset({"=", "!=", "in", "not in"})


@dataclass(frozen=True, slots=True)
class SavedFilters:
    """The filters a query names: value (as written, lower case) → filter id → its query."""

    ids: dict[str, int] = field(default_factory=dict)
    queries: dict[int, Condition | None] = field(default_factory=dict)

    def condition(self, value: Literal) -> Condition | None:
        """The query of the filter ``value`` names (None: every issue)."""
        return self.queries[self.ids[_key(value)]]


def _key(value: Literal) -> str:
    return value.text.strip().lower()


def is_filter_clause(clause: Clause) -> bool:
    return clause.field.lower() in FILTER_FIELDS


def filter_values(clause: Clause) -> list[Literal]:
    """The values of a filter clause; Jira's errors for operators and values it refuses."""
    if clause.operator not in OPERATORS:
        raise unsupported_operator(clause.operator, clause.field)
    values: list[Literal] = []
    for value in as_values(clause.operand):
        if isinstance(value, FunctionCall):
            raise JQLError(
                f"A value provided by the function '{value.name}' is invalid for the field "
                f"'{clause.field}'."
            )
        if isinstance(value, Empty):
            raise unsupported_operator(clause.operator, clause.field)
        values.append(value)
    return values


async def load_filters(
    session: AsyncSession,
    where: Condition | None,
    owner_id: int | None,
    *,
    saving: int | None = None,
) -> SavedFilters:
    """Every filter ``where`` names, and those they name, parsed. ``saving``: the id of the
    filter whose query ``where`` is about to become, which it must not come back to."""
    found = SavedFilters()
    stack: list[int] = [saving] if saving is not None else []

    looked_up: dict[str, Filter | None] = {}

    async def visit(condition: Condition | None) -> None:
        for clause in clauses_of(condition):
            if not is_filter_clause(clause):
                continue
            for value in filter_values(clause):
                text = _key(value)
                saved = looked_up.get(text)
                if saved is None:  # one look-up per value, however often it is listed
                    saved = looked_up[text] = await owned_filter(session, owner_id, text)
                if saved is None:
                    raise no_such_value(value.text, clause.field)
                if saved.id in stack:
                    raise JQLError(
                        f"Field '{clause.field}' with value '{value.text}' matches filter "
                        f"'{saved.name}' and causes a cycle."
                    )
                found.ids[text] = saved.id
                if saved.id not in found.queries:
                    nested = parse(saved.jql).where
                    found.queries[saved.id] = nested
                    stack.append(saved.id)
                    await visit(nested)
                    stack.pop()

    await visit(where)
    return found
