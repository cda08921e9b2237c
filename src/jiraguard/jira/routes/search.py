"""``/search`` (GET and POST): JQL through ``jira.jql``, then the page of issues rendered.

Default ``maxResults`` 50, capped at 1000 and the applied cap echoed (docs/jira-compat.md §4.7-4.8);
``total`` is exact. ``fields`` defaults to ``*navigable`` as in Jira; ``expand=changelog``
works as on issue GET. A JQL error is a 400 with the message in ``errorMessages``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import JiraError, bad_request
from jiraguard.jira.context import (
    acting_user_id,
    base_url,
    database,
    field_definitions,
    principal,
)
from jiraguard.jira.custom_fields import field_id
from jiraguard.jira.fields import select_fields
from jiraguard.jira.jql import JQLError, search_issues
from jiraguard.jira.params import as_int, query_int, query_list, query_str, read_json
from jiraguard.jira.rendering import expansions, render_issues, wants_changelog
from jiraguard.jira.visibility import request_audience
from jiraguard.responses import RenderedJSONResponse

DEFAULT_MAX_RESULTS = 50
MAX_RESULTS_CAP = 1000


def _names(value: Any, member: str) -> list[str]:
    """A POST body's ``fields``/``expand``: a list of names or one comma-separated string."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"'{member}' must be a list of strings.")
    return [v.strip() for v in value if v.strip()]


async def _search(
    request: Request,
    jql: str,
    start_at: int,
    max_results: int,
    fields: list[str],
    expand: list[str],
) -> Response:
    applied = min(max_results, MAX_RESULTS_CAP)
    changelog = wants_changelog(expand)
    base, audience, viewer = base_url(request), request_audience(request), principal(request).key
    custom = await field_definitions(request)

    async def read(session: AsyncSession) -> tuple[int, list[dict[str, Any]]]:
        me = await acting_user_id(session, request)
        try:
            total, ids = await search_issues(
                session,
                jql,
                current_user_id=me,
                start_at=start_at,
                max_results=applied,
                audience=audience,
                custom=custom,
            )
        except JQLError as exc:
            raise JiraError(400, [str(exc)]) from exc
        rendered = await render_issues(
            session,
            base,
            list(ids),
            select_fields(fields, "*navigable", [field_id(f) for f in custom]),
            changelog=changelog,
            audience=audience,
            viewer=viewer,
            expand=expansions(expand),
            custom=custom,
        )
        return total, rendered

    total, issues = await database(request).run(read)
    return RenderedJSONResponse(
        {
            "expand": "schema,names",
            "startAt": start_at,
            "maxResults": applied,
            "total": total,
            "issues": issues,
        }
    )


async def search_get(request: Request) -> Response:
    """GET /search?jql=&startAt=&maxResults=&fields=&expand=&validateQuery="""
    return await _search(
        request,
        query_str(request, "jql") or "",
        query_int(request, "startAt", 0),
        query_int(request, "maxResults", DEFAULT_MAX_RESULTS),
        query_list(request, "fields"),
        query_list(request, "expand"),
    )


async def search_post(request: Request) -> Response:
    """POST /search ``{"jql", "startAt", "maxResults", "fields", "expand": null, …}``."""
    body = await read_json(request, required=False)
    jql = body.get("jql", "")
    if not isinstance(jql, str):
        raise bad_request("'jql' must be a string.")
    return await _search(
        request,
        jql,
        as_int(body.get("startAt", 0), "startAt"),
        as_int(body.get("maxResults", DEFAULT_MAX_RESULTS), "maxResults"),
        _names(body.get("fields"), "fields"),
        _names(body.get("expand"), "expand"),
    )


routes = [
    Route("/search", search_get, methods=["GET"]),
    Route("/search", search_post, methods=["POST"]),
]
