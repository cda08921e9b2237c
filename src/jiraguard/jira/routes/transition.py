"""``/issue/{k}/transitions``: list the workflow moves an issue can make, and make one.

Ids are numeric strings and POST accepts ``"31"`` or ``31`` (docs/jira-compat.md rule 10). A
move to a done status sets the resolution (``fields.resolution`` or Fixed) and the
resolution date; a move out of done clears both. Status and resolution changes go to the changelog.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import bad_request, field_errors
from jiraguard.jira import catalog, workflow
from jiraguard.jira.context import acting_user, base_url, database, issue_or_404
from jiraguard.jira.editing import FieldProblem, apply_update, reference
from jiraguard.jira.params import member_object, query_list, query_str, read_json
from jiraguard.jira.views import resolution_json, transition_json
from jiraguard.jira.visibility import request_audience
from jiraguard.jira.workflow import Transition
from jiraguard.responses import JiraJSONResponse
from jiraguard.store.issues import Change
from jiraguard.store.models import Issue, utcnow


def _fields_json(base: str, transition: Transition) -> dict[str, Any]:
    if not transition.resolves:
        return {}
    return {
        "resolution": {
            "required": False,
            "schema": {"type": "resolution", "system": "resolution"},
            "name": "Resolution",
            "fieldId": "resolution",
            "operations": ["set"],
            "allowedValues": [resolution_json(base, r) for r in catalog.RESOLUTIONS],
        }
    }


async def list_transitions(request: Request) -> Response:
    """GET: ``{"expand": "transitions", "transitions": [...]}``; ``transitionId`` filters."""
    with_fields = "transitions.fields" in query_list(request, "expand")
    only = query_str(request, "transitionId")
    async with database(request).session() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        status_id = issue.status_id
    base = base_url(request)
    items = []
    for transition in workflow.available(status_id):
        if only is not None and str(transition.id) != only:
            continue
        item = transition_json(base, transition)
        if with_fields:
            item["fields"] = _fields_json(base, transition)
        items.append(item)
    return JiraJSONResponse({"expand": "transitions", "transitions": items})


def _chosen(document: dict[str, Any], status_id: int) -> Transition:
    wanted = member_object(document, "transition")
    ident = wanted.get("id")
    name = wanted.get("name")
    for transition in workflow.available(status_id):
        if ident is not None and str(ident).strip() == str(transition.id):
            return transition
        if ident is None and isinstance(name, str) and name.lower() == transition.name.lower():
            return transition
    if ident is None and name is None:
        raise bad_request("Missing 'transition' identifier")
    raise bad_request(
        f"Transition id '{ident if ident is not None else name}' is not valid for this issue."
    )


def _move(issue: Issue, transition: Transition, resolution_value: Any) -> list[Change]:
    """Set status, resolution and resolution date; the changelog items for them."""
    changes: list[Change] = []
    old_status = catalog.by_id(catalog.STATUSES, issue.status_id) or catalog.OPEN
    if old_status.id != transition.target.id:
        changes.append(
            Change(
                "status",
                str(old_status.id),
                old_status.name,
                str(transition.target.id),
                transition.target.name,
            )
        )
    issue.status_id = transition.target.id
    old = catalog.by_id(catalog.RESOLUTIONS, issue.resolution_id or 0)
    new: catalog.Named | None = None
    if transition.resolves:
        if resolution_value is not None:
            try:
                new = reference(resolution_value, catalog.RESOLUTIONS, "resolution")
            except FieldProblem as problem:
                raise field_errors({"resolution": str(problem)}) from problem
        else:
            new = old or catalog.DEFAULT_RESOLUTION
        if issue.resolved_at is None or new != old:
            issue.resolved_at = utcnow()
    else:
        issue.resolved_at = None
    issue.resolution_id = new.id if new else None
    if new != old:
        changes.append(
            Change(
                "resolution",
                str(old.id) if old else None,
                old.name if old else None,
                str(new.id) if new else None,
                new.name if new else None,
            )
        )
    return changes


async def perform(request: Request) -> Response:
    """POST ``{"transition": {"id": "5"}, "fields": {...}, "update": {...}}`` → 204."""
    document = await read_json(request)
    fields = dict(member_object(document, "fields"))
    resolution = fields.pop("resolution", None)
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        issue = await issue_or_404(session, request.path_params["issue"])
        transition = _chosen(document, issue.status_id)
        changes = _move(issue, transition, resolution)
        body = {"fields": fields, "update": document.get("update")}
        await apply_update(
            session, issue, me, body, extra=changes, audience=request_audience(request)
        )
    return Response(status_code=204)


routes = [
    Route("/issue/{issue}/transitions", list_transitions, methods=["GET"]),
    Route("/issue/{issue}/transitions", perform, methods=["POST"]),
]
