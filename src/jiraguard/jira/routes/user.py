"""Users and groups: ``/user``, ``/user/search``, ``/groups/picker``, ``/group/member``,
``/group`` (docs/jira-compat.md §3; the server-mode ``username`` parameters)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import bad_request, not_found
from jiraguard.jira.context import base_url, database
from jiraguard.jira.params import MAX_INT, query_flag, query_int, query_str
from jiraguard.jira.views import API, group_json, user_of, user_with_groups
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.directory import (
    group_by_name,
    group_members,
    search_groups,
    search_users,
    user_by_key,
    user_by_name,
)
from jiraguard.store.models import User

_USERS_RANGE = re.compile(r"^users\[(\d+):(\d+)\]$", re.ASCII)
MAX_USERS = 1000


def _user_json(request: Request, user: User) -> dict[str, Any]:
    body = user_of(base_url(request), user)
    assert body is not None
    return body


async def get_user(request: Request) -> Response:
    """GET /user?username= (or key=) → the user, 404 when unknown."""
    name = query_str(request, "username")
    key = query_str(request, "key")
    if name is None and key is None:
        raise bad_request("The username query parameter was not provided")
    async with database(request).session() as session:
        user = await user_by_name(session, name) if name else await user_by_key(session, str(key))
        if user is None:
            raise not_found(f"The user named '{name or key}' does not exist")
        return JiraJSONResponse(user_with_groups(base_url(request), user))


async def find_users(request: Request) -> Response:
    """GET /user/search?username= → a JSON array (active users by default)."""
    text = query_str(request, "username") or query_str(request, "query")
    if text is None:
        raise bad_request("The username query parameter was not provided")
    start_at = query_int(request, "startAt", 0)
    max_results = min(query_int(request, "maxResults", 50), MAX_USERS)
    async with database(request).session() as session:
        users = await search_users(
            session,
            text,
            start_at=start_at,
            max_results=max_results,
            include_active=query_flag(request, "includeActive", True),
            include_inactive=query_flag(request, "includeInactive", False),
        )
        return JiraJSONResponse([_user_json(request, u) for u in users])


async def groups_picker(request: Request) -> Response:
    """GET /groups/picker?query=&exclude=&maxResults= → ``{header, total, groups[{name,
    html}]}``; ``exclude`` (repeated) names groups to leave out."""
    text = query_str(request, "query") or ""
    max_results = query_int(request, "maxResults", 20)
    excluded = {name.lower() for name in request.query_params.getlist("exclude")}
    async with database(request).session() as session:
        groups = [g for g in await search_groups(session, text) if g.lower_name not in excluded]
    shown = groups[:max_results]
    return JiraJSONResponse(
        {
            "header": f"Showing {len(shown)} of {len(groups)} matching groups",
            "total": len(groups),
            "groups": [{"name": g.name, "html": g.name, "labels": []} for g in shown],
        }
    )


def _group_name(request: Request) -> str:
    name = query_str(request, "groupname")
    if name is None:
        raise bad_request("The groupname query parameter was not provided")
    return name


async def members(request: Request) -> Response:
    """GET /group/member?groupname= → paged ``values`` of users."""
    name = _group_name(request)
    start_at = query_int(request, "startAt", 0)
    max_results = min(query_int(request, "maxResults", 50, minimum=1), 50)
    async with database(request).session() as session:
        group = await group_by_name(session, name)
        if group is None:
            raise not_found(f"The group '{name}' does not exist")
        total, users = await group_members(
            session,
            group.id,
            start_at=start_at,
            max_results=max_results,
            include_inactive=query_flag(request, "includeInactiveUsers", False),
        )
        values = [_user_json(request, u) for u in users]
    base = base_url(request)
    body: dict[str, Any] = {
        "self": f"{base}{API}/group/member?groupname={quote(name)}&startAt={start_at}"
        f"&maxResults={max_results}",
        "maxResults": max_results,
        "startAt": start_at,
        "total": total,
        "isLast": start_at + len(values) >= total,
        "values": values,
    }
    if not body["isLast"]:
        body["nextPage"] = (
            f"{base}{API}/group/member?groupname={quote(name)}"
            f"&startAt={start_at + len(values)}&maxResults={max_results}"
        )
    return JiraJSONResponse(body)


async def group(request: Request) -> Response:
    """GET /group?groupname=&expand=users[a:b] → the group with ``users{size,items,…}``.

    ``expand=users`` means ``users[0:50]``; ``a:b`` is inclusive, as in Jira.
    """
    name = _group_name(request)
    expand = query_str(request, "expand") or ""
    first, last = 0, -1
    if expand == "users":
        first, last = 0, 49
    elif match := _USERS_RANGE.match(expand):
        first = min(int(match[1]), MAX_INT)
        last = min(int(match[2]), first + MAX_USERS - 1)
    async with database(request).session() as session:
        found = await group_by_name(session, name)
        if found is None:
            raise not_found(f"The group '{name}' does not exist")
        count = max(last - first + 1, 0)
        total, users = await group_members(
            session, found.id, start_at=first, max_results=count, include_inactive=True
        )
        items = [_user_json(request, u) for u in users]
    return JiraJSONResponse(
        group_json(base_url(request), found.name, items, total=total, first=first, count=count)
    )


routes = [
    Route("/user", get_user, methods=["GET"]),
    Route("/user/search", find_users, methods=["GET"]),
    Route("/groups/picker", groups_picker, methods=["GET"]),
    Route("/group/member", members, methods=["GET"]),
    Route("/group", group, methods=["GET"]),
]
