"""Who may be assigned, and who may browse: ``/user/assignable/search``,
``/user/assignable/multiProjectSearch`` and ``/user/viewissue/search`` (docs/jira-compat.md
§5.7). Each answers a JSON array of users, by name, like ``/user/search``.

* **Assignable**: every active user. ``PUT …/assignee`` and an issue's ``assignee`` accept
  any active user, so that is who may be assigned, in every project.
* **May browse**: active users the access rules let read the issue (``GET …/issue/{key}``;
  for a project, a stand-in key of it, ``KEY-1``), judged by their directory groups, as the
  rules judge a request. Token-only groups, scopes and client networks belong to a request,
  not to a user, so they cannot be judged for someone else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import bad_request
from jiraguard.jira.context import base_url, database, issue_record_or_404
from jiraguard.jira.params import query_int, query_list, query_str
from jiraguard.jira.project_items import project_of
from jiraguard.jira.routes.permission import rest_prefix
from jiraguard.jira.views import user_of
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.directory import search_users
from jiraguard.store.models import User

MAX_USERS = 1000
BATCH = 200
NO_PLACE = "No project, issue key or issue ID was provided"


def _page(request: Request) -> tuple[str, int, int]:
    text = query_str(request, "username") or query_str(request, "query") or ""
    start_at = query_int(request, "startAt", 0)
    max_results = min(query_int(request, "maxResults", 50), MAX_USERS)
    return text, start_at, max_results


def _answer(request: Request, users: Sequence[User]) -> Response:
    base = base_url(request)
    return JiraJSONResponse([body for body in (user_of(base, u) for u in users) if body])


async def _active(
    session: AsyncSession, text: str, start_at: int, max_results: int
) -> Sequence[User]:
    return await search_users(
        session, text, start_at=start_at, max_results=max_results,
        include_active=True, include_inactive=False,
    )  # fmt: skip


async def assignable(request: Request) -> Response:
    """GET /user/assignable/search?project=|issueKey=[&username=&startAt=&maxResults=]."""
    text, start_at, max_results = _page(request)
    issue = query_str(request, "issueKey") or query_str(request, "issueId")
    project = query_str(request, "project")
    if issue is None and project is None:
        raise bad_request(NO_PLACE)
    async with database(request).session() as session:
        if issue is not None:
            await issue_record_or_404(session, issue)
        else:
            await project_of(session, str(project))
        return _answer(request, await _active(session, text, start_at, max_results))


async def assignable_many(request: Request) -> Response:
    """GET /user/assignable/multiProjectSearch?projectKeys=A,B[&username=…]: users who may
    be assigned in all of them."""
    text, start_at, max_results = _page(request)
    keys = query_list(request, "projectKeys")
    if not keys:
        raise bad_request(NO_PLACE)
    async with database(request).session() as session:
        for key in keys[:100]:
            await project_of(session, key)
        return _answer(request, await _active(session, text, start_at, max_results))


async def _browsers(
    session: AsyncSession, text: str, start_at: int, max_results: int, may: Callable[[User], bool]
) -> list[User]:
    """One page of the active users matching ``text`` for whom ``may`` holds, by name."""
    found: list[User] = []
    offset = 0
    while len(found) < start_at + max_results:
        batch = await search_users(
            session, text, start_at=offset, max_results=BATCH, include_active=True,
            include_inactive=False, with_groups=True,
        )  # fmt: skip
        found.extend(u for u in batch if may(u))
        if len(batch) < BATCH:
            break
        offset += BATCH
    return found[start_at : start_at + max_results]


async def may_browse(request: Request) -> Response:
    """GET /user/viewissue/search?issueKey=|projectKey=[&username=&startAt=&maxResults=]."""
    text, start_at, max_results = _page(request)
    issue = query_str(request, "issueKey")
    project = query_str(request, "projectKey")
    if issue is None and project is None:
        raise bad_request(NO_PLACE)
    path = rest_prefix(request, "/user/viewissue/search") + "/issue/"
    policy = request.app.state.services.policy
    async with database(request).session() as session:
        if issue is not None:
            path += (await issue_record_or_404(session, issue)).key
        else:
            path += f"{(await project_of(session, str(project))).key}-1"

        def may(user: User) -> bool:
            allowed: bool = policy.admits_groups(
                frozenset(g.name for g in user.groups), "GET", path
            )
            return allowed

        return _answer(request, await _browsers(session, text, start_at, max_results, may))


routes = [
    Route("/user/assignable/search", assignable, methods=["GET"]),
    Route("/user/assignable/multiProjectSearch", assignable_many, methods=["GET"]),
    Route("/user/viewissue/search", may_browse, methods=["GET"]),
]
