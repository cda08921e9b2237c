"""``/issue/{k}/watchers``: who watches an issue; watch, stop watching, and (for project
administrators, Jira's "Manage watcher list") add or remove others."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import JiraError, bad_request, not_found
from jiraguard.jira.context import acting_user, base_url, database, is_admin, issue_or_404
from jiraguard.jira.params import query_str, read_body
from jiraguard.jira.views import watchers_json
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.directory import user_by_name
from jiraguard.store.issue_people import WATCHERS, add_person, people, remove_person
from jiraguard.store.models import User
from jiraguard.untrusted import UntrustedInput, load_json

MAX_NAME = 255
NOT_A_NAME = "The user to watch must be given as a JSON string: its user name."


def unknown_user(name: str) -> JiraError:
    """404 for a user name nobody has, as ``/user?username=`` answers it."""
    return not_found(f"The user named '{name}' does not exist")


async def named_user(session: AsyncSession, name: str) -> User:
    """The user called ``name`` (any case), or 404."""
    storable = 0 < len(name) <= MAX_NAME and "\x00" not in name  # else it names nobody
    user = await user_by_name(session, name) if storable else None
    if user is None:
        raise unknown_user(name)
    return user


def _body_name(raw: bytes) -> str | None:
    """The user name a POST body gives: a JSON string (``"fred"``), as Jira documents it,
    or the bare name (``fred``) some clients send; empty or ``null``: the caller."""
    text = raw.strip()
    if not text:
        return None
    try:
        value: Any = load_json(text)
    except UntrustedInput as exc:
        if text[:1] in b'{["':
            raise bad_request(NOT_A_NAME) from exc
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError:
            raise bad_request(NOT_A_NAME) from exc
    if value is not None and not isinstance(value, str):
        raise bad_request(NOT_A_NAME)
    return value


async def get(request: Request) -> Response:
    """GET /issue/{k}/watchers → ``{self, isWatching, watchCount, watchers}``."""
    async with database(request).session() as session:
        me = await acting_user(session, request)
        issue = await issue_or_404(session, request.path_params["issue"])
        users = await people(session, WATCHERS, issue.id)
        watching = any(user.id == me.id for user in users)
        return JiraJSONResponse(watchers_json(base_url(request), issue.key, users, watching))


def _refused(me: User, verb: str, key: str) -> JiraError:
    """Jira's 401 for changing someone else's watching without "Manage watcher list"."""
    direction = "to" if verb == "add" else "from"
    message = f"User '{me.name}' is not allowed to {verb} watchers {direction} issue '{key}'"
    return JiraError(401, [message])


async def add(request: Request) -> Response:
    """POST /issue/{k}/watchers ``"username"`` (empty: the caller) → 204."""
    name = _body_name(await read_body(request))
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        issue = await issue_or_404(session, request.path_params["issue"])
        user = me if name is None else await named_user(session, name)
        if user.id != me.id and not is_admin(request):
            raise _refused(me, "add", issue.key)
        await add_person(session, WATCHERS, issue.id, user.id)
    return Response(status_code=204)


async def remove(request: Request) -> Response:
    """DELETE /issue/{k}/watchers?username= → 204 (also when the user was not watching)."""
    name = query_str(request, "username")
    if name is None:
        raise bad_request("The username query parameter was not provided")
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        issue = await issue_or_404(session, request.path_params["issue"])
        user = await named_user(session, name)
        if user.id != me.id and not is_admin(request):
            raise _refused(me, "remove", issue.key)
        await remove_person(session, WATCHERS, issue.id, user.id)
    return Response(status_code=204)


routes = [
    Route("/issue/{issue}/watchers", get, methods=["GET"]),
    Route("/issue/{issue}/watchers", add, methods=["POST"]),
    Route("/issue/{issue}/watchers", remove, methods=["DELETE"]),
]
