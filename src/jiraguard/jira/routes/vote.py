"""``/issue/{k}/votes``: who voted for an issue; vote and take a vote back.

As in Jira, nobody votes for an issue they reported, and a resolved issue takes no votes
and gives none back: both are answered 404 with Jira's message. Voting twice, or taking
back a vote never given, changes nothing (204).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import not_found
from jiraguard.jira.context import acting_user, base_url, database, issue_or_404
from jiraguard.jira.views import voters_json
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.issue_people import VOTERS, add_person, people, remove_person
from jiraguard.store.models import Issue, User

OWN_ISSUE = "You cannot vote for an issue you have reported."
RESOLVED = "You cannot vote or change your vote on resolved issues."


def _check_may_vote(issue: Issue, me: User) -> None:
    if issue.reporter_id == me.id:
        raise not_found(OWN_ISSUE)
    if issue.resolution_id is not None:
        raise not_found(RESOLVED)


async def get(request: Request) -> Response:
    """GET /issue/{k}/votes → ``{self, votes, hasVoted, voters}``."""
    async with database(request).session() as session:
        me = await acting_user(session, request)
        issue = await issue_or_404(session, request.path_params["issue"])
        users = await people(session, VOTERS, issue.id)
        voted = any(user.id == me.id for user in users)
        return JiraJSONResponse(voters_json(base_url(request), issue.key, users, voted))


async def add(request: Request) -> Response:
    """POST /issue/{k}/votes (no body) → 204: the caller votes."""
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        issue = await issue_or_404(session, request.path_params["issue"])
        _check_may_vote(issue, me)
        await add_person(session, VOTERS, issue.id, me.id)
    return Response(status_code=204)


async def remove(request: Request) -> Response:
    """DELETE /issue/{k}/votes → 204: the caller's vote is taken back."""
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        issue = await issue_or_404(session, request.path_params["issue"])
        _check_may_vote(issue, me)
        await remove_person(session, VOTERS, issue.id, me.id)
    return Response(status_code=204)


routes = [
    Route("/issue/{issue}/votes", get, methods=["GET"]),
    Route("/issue/{issue}/votes", add, methods=["POST"]),
    Route("/issue/{issue}/votes", remove, methods=["DELETE"]),
]
