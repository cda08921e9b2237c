"""Group administration for Jira administrators: ``POST``/``DELETE /group`` and
``POST``/``DELETE /group/user`` (docs/jira-compat.md §5.6).

Groups here are the directory's, the same a provider's ``groups_attribute`` fills: a group
the provider manages (a target of ``group_mapping``, with ``sync_user``) is written again
from the token at the member's next sign-in, so a change made here to such a group lasts
until then. Every membership change re-checks the user's cached decisions at once.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.auth.principal import ADMIN_GROUP
from jiraguard.errors import bad_request, field_errors, not_found
from jiraguard.jira.context import announce, base_url, database, principal, require_admin
from jiraguard.jira.params import query_str, read_json
from jiraguard.jira.views import group_json, user_of
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.directory import group_by_name, group_members, user_by_name
from jiraguard.store.directory_changes import add_member, create_group, delete_group, remove_member
from jiraguard.store.models import Group, User

MAX_NAME = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
GROUP_TAKEN = "A group or user with this name already exists."
SHOWN = 50
"""Members shown in a group write's answer (``users[0:49]``, as ``expand=users``)."""


async def _group(session: AsyncSession, request: Request, parameter: str = "groupname") -> Group:
    name = query_str(request, parameter)
    if name is None:
        raise bad_request(f"The {parameter} query parameter was not provided")
    found = await group_by_name(session, name)
    if found is None:
        raise not_found(f"The group '{name}' does not exist")
    return found


async def _answer(session: AsyncSession, request: Request, group: Group, status: int) -> Response:
    base = base_url(request)
    total, users = await group_members(
        session, group.id, start_at=0, max_results=SHOWN, include_inactive=True
    )
    items = [body for body in (user_of(base, u) for u in users) if body is not None]
    return JiraJSONResponse(group_json(base, group.name, items, total=total), status_code=status)


def _new_name(value: object) -> str:
    if value is None:
        raise field_errors({"name": "You must specify a group name."})
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > MAX_NAME:
        raise field_errors({"name": f"A group name is 1 to {MAX_NAME} characters."})
    if _CONTROL.search(value):
        raise field_errors({"name": "A group name may not hold control characters."})
    return value.strip()


async def create(request: Request) -> Response:
    """POST /group ``{"name": …}`` → 201 with the group."""
    require_admin(request)
    name = _new_name((await read_json(request)).get("name"))
    try:
        async with database(request).transaction() as session:
            if await group_by_name(session, name) is not None:
                raise bad_request(GROUP_TAKEN)
            group = await create_group(session, name)
            return await _answer(session, request, group, 201)
    except IntegrityError as exc:  # made by a concurrent request
        raise bad_request(GROUP_TAKEN) from exc


def _grants_own_admin(request: Request, group: Group) -> bool:
    """Whether ``group`` is what makes the caller an administrator (no ``admin`` flag)."""
    return group.lower_name == ADMIN_GROUP and not principal(request).admin


async def remove(request: Request) -> Response:
    """DELETE /group?groupname=[&swapGroup=] → 200, empty."""
    require_admin(request)
    async with database(request).transaction() as session:
        group = await _group(session, request)
        swap = (
            await _group(session, request, "swapGroup") if query_str(request, "swapGroup") else None
        )
        if swap is not None and swap.id == group.id:
            raise bad_request("You cannot swap comments to the group that is being deleted.")
        if _grants_own_admin(request, group):
            raise bad_request(
                "You cannot delete a group that grants you system administration privileges."
            )
        await delete_group(session, group, swap)
    await announce(request)
    return Response(status_code=200)


async def _member(session: AsyncSession, name: object) -> User:
    if not isinstance(name, str) or not name.strip():
        raise field_errors({"name": "You must specify a user name."})
    user = await user_by_name(session, name.strip()[: MAX_NAME + 1])
    if user is None:
        raise not_found(f"The user named '{name.strip()[:MAX_NAME]}' does not exist")
    return user


async def add_user(request: Request) -> Response:
    """POST /group/user?groupname= ``{"name": user}`` → 201 with the group."""
    require_admin(request)
    body = await read_json(request)
    async with database(request).transaction() as session:
        group = await _group(session, request)
        user = await _member(session, body.get("name"))
        if any(g.id == group.id for g in user.groups):
            raise bad_request(
                f"Cannot add user. '{user.name}' is already a member of '{group.name}'"
            )
        await add_member(session, user, group.id)
    await announce(request)
    async with database(request).session() as session:
        return await _answer(session, request, group, 201)


async def remove_user(request: Request) -> Response:
    """DELETE /group/user?groupname=&username= → 200, empty."""
    require_admin(request)
    async with database(request).transaction() as session:
        group = await _group(session, request)
        name = query_str(request, "username")
        if name is None:
            raise bad_request("The username query parameter was not provided")
        user = await _member(session, name)
        if user.lower_name == principal(request).username.lower() and _grants_own_admin(
            request, group
        ):
            raise bad_request("You cannot remove yourself from the group granting you "
                              "system administration privileges.")  # fmt: skip
        if not await remove_member(session, user, group.id):
            raise bad_request(
                f"Cannot remove user. '{user.name}' is not a member of '{group.name}'"
            )
    await announce(request)
    return Response(status_code=200)


routes = [
    Route("/group", create, methods=["POST"]),
    Route("/group", remove, methods=["DELETE"]),
    Route("/group/user", add_user, methods=["POST"]),
    Route("/group/user", remove_user, methods=["DELETE"]),
]
