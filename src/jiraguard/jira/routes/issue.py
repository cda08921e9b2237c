"""``/issue``: create, get, edit, delete, assign (docs/jira-compat.md §3, §4.3-4.4, §4.9-4.10)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import (
    JiraError,
    bad_request,
    field_errors,
)
from jiraguard.jira import catalog, workflow
from jiraguard.jira.context import (
    acting_user,
    base_url,
    database,
    field_definitions,
    issue_or_404,
    issue_record_or_404,
    principal,
)
from jiraguard.jira.custom_fields import field_id
from jiraguard.jira.custom_values import custom_edits
from jiraguard.jira.editing import (
    SUMMARY_REQUIRED,
    FieldProblem,
    apply,
    apply_any,
    apply_update,
    default_assignee,
    operations,
)
from jiraguard.jira.expansions import editmeta_json
from jiraguard.jira.fields import select_fields
from jiraguard.jira.params import member_object, query_list, read_json
from jiraguard.jira.project_items import allowed_items
from jiraguard.jira.rendering import expansions, render_issue, wants_changelog
from jiraguard.jira.views import issue_self
from jiraguard.jira.visibility import request_audience
from jiraguard.responses import JiraJSONResponse, RenderedJSONResponse
from jiraguard.store.ids import is_digits
from jiraguard.store.issue_people import WATCHERS, add_person
from jiraguard.store.issues import delete_issue, insert_issue, record_changes
from jiraguard.store.models import Issue, Project, utcnow
from jiraguard.store.projects import find_project


async def get(request: Request) -> Response:
    """GET /issue/{k}: ``fields`` (repeated or comma list, ``*all`` by default), ``expand``."""
    requested = query_list(request, "fields")
    changelog = wants_changelog(query_list(request, "expand"))
    expand = expansions(query_list(request, "expand"))
    key, base, audience = request.path_params["issue"], base_url(request), request_audience(request)
    viewer = principal(request).key
    custom = await field_definitions(request)

    async def read(session: AsyncSession) -> dict[str, Any]:
        issue = await issue_record_or_404(session, key)
        fields = select_fields(requested, "*all", [field_id(f) for f in custom])
        return await render_issue(
            session,
            base,
            issue,
            fields,
            changelog=changelog,
            audience=audience,
            viewer=viewer,
            expand=expand,
            custom=custom,
        )

    return RenderedJSONResponse(await database(request).run(read))


def _reference(value: Any) -> tuple[str | None, str | None]:
    """(id, key-or-name) of a ``{"id": …}`` / ``{"key"|"name": …}`` reference."""
    if isinstance(value, dict):
        ident = value.get("id")
        label = value.get("key", value.get("name"))
        return (
            str(ident) if isinstance(ident, (int, str)) and not isinstance(ident, bool) else None,
            label if isinstance(label, str) else None,
        )
    return None, None


async def _project(session: AsyncSession, value: Any, errors: dict[str, str]) -> Project | None:
    ident, key = _reference(value)
    if ident is None and key is None:
        errors["project"] = "project is required"
        return None
    project = await find_project(session, ident if ident is not None else str(key))
    if project is None or (ident is not None and not is_digits(ident)):
        errors["project"] = "valid project is required"
        return None
    return project


def _issue_type(value: Any, errors: dict[str, str]) -> catalog.Named | None:
    ident, name = _reference(value)
    if ident is None and name is None:
        errors["issuetype"] = "issue type is required"
        return None
    found = None
    if ident is not None:
        found = catalog.by_id(catalog.ISSUE_TYPES, int(ident)) if is_digits(ident) else None
    elif name is not None:
        found = catalog.by_name(catalog.ISSUE_TYPES, name)
    if found is None:
        errors["issuetype"] = "valid issue type is required"
    return found


async def _create_one(request: Request, body: dict[str, Any]) -> dict[str, str]:
    """Create one issue from a create body in its own transaction; ``{id, key, self}``."""
    fields = {k: v for k, v in member_object(body, "fields").items() if v is not None}
    errors: dict[str, str] = {}
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        project = await _project(session, fields.pop("project", None), errors)
        kind = _issue_type(fields.pop("issuetype", None), errors)
        if "summary" not in fields:
            errors["summary"] = SUMMARY_REQUIRED
        now = utcnow()
        issue = Issue(
            summary="",
            issuetype_id=kind.id if kind else catalog.DEFAULT_ISSUE_TYPE.id,
            status_id=workflow.INITIAL_STATUS.id,
            priority_id=catalog.DEFAULT_PRIORITY.id,
            created_at=now,
            updated_at=now,
        )
        issue.reporter = me
        issue.creator = me
        if project is not None:
            issue.project = project
            # Without an assignee, Jira assigns "automatically" (the project's default).
            issue.assignee = default_assignee(project)
        ops = operations({"fields": fields, "update": body.get("update")}, errors)
        custom = await custom_edits(session, [name for name, _, _ in ops], None)
        for name, verb, value in ops:
            try:
                await apply_any(session, issue, custom, name, verb, value)
            except FieldProblem as problem:
                errors[problem.key or name] = str(problem)
        if errors or project is None:
            raise field_errors(errors)
        await insert_issue(session, project, issue)
        # As in Jira, the reporter watches a new issue, and so does its creator.
        for watcher in {me.id, issue.reporter.id if issue.reporter else me.id}:
            await add_person(session, WATCHERS, issue.id, watcher)
        await custom.write(session, issue.id)
        issue_id, key = issue.id, issue.key
    return {"id": str(issue_id), "key": key, "self": issue_self(base_url(request), issue_id)}


async def create(request: Request) -> Response:
    """POST /issue → 201 ``{id, key, self}``; the caller is reporter and creator."""
    created = await _create_one(request, await read_json(request))
    return JiraJSONResponse(created, status_code=201)


async def create_bulk(request: Request) -> Response:
    """POST /issue/bulk ``{"issueUpdates": [create bodies]}`` (``jira``'s ``create_issues``).

    Each issue is created on its own; failures are listed by position in ``errors``. 201
    when at least one issue was created, 400 when none was.
    """
    updates = (await read_json(request)).get("issueUpdates")
    if not isinstance(updates, list):
        raise bad_request("'issueUpdates' must be a list of issues to create.")
    issues: list[dict[str, str]] = []
    failures: list[dict[str, Any]] = []
    for position, update in enumerate(updates):
        try:
            if not isinstance(update, dict):
                raise bad_request("Each element of 'issueUpdates' must be a JSON object.")
            document = {k: v for k, v in update.items() if v is not None}
            issues.append(await _create_one(request, document))
        except JiraError as exc:
            failures.append(
                {
                    "status": exc.status,
                    "elementErrors": {"errorMessages": exc.messages, "errors": exc.errors},
                    "failedElementNumber": position,
                }
            )
    status = 201 if issues or not updates else 400
    return JiraJSONResponse({"issues": issues, "errors": failures}, status_code=status)


async def editmeta(request: Request) -> Response:
    """GET /issue/{k}/editmeta: ``{"fields": {id: {required, schema, operations…}}}``."""
    base = base_url(request)
    custom = await field_definitions(request)
    async with database(request).session() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        allowed = await allowed_items(session, base, issue.project_id)
    return JiraJSONResponse(editmeta_json(base, allowed, custom))


async def edit(request: Request) -> Response:
    """PUT /issue/{k} → 204; unknown top-level keys (``notifyUsers``…) are ignored."""
    body = await read_json(request)
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        issue = await issue_or_404(session, request.path_params["issue"])
        await apply_update(session, issue, me, body, extra=[], audience=request_audience(request))
    return Response(status_code=204)


async def remove(request: Request) -> Response:
    """DELETE /issue/{k} → 204 (``deleteSubtasks`` is accepted; there are no subtasks)."""
    async with database(request).transaction() as session:
        issue = await issue_or_404(session, request.path_params["issue"])
        await delete_issue(session, issue.id)
    return Response(status_code=204)


async def assign(request: Request) -> Response:
    """PUT /issue/{k}/assignee ``{"name": …}`` → 204; ``{"name": null}`` unassigns,
    ``"-1"`` is "automatic" (the project's default assignee, ``editing.default_assignee``)."""
    body = await read_json(request, required=False)
    async with database(request).transaction() as session:
        me = await acting_user(session, request)
        issue = await issue_or_404(session, request.path_params["issue"])
        try:
            changes = await apply(session, issue, "assignee", "set", body)
        except FieldProblem as problem:
            raise bad_request(str(problem)) from problem
        if changes:
            await record_changes(session, issue, me.id, changes)
    return Response(status_code=204)


routes = [
    Route("/issue", create, methods=["POST"]),
    Route("/issue/bulk", create_bulk, methods=["POST"]),
    Route("/issue/{issue}", get, methods=["GET"]),
    Route("/issue/{issue}", edit, methods=["PUT"]),
    Route("/issue/{issue}", remove, methods=["DELETE"]),
    Route("/issue/{issue}/assignee", assign, methods=["PUT"]),
    Route("/issue/{issue}/editmeta", editmeta, methods=["GET"]),
]
