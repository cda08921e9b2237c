"""``/issue/{k}/watchers`` and ``/issue/{k}/votes``: who watches an issue and who voted for
it (``store.issue_people``). Anyone may watch or stop watching; adding or removing someone
else is for project administrators (Jira's "Manage watcher list"). As in Jira, nobody
votes for an issue they reported, and a resolved issue takes no votes and gives none back
(404 with Jira's messages). Adding someone already listed, or removing someone who is not,
changes nothing (204)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import JiraError, bad_request, not_found
from jiraguard.jira.context import acting_user, base_url, database, is_admin, issue_or_404
from jiraguard.jira.params import query_str, read_body
from jiraguard.jira.views import voters_json, watchers_json
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.directory import user_by_name
from jiraguard.store.issue_people import VOTERS, WATCHERS, add_person, people, remove_person
from jiraguard.store.models import Issue, User
from jiraguard.untrusted import UntrustedInput, load_json

MAX_NAME = 255
NOT_A_NAME = "The user to watch must be given as a JSON string: its user name."
OWN_ISSUE = "You cannot vote for an issue you have reported."
RESOLVED = "You cannot vote or change your vote on resolved issues."

Who = Callable[[AsyncSession, Issue, User], Awaitable[User]]
"""Whom a change is for, given the issue and the caller; raises when it is not allowed."""
Act = Callable[[AsyncSession, Table, int, int], Awaitable[None]]


async def _named_user(session: AsyncSession, name: str) -> User:
    """The user called ``name`` (any case), or 404 as ``/user?username=`` answers."""
    storable = 0 < len(name) <= MAX_NAME and "\x00" not in name  # else it names nobody
    user = await user_by_name(session, name) if storable else None
    if user is None:
        raise not_found(f"The user named '{name}' does not exist")
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


async def _listed(request: Request, table: Table) -> tuple[str, Sequence[User], bool]:
    """The issue's key, the users on its list, and whether the caller is one of them."""
    async with database(request).session() as session:
        me = await acting_user(session, request)
        issue = await issue_or_404(session, request.path_params["issue"])
        users = await people(session, table, issue.id)
        return issue.key, users, any(user.id == me.id for user in users)


async def _change(request: Request, table: Table, act: Act, who: Who) -> Response:
    """Put ``who``'s user on the issue's list, or take them off (``act``) → 204."""
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        issue = await issue_or_404(session, request.path_params["issue"])
        user = await who(session, issue, me)
        await act(session, table, issue.id, user.id)
    return Response(status_code=204)


def _watcher(name: str | None, verb: str, manager: bool) -> Who:
    """The user ``name`` (None: the caller); someone else only for a ``manager`` (a project
    administrator), else Jira's 401: ``User 'carol' is not allowed to add watchers to issue
    'TEST-1'``."""

    async def who(session: AsyncSession, issue: Issue, me: User) -> User:
        user = me if name is None else await _named_user(session, name)
        if user.id != me.id and not manager:
            direction = "to" if verb == "add" else "from"
            message = f"User '{me.name}' is not allowed to {verb} watchers {direction} "
            raise JiraError(401, [f"{message}issue '{issue.key}'"])
        return user

    return who


async def _voter(session: AsyncSession, issue: Issue, me: User) -> User:
    if issue.reporter_id == me.id:
        raise not_found(OWN_ISSUE)
    if issue.resolution_id is not None:
        raise not_found(RESOLVED)
    return me


async def watchers(request: Request) -> Response:
    """GET /issue/{k}/watchers → ``{self, isWatching, watchCount, watchers}``."""
    key, users, mine = await _listed(request, WATCHERS)
    return JiraJSONResponse(watchers_json(base_url(request), key, users, mine))


async def watch(request: Request) -> Response:
    """POST /issue/{k}/watchers ``"username"`` (empty: the caller) → 204."""
    name = _body_name(await read_body(request))
    return await _change(request, WATCHERS, add_person, _watcher(name, "add", is_admin(request)))


async def unwatch(request: Request) -> Response:
    """DELETE /issue/{k}/watchers?username= → 204."""
    name = query_str(request, "username")
    if name is None:
        raise bad_request("The username query parameter was not provided")
    who = _watcher(name, "remove", is_admin(request))
    return await _change(request, WATCHERS, remove_person, who)


async def voters(request: Request) -> Response:
    """GET /issue/{k}/votes → ``{self, votes, hasVoted, voters}``."""
    key, users, mine = await _listed(request, VOTERS)
    return JiraJSONResponse(voters_json(base_url(request), key, users, mine))


async def vote(request: Request) -> Response:
    """POST /issue/{k}/votes (no body) → 204: the caller votes."""
    return await _change(request, VOTERS, add_person, _voter)


async def unvote(request: Request) -> Response:
    """DELETE /issue/{k}/votes → 204: the caller's vote is taken back."""
    return await _change(request, VOTERS, remove_person, _voter)


routes = [
    Route("/issue/{issue}/watchers", watchers, methods=["GET"]),
    Route("/issue/{issue}/watchers", watch, methods=["POST"]),
    Route("/issue/{issue}/watchers", unwatch, methods=["DELETE"]),
    Route("/issue/{issue}/votes", voters, methods=["GET"]),
    Route("/issue/{issue}/votes", vote, methods=["POST"]),
    Route("/issue/{issue}/votes", unvote, methods=["DELETE"]),
]
