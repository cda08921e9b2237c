"""``/issue/{k}/remotelink``: an issue's links to objects in other systems (Jira's remote
issue links): list, find by ``globalId``, create or update, replace, delete.

Creating and deleting a link write Jira's ``RemoteIssueLink`` changelog item on the issue.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import JiraError, bad_request, not_found
from jiraguard.jira.context import acting_user, base_url, database, issue_or_404
from jiraguard.jira.params import query_str, read_json
from jiraguard.jira.remote_links import link_self, link_text, read_link, remote_link_json
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.ids import is_digits, row_id
from jiraguard.store.issues import Change, record_changes
from jiraguard.store.models import Issue, RemoteLink
from jiraguard.store.remote_links import (
    delete_remote_links,
    find_remote_link,
    issue_remote_links,
)

NO_GLOBAL_ID = "The globalId query parameter was not provided"


def _no_link(issue: Issue, what: str) -> JiraError:
    return not_found(f"No remote issue link with {what} exists on issue '{issue.key}'.")


async def _link(session: AsyncSession, issue: Issue, ident: str) -> RemoteLink:
    """The issue's link named in the path: 400 when the id is not a number, 404 when the
    issue has no such link."""
    number = row_id(ident)
    if not is_digits(ident.removeprefix("-")):  # "-1" is a number, of no link
        raise bad_request(f"The remote issue link id '{ident}' is not a valid number.")
    link = await find_remote_link(session, issue.id, number) if number is not None else None
    if link is None:
        raise _no_link(issue, f"id '{ident}'")
    return link


async def _logged(
    session: AsyncSession, request: Request, issue: Issue, link: RemoteLink, *, added: bool
) -> None:
    """Jira's changelog item for a link added or removed."""
    me = await acting_user(session, request)
    value = (str(link.id), link_text(json.loads(link.document)))
    before, after = ((None, None), value) if added else (value, (None, None))
    change = Change("RemoteIssueLink", before[0], before[1], after[0], after[1])
    await record_changes(session, issue, me.id, [change])


async def listed(request: Request) -> Response:
    """GET /issue/{k}/remotelink: every link (a JSON array); with ``?globalId=``, that one."""
    global_id = query_str(request, "globalId")
    async with database(request).session() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        links = await issue_remote_links(session, issue.id, global_id=global_id)
        base = base_url(request)
        if global_id is None:
            return JiraJSONResponse([remote_link_json(base, issue.key, link) for link in links])
        if not links:
            raise _no_link(issue, f"globalId '{global_id}'")
        return JiraJSONResponse(remote_link_json(base, issue.key, links[0]))


async def create(request: Request) -> Response:
    """POST /issue/{k}/remotelink → 201 ``{id, self}``; a ``globalId`` the issue already
    has updates that link instead → 200."""
    global_id, document = read_link(await read_json(request))
    async with database(request).transaction() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        found = await issue_remote_links(session, issue.id, global_id=global_id)
        existing = found[0] if global_id is not None and found else None
        if existing is not None:
            existing.document = json.dumps(document)
            link = existing
        else:
            link = RemoteLink(issue_id=issue.id, global_id=global_id, document=json.dumps(document))
            session.add(link)
            await session.flush()
            await _logged(session, request, issue, link, added=True)
        created: dict[str, Any] = {
            "id": link.id,
            "self": link_self(base_url(request), issue.key, link.id),
        }
    if existing is not None:
        return JiraJSONResponse(created)
    return JiraJSONResponse(created, status_code=201, headers={"Location": created["self"]})


async def get(request: Request) -> Response:
    """GET /issue/{k}/remotelink/{id}."""
    async with database(request).session() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        link = await _link(session, issue, request.path_params["link"])
        return JiraJSONResponse(remote_link_json(base_url(request), issue.key, link))


async def update(request: Request) -> Response:
    """PUT /issue/{k}/remotelink/{id} → 204: the link becomes what the body gives."""
    global_id, document = read_link(await read_json(request))
    async with database(request).transaction() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        link = await _link(session, issue, request.path_params["link"])
        link.global_id, link.document = global_id, json.dumps(document)
    return Response(status_code=204)


async def _delete(
    session: AsyncSession, request: Request, issue: Issue, links: list[RemoteLink]
) -> None:
    for link in links:
        await _logged(session, request, issue, link, added=False)
    await delete_remote_links(session, [link.id for link in links])


async def remove(request: Request) -> Response:
    """DELETE /issue/{k}/remotelink/{id} → 204."""
    async with database(request).transaction() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        link = await _link(session, issue, request.path_params["link"])
        await _delete(session, request, issue, [link])
    return Response(status_code=204)


async def remove_by_global_id(request: Request) -> Response:
    """DELETE /issue/{k}/remotelink?globalId= → 204: every link of the issue with it."""
    global_id = query_str(request, "globalId")
    if global_id is None:
        raise bad_request(NO_GLOBAL_ID)
    async with database(request).transaction() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        links = list(await issue_remote_links(session, issue.id, global_id=global_id))
        if not links:
            raise _no_link(issue, f"globalId '{global_id}'")
        await _delete(session, request, issue, links)
    return Response(status_code=204)


routes = [
    Route("/issue/{issue}/remotelink", listed, methods=["GET"]),
    Route("/issue/{issue}/remotelink", create, methods=["POST"]),
    Route("/issue/{issue}/remotelink", remove_by_global_id, methods=["DELETE"]),
    Route("/issue/{issue}/remotelink/{link}", get, methods=["GET"]),
    Route("/issue/{issue}/remotelink/{link}", update, methods=["PUT"]),
    Route("/issue/{issue}/remotelink/{link}", remove, methods=["DELETE"]),
]
