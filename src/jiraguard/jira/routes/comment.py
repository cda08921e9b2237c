"""``/issue/{k}/comment``: list (paged), add, get, update, delete.

Only the comment's author or a Jira administrator may update or delete it (403 otherwise).
A comment restricted by ``visibility`` to a group or a project role is listed, shown,
updated or deleted only for that group's or role's members; for anyone else it does not
exist (404), as in Jira (``jira/visibility.py``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import field_errors, forbidden, not_found
from jiraguard.jira.context import acting_user, base_url, database, is_admin, issue_or_404
from jiraguard.jira.expansions import rendered_comment
from jiraguard.jira.params import query_int, query_list, query_str, read_json
from jiraguard.jira.views import comment_json, paged
from jiraguard.jira.visibility import read_visibility, request_audience
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.comments import add_comment, find_comment, page_comments
from jiraguard.store.models import Comment, utcnow

EMPTY_BODY = "Comment body can not be empty!"
MAX_PAGE = 5000


def _shown(request: Request, comment: Comment) -> dict[str, Any]:
    """A comment's JSON, with ``renderedBody`` when ``expand`` asks for it."""
    body = comment_json(base_url(request), comment)
    wanted = {e.lower() for value in query_list(request, "expand") for e in value.split(",")}
    return rendered_comment(body, comment) if "renderedbody" in wanted else body


def _body(document: dict[str, Any]) -> str:
    text = document.get("body")
    if not isinstance(text, str) or not text.strip():
        raise field_errors({"comment": EMPTY_BODY})
    return text


async def _comment(session: AsyncSession, request: Request) -> Comment:
    issue = await issue_or_404(session, request.path_params["issue"])
    wanted = request.path_params["comment"]
    comment = await find_comment(session, issue.id, wanted, audience=request_audience(request))
    if comment is None:
        raise not_found(f"Can not find a comment for the id: {wanted}.")
    return comment


async def list_comments(request: Request) -> Response:
    """GET …/comment: ``{startAt, maxResults, total, comments}``; ``orderBy=-created``."""
    start_at = query_int(request, "startAt", 0)
    asked = query_str(request, "maxResults") is not None
    max_results = min(query_int(request, "maxResults", MAX_PAGE), MAX_PAGE)
    newest_first = (query_str(request, "orderBy") or "").startswith("-")
    async with database(request).session() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        total, comments = await page_comments(
            session,
            issue.id,
            start_at,
            max_results,
            newest_first=newest_first,
            audience=request_audience(request),
        )
        items = [_shown(request, c) for c in comments]
    # Without maxResults, Jira echoes the number of comments returned (docs/jira-compat.md §5).
    shown = max_results if asked else len(items)
    return JiraJSONResponse(
        paged("comments", items, start_at=start_at, max_results=shown, total=total)
    )


async def create(request: Request) -> Response:
    """POST …/comment ``{"body": …, "visibility"?: {"type", "value"}}`` → 201 with the
    comment."""
    document = await read_json(request)
    text = _body(document)
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        issue = await issue_or_404(session, request.path_params["issue"])
        visibility = await read_visibility(
            session, document.get("visibility"), request_audience(request)
        )
        comment = await add_comment(session, issue.id, me.id, text, visibility=visibility)
        issue.updated_at = comment.created_at
        comment_id = comment.id
    return await _render(request, comment_id, status_code=201)


async def _render(request: Request, comment_id: int, *, status_code: int = 200) -> Response:
    async with database(request).session() as session:
        comment = await session.get(Comment, comment_id)
        if comment is None:
            raise not_found(f"Can not find a comment for the id: {comment_id}.")
        return JiraJSONResponse(_shown(request, comment), status_code=status_code)


async def get(request: Request) -> Response:
    """GET …/comment/{id}: one comment of the issue."""
    async with database(request).session() as session:
        comment = await _comment(session, request)
        return JiraJSONResponse(_shown(request, comment))


async def update(request: Request) -> Response:
    """PUT …/comment/{id} → 200 with the updated comment (docs/jira-compat.md rule 11).

    A ``visibility`` in the body replaces the comment's; without one it stays as it was.
    """
    document = await read_json(request)
    text = _body(document)
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        comment = await _comment(session, request)
        if comment.author_id != me.id and not is_admin(request):
            raise forbidden("You do not have the permission to edit this comment.")
        if "visibility" in document:
            level = await read_visibility(
                session, document["visibility"], request_audience(request)
            )
            comment.visibility_type, comment.visibility_value = level or (None, None)
        comment.body = text
        comment.update_author_id = me.id
        comment.updated_at = utcnow()
        comment_id = comment.id
    return await _render(request, comment_id)


async def remove(request: Request) -> Response:
    """DELETE …/comment/{id} → 204."""
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        comment = await _comment(session, request)
        if comment.author_id != me.id and not is_admin(request):
            raise forbidden("You do not have the permission to delete this comment.")
        await session.delete(comment)
    return Response(status_code=204)


routes = [
    Route("/issue/{issue}/comment", list_comments, methods=["GET"]),
    Route("/issue/{issue}/comment", create, methods=["POST"]),
    Route("/issue/{issue}/comment/{comment}", get, methods=["GET"]),
    Route("/issue/{issue}/comment/{comment}", update, methods=["PUT"]),
    Route("/issue/{issue}/comment/{comment}", remove, methods=["DELETE"]),
]
