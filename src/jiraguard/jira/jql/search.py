"""Run a JQL query: the exact number of matches and one page of issue ids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.jira.jql.clauses import Context
from jiraguard.jira.jql.compiler import compile_condition, compile_count
from jiraguard.jira.jql.custom_fields import jql_names, user_clause_names
from jiraguard.jira.jql.lookups import load_directory
from jiraguard.jira.jql.ordering import apply_order, follows_index
from jiraguard.jira.jql.parser import parse
from jiraguard.jira.jql.saved_filters import load_filters
from jiraguard.jira.jql.syntax import And, Query
from jiraguard.store.comments import PUBLIC, Audience
from jiraguard.store.custom_fields import FieldRecord
from jiraguard.store.models import Issue

DENSE = 1000
"""Matches from which a page walked in index order meets one every few rows (at 100,000
issues, one in a hundred): custom field clauses then test each row by an index lookup."""


async def _context(
    session: AsyncSession,
    query: Query,
    *,
    current_user_id: int | None,
    now: datetime | None = None,
    audience: Audience = PUBLIC,
    saving: int | None = None,
    custom: Sequence[FieldRecord] = (),
) -> Context:
    """What compiling ``query`` consults: its saved filters, then the projects, users… it
    and those filters name, and the ``custom`` fields by JQL name."""
    saved = await load_filters(session, query.where, current_user_id, saving=saving)
    nested = [where for where in saved.queries.values() if where is not None]
    everything = Query(And((query.where, *nested))) if query.where and nested else query
    return Context(
        dialect=session.get_bind().dialect.name,
        now=(now or datetime.now(UTC)).astimezone(UTC),
        directory=await load_directory(session, everything, user_clause_names(custom)),
        current_user_id=current_user_id,
        audience=audience,
        saved=saved,
        custom=jql_names(custom),
    )


async def check_jql(
    session: AsyncSession,
    jql: str,
    *,
    current_user_id: int | None,
    saving: int | None = None,
    custom: Sequence[FieldRecord] = (),
) -> None:
    """Raise ``JQLError`` if ``jql`` is a query Jira would refuse to run (what a saved
    filter's query must pass); ``saving``: the id of the filter it is for, ``custom``: the
    custom fields it may name."""
    query = parse(jql)
    context = await _context(
        session, query, current_user_id=current_user_id, saving=saving, custom=custom
    )
    compile_condition(query.where, context)
    apply_order(select(Issue.id), query.order_by, context.custom)


async def search_issues(
    session: AsyncSession,
    jql: str,
    *,
    current_user_id: int | None,
    start_at: int,
    max_results: int,
    now: datetime | None = None,
    audience: Audience = PUBLIC,
    custom: Sequence[FieldRecord] = (),
) -> tuple[int, list[int]]:
    """Issues matching ``jql``: ``(total, ids)``.

    ``total`` is the exact number of matches; ``ids`` are those from ``start_at`` (0-based)
    on, at most ``max_results`` of them, in the query's ORDER BY order (by default created
    DESC, then id DESC). Blank JQL matches every issue. ``current_user_id`` is whom
    ``currentUser()`` names (``None``: anonymous, it names nobody). ``now`` (UTC, default the
    clock) anchors relative dates and date functions. ``comment ~`` and ``text ~`` look only
    in the comments ``audience`` may read (by default public ones). Raises ``JQLError`` for a
    query Jira would reject, with Jira's message. ``custom``: the custom fields, which the
    query may name by ``cf[id]`` or by name.
    """
    query = parse(jql)
    context = await _context(
        session, query, current_user_id=current_user_id, now=now, audience=audience, custom=custom
    )
    names = context.custom
    where = compile_condition(query.where, context)
    total = (await session.execute(compile_count(query.where, where, context))).scalar_one()
    start_at = max(start_at, 0)
    if max_results <= 0 or start_at >= total:
        apply_order(select(Issue.id), query.order_by, names)  # a bad ORDER BY is still a 400
        return total, []
    page_where = where
    if context.dialect == "sqlite" and follows_index(query.order_by):
        walked = replace(context, probe_text_matches=True, dense=total >= DENSE)
        page_where = compile_condition(query.where, walked)
    page = apply_order(select(Issue.id).where(page_where), query.order_by, names)
    rows = await session.execute(page.offset(start_at).limit(max_results))
    return total, list(rows.scalars())
