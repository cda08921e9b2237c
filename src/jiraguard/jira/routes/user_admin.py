"""User administration for Jira administrators: ``POST``, ``PUT`` and ``DELETE /user``
(docs/jira-compat.md §5.6).

A user made here is the same directory row a provider's token is mapped to: names compare
case-insensitively (``lower_name`` is unique), so a token whose username is ``eve`` acts as
the ``Eve`` made here, and a user the provider created just in time cannot be made again
(400, as Jira answers a taken name). No password is kept: users sign in through the
identity provider, so ``password`` and ``notification`` are accepted and ignored.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import JiraError, bad_request, field_errors, not_found
from jiraguard.jira.context import announce, base_url, database, principal, require_admin
from jiraguard.jira.params import query_str, read_json
from jiraguard.jira.project_items import flag_member, text_member
from jiraguard.jira.views import user_with_groups
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.changes import USER, record
from jiraguard.store.directory import user_by_name
from jiraguard.store.directory_changes import delete_user, references
from jiraguard.store.models import User
from jiraguard.store.users import UserExists

MAX_TEXT = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
NAME_TAKEN = "A user with that username already exists."
NO_USERNAME = "The username query parameter was not provided"


def _text(body: dict[str, Any], member: str, error: str, errors: dict[str, str]) -> str | None:
    """A profile string: no control characters, at most 255 characters."""
    value = text_member(body, member, errors)
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_TEXT or _CONTROL.search(value):
        errors[error] = (
            f"'{member}' must be 1 to {MAX_TEXT} characters, without control characters."
        )
        return None
    return value


def _email(body: dict[str, Any], errors: dict[str, str]) -> str | None:
    email = _text(body, "emailAddress", "email", errors)
    if email is not None and not _EMAIL.match(email):
        errors["email"] = "You must specify a valid email address."
        return None
    return email


async def create(request: Request) -> Response:
    """POST /user ``{name, emailAddress, displayName, password?}`` → 201 with the user."""
    require_admin(request)
    body = await read_json(request)
    errors: dict[str, str] = {}
    name = _text(body, "name", "username", errors)
    email = _email(body, errors)
    display = _text(body, "displayName", "displayName", errors)
    for member, key, message in (
        ("name", "username", "You must specify a username."),
        ("emailAddress", "email", "You must specify an email address."),
        ("displayName", "displayName", "You must specify a full name."),
    ):
        if body.get(member) is None:
            errors[key] = message
    if errors or name is None or email is None:
        raise field_errors(errors)
    try:
        made = await request.app.state.services.users.add(name, display_name=display, email=email)
    except UserExists as exc:
        raise field_errors({"username": NAME_TAKEN}) from exc
    async with database(request).session() as session:
        user = await user_by_name(session, made.name)
        assert user is not None
        return JiraJSONResponse(user_with_groups(base_url(request), user), status_code=201)


async def _named(session: AsyncSession, request: Request) -> User:
    name = query_str(request, "username")
    if name is None:
        raise bad_request(NO_USERNAME)
    user = await user_by_name(session, name)
    if user is None:
        raise not_found(f"The user named '{name}' does not exist")
    return user


async def update(request: Request) -> Response:
    """PUT /user?username= ``{emailAddress?, displayName?, active?}`` → 200 with the user.
    Renaming is refused: provider tokens find their user by this name."""
    require_admin(request)
    body = await read_json(request)
    async with database(request).transaction() as session:
        user = await _named(session, request)
        errors: dict[str, str] = {}
        new_name = text_member(body, "name", errors)
        if new_name is not None and new_name.strip().lower() != user.lower_name:
            errors["username"] = (
                "Users cannot be renamed here: identity provider tokens are mapped to users "
                "by name."
            )
        email = _email(body, errors) if "emailAddress" in body else None
        display = _text(body, "displayName", "displayName", errors)
        active = flag_member(body, "active", errors)
        if active is False and user.lower_name == principal(request).username.lower():
            errors["active"] = "You cannot deactivate yourself."
        if errors:
            raise field_errors(errors)
        user.email = email if email is not None else user.email
        user.display_name = display or user.display_name
        user.active = user.active if active is None else active
        await record(session, USER, user.name)
        answer = user_with_groups(base_url(request), user)
    await announce(request)
    return JiraJSONResponse(answer)


def _in_use(name: str, count: int) -> JiraError:
    return bad_request(
        f"Cannot delete user '{name}': {count} issues, comments, worklogs, attachments, "
        "history entries or projects refer to them. Deactivate the user instead."
    )


async def remove(request: Request) -> Response:
    """DELETE /user?username= → 204; refused for oneself and for a user others' records
    name (Jira's "user has activity": deactivate them instead)."""
    require_admin(request)
    async with database(request).transaction() as session:
        user = await _named(session, request)
        if user.lower_name == principal(request).username.lower():
            raise bad_request("You cannot delete the currently logged in user.")
        count = await references(session, user.id)
        if count:
            raise _in_use(user.name, count)
        await delete_user(session, user)
    await announce(request)
    return Response(status_code=204)


routes = [
    Route("/user", create, methods=["POST"]),
    Route("/user", update, methods=["PUT"]),
    Route("/user", remove, methods=["DELETE"]),
]
