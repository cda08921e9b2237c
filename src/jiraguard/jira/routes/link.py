"""``/issueLink``: create (201, empty body), get, delete."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import bad_request, field_errors, not_found
from jiraguard.jira import catalog
from jiraguard.jira.context import acting_user, base_url, database
from jiraguard.jira.params import member_object, read_json
from jiraguard.jira.views import API, issue_self, link_type_json
from jiraguard.jira.visibility import read_visibility, request_audience
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.comments import add_comment
from jiraguard.store.ids import is_digits
from jiraguard.store.issues import Change, find_issue, record_changes
from jiraguard.store.links import add_link, delete_link, find_link
from jiraguard.store.models import Issue


def _link_type(value: dict[str, Any]) -> catalog.LinkType:
    ident, name = value.get("id"), value.get("name")
    found = None
    if ident is not None and is_digits(str(ident)):
        found = catalog.by_id(catalog.LINK_TYPES, int(str(ident)))
    elif isinstance(name, str):
        found = catalog.by_name(catalog.LINK_TYPES, name)
    if found is None:
        raise not_found(f"No issue link type with name '{name or ident}' found.")
    return found


async def _issue(session: AsyncSession, value: dict[str, Any], member: str) -> Issue:
    ref = value.get("key", value.get("id"))
    if not isinstance(ref, (str, int)) or isinstance(ref, bool):
        raise field_errors({member: f"'{member}' needs a 'key' or an 'id'."})
    issue = await find_issue(session, str(ref))
    if issue is None:
        raise not_found(f"Issue '{ref}' does not exist.")
    return issue


def _link_changes(
    link_type: catalog.LinkType, inward: Issue, outward: Issue, *, added: bool
) -> list[tuple[Issue, Change]]:
    """Jira's "Link" changelog items, one on each issue ("This issue blocks TEST-2").

    ``inwardIssue`` is the link's source: it ``<outward>`` the other issue, which in turn
    ``<inward>`` the source.
    """
    sides = (
        (inward, outward, link_type.outward),
        (outward, inward, link_type.inward),
    )
    changes = []
    for here, there, verb in sides:
        text = f"This issue {verb} {there.key}"
        value = (there.key, text)
        before, after = ((None, None), value) if added else (value, (None, None))
        changes.append((here, Change("Link", before[0], before[1], after[0], after[1])))
    return changes


async def create(request: Request) -> Response:
    """POST /issueLink ``{type, inwardIssue, outwardIssue, comment?}`` → 201, empty body."""
    body = await read_json(request)
    link_type = _link_type(member_object(body, "type"))
    comment_body = member_object(body, "comment")
    comment = comment_body.get("body")
    if comment is not None and not isinstance(comment, str):
        raise bad_request("The comment body must be a string.")
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        inward = await _issue(session, member_object(body, "inwardIssue"), "inwardIssue")
        outward = await _issue(session, member_object(body, "outwardIssue"), "outwardIssue")
        await add_link(session, link_type.id, inward.id, outward.id)
        for issue, change in _link_changes(link_type, inward, outward, added=True):
            await record_changes(session, issue, me.id, [change])
        if comment:
            level = comment_body.get("visibility")
            visibility = await read_visibility(session, level, request_audience(request))
            await add_comment(session, outward.id, me.id, comment, visibility=visibility)
    return Response(status_code=201)


async def get(request: Request) -> Response:
    """GET /issueLink/{id}: the link with both issues."""
    wanted = request.path_params["link"]
    async with database(request).session() as session:
        link = await find_link(session, wanted)
        if link is None:
            raise not_found(f"No issue link with id '{wanted}' exists.")
        inward = await session.get(Issue, link.inward_issue_id)
        outward = await session.get(Issue, link.outward_issue_id)
        assert inward is not None
        assert outward is not None
        base = base_url(request)
        link_type = catalog.by_id(catalog.LINK_TYPES, link.link_type_id) or catalog.LINK_TYPES[-1]
        return JiraJSONResponse(
            {
                "id": str(link.id),
                "self": f"{base}{API}/issueLink/{link.id}",
                "type": link_type_json(base, link_type),
                "inwardIssue": {
                    "id": str(inward.id),
                    "key": inward.key,
                    "self": issue_self(base, inward.id),
                },
                "outwardIssue": {
                    "id": str(outward.id),
                    "key": outward.key,
                    "self": issue_self(base, outward.id),
                },
            }
        )


async def remove(request: Request) -> Response:
    """DELETE /issueLink/{id} → 204."""
    wanted = request.path_params["link"]
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        link = await find_link(session, wanted)
        if link is None:
            raise not_found(f"No issue link with id '{wanted}' exists.")
        inward = await session.get(Issue, link.inward_issue_id)
        outward = await session.get(Issue, link.outward_issue_id)
        link_type = catalog.by_id(catalog.LINK_TYPES, link.link_type_id)
        if inward is not None and outward is not None and link_type is not None:
            for issue, change in _link_changes(link_type, inward, outward, added=False):
                await record_changes(session, issue, me.id, [change])
        await delete_link(session, link.id)
    return Response(status_code=204)


routes = [
    Route("/issueLink", create, methods=["POST"]),
    Route("/issueLink/{link}", get, methods=["GET"]),
    Route("/issueLink/{link}", remove, methods=["DELETE"]),
]
