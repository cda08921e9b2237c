"""``/filter``: saved searches. Create, read, update, delete, ``/filter/favourite`` and
``/filter/my``.

A filter is private to its owner: ``sharePermissions`` may only be empty (Jira's "private"),
and others get Jira's "not available to you" answer, as for a filter that does not exist.
The JQL is checked as a search would run it: a query Jira would refuse is refused under
``jql``, with the search's message, and so is one naming this filter again (a cycle).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import bad_request, field_errors
from jiraguard.jira.context import acting_user, base_url, database
from jiraguard.jira.jql import JQLError
from jiraguard.jira.jql.search import check_jql
from jiraguard.jira.params import read_json
from jiraguard.jira.project_items import clean_name, flag_member, text_member
from jiraguard.jira.views import filter_json
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.custom_fields import custom_fields
from jiraguard.store.filters import filter_name_taken, find_filter, owner_filters
from jiraguard.store.models import Filter, User

NAME_REQUIRED = "You must specify a name to save this filter as."
NAME_TAKEN = "Filter with same name already exists."
NOT_AVAILABLE = (
    "The selected filter is not available to you, perhaps it has been deleted or had its "
    "permissions changed."
)
PRIVATE_ONLY = "Filters are private to their owner here: 'sharePermissions' must be empty."
MAX_JQL = 100_000
"""Longest query saved; a search reads the same bound (``search``'s ``jql``)."""


async def _mine(session: AsyncSession, request: Request, me: User) -> Filter:
    """The filter in the path, if the caller owns it; else Jira's 400 "not available"."""
    found = await find_filter(session, request.path_params["id"])
    if found is None or found.owner_id != me.id:
        raise bad_request(NOT_AVAILABLE)
    return found


async def _apply(
    session: AsyncSession, saved: Filter, body: dict[str, Any], me: User, errors: dict[str, str]
) -> None:
    """Set the members ``body`` gives on ``saved``; problems in ``errors`` (Jira's keys)."""
    name = clean_name(text_member(body, "name", errors), errors, NAME_REQUIRED, "filterName")
    if name is not None:
        if await filter_name_taken(session, me.id, name, other_than=saved.id):
            errors["filterName"] = NAME_TAKEN
        else:
            saved.name, saved.lower_name = name, name.lower()
    description = text_member(body, "description", errors)
    if description is not None:
        saved.description = description
    favourite = flag_member(body, "favourite", errors)
    if favourite is not None:
        saved.favourite = favourite
    shares = body.get("sharePermissions")
    if shares is not None and shares != []:
        errors["sharePermissions"] = PRIVATE_ONLY
    jql = text_member(body, "jql", errors)
    if jql is not None:
        if len(jql) > MAX_JQL:
            errors["jql"] = f"The JQL query must not be longer than {MAX_JQL} characters."
            return
        try:
            custom = await custom_fields(session)
            await check_jql(session, jql, current_user_id=me.id, saving=saved.id, custom=custom)
        except JQLError as exc:
            errors["jql"] = str(exc)
            return
        saved.jql = jql


async def _answer(request: Request, filter_id: int, status: int = 200) -> Response:
    async with database(request).session() as session:
        saved = await session.get(Filter, filter_id)
        if saved is None:  # deleted in between
            raise bad_request(NOT_AVAILABLE)
        return JiraJSONResponse(filter_json(base_url(request), saved), status_code=status)


async def create(request: Request) -> Response:
    """POST /filter ``{name, jql, description?, favourite?}`` → 200 with the filter, as
    Jira answers."""
    body = await read_json(request)
    try:
        async with database(request).transaction() as session:
            me = await acting_user(session, request)
            saved = Filter(owner_id=me.id, name="", lower_name="", description="", jql="")
            saved.favourite = False
            errors: dict[str, str] = {}
            if not (isinstance(body.get("name"), str) and body["name"].strip()):
                errors["filterName"] = NAME_REQUIRED
            await _apply(session, saved, body, me, errors)
            if errors:
                raise field_errors(errors)
            session.add(saved)
            await session.flush()
            filter_id = saved.id
    except IntegrityError as exc:  # a concurrent create took the name
        raise field_errors({"filterName": NAME_TAKEN}) from exc
    return await _answer(request, filter_id)


async def get(request: Request) -> Response:
    """GET /filter/{id}: the caller's own filter."""
    async with database(request).session() as session:
        me = await acting_user(session, request)
        saved = await _mine(session, request, me)
        return JiraJSONResponse(filter_json(base_url(request), saved))


async def update(request: Request) -> Response:
    """PUT /filter/{id} → 200 with the filter; only the given members change."""
    body = await read_json(request)
    try:
        async with database(request).transaction() as session:
            me = await acting_user(session, request)
            saved = await _mine(session, request, me)
            errors: dict[str, str] = {}
            await _apply(session, saved, body, me, errors)
            if errors:
                raise field_errors(errors)
            filter_id = saved.id
    except IntegrityError as exc:
        raise field_errors({"filterName": NAME_TAKEN}) from exc
    return await _answer(request, filter_id)


async def remove(request: Request) -> Response:
    """DELETE /filter/{id} → 204. A filter another names stays named: that one then fails
    as Jira's does, with "does not exist"."""
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        await session.delete(await _mine(session, request, me))
    return Response(status_code=204)


async def _listing(request: Request, *, favourites: bool) -> Response:
    async with database(request).session() as session:
        me = await acting_user(session, request)
        found = await owner_filters(session, me.id, favourites=favourites)
        base = base_url(request)
        return JiraJSONResponse([filter_json(base, f) for f in found])


async def favourites(request: Request) -> Response:
    """GET /filter/favourite: the caller's favourite filters (a JSON array)."""
    return await _listing(request, favourites=True)


async def mine(request: Request) -> Response:
    """GET /filter/my: every filter the caller owns."""
    return await _listing(request, favourites=False)


routes = [
    Route("/filter", create, methods=["POST"]),
    Route("/filter/favourite", favourites, methods=["GET"]),
    Route("/filter/my", mine, methods=["GET"]),
    Route("/filter/{id}", get, methods=["GET"]),
    Route("/filter/{id}", update, methods=["PUT"]),
    Route("/filter/{id}", remove, methods=["DELETE"]),
]
