"""Loading issues and rendering them as Jira JSON, for issue GET and search alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.jira.custom_fields import field_id
from jiraguard.jira.custom_values import value_json
from jiraguard.jira.expansions import issue_expansions
from jiraguard.jira.project_items import allowed_items
from jiraguard.jira.views import issue_json
from jiraguard.store.comments import Audience
from jiraguard.store.custom_fields import FieldRecord
from jiraguard.store.issue_records import IssueRecord
from jiraguard.store.issues import IssueBundle, bundle_issues, load_bundles


def expansions(expand: list[str]) -> frozenset[str]:
    """The ``expand`` values, lower case (Jira reads them case-insensitively)."""
    return frozenset(
        name.strip().lower() for value in expand for name in value.split(",") if name.strip()
    )


Allowed = dict[int, dict[str, list[dict[str, Any]]]]
"""Project id → the ``allowedValues`` of its versions and components (``editmeta``)."""


async def _allowed(
    session: AsyncSession, base: str, bundles: list[IssueBundle], expand: frozenset[str]
) -> Allowed:
    """What ``expand=editmeta`` lists for the projects of ``bundles``: one load per project."""
    if "editmeta" not in expand:
        return {}
    projects = sorted({b.issue.project.id for b in bundles})
    return {p: await allowed_items(session, base, p) for p in projects}


def _rendered(
    base: str,
    bundle: IssueBundle,
    fields: frozenset[str],
    changelog: bool,
    expand: frozenset[str],
    allowed: Allowed,
    custom: Sequence[FieldRecord],
) -> dict[str, Any]:
    body = issue_json(base, bundle, fields, changelog=changelog)
    shown = body["fields"]
    for record in custom:
        if field_id(record) in fields:
            shown[field_id(record)] = value_json(base, record, bundle.custom.get(record.id))
    project = bundle.issue.project.id
    body.update(issue_expansions(base, bundle, fields, expand, shown, allowed.get(project), custom))
    return body


def _shown(custom: Sequence[FieldRecord], fields: frozenset[str]) -> list[FieldRecord]:
    """The custom fields ``fields`` selects (their values are loaded)."""
    return [record for record in custom if field_id(record) in fields]


def wants_changelog(expand: list[str]) -> bool:
    """Whether ``expand`` asks for the changelog (case-insensitive, as Jira reads it)."""
    return any(e.lower() == "changelog" for e in expand)


RELATED = (
    "comment",
    "worklog",
    "issuelinks",
    "attachment",
    "fixVersions",
    "versions",
    "components",
    "watches",
    "votes",
)
"""Fields whose rows live in other tables (loaded only when selected)."""


def _parts(fields: frozenset[str], changelog: bool) -> list[str]:
    return [p for p in RELATED if p in fields] + (["changelog"] if changelog else [])


async def render_issues(
    session: AsyncSession,
    base: str,
    ids: list[int],
    fields: frozenset[str],
    *,
    changelog: bool,
    audience: Audience,
    viewer: str | None,
    expand: frozenset[str] = frozenset(),
    custom: Sequence[FieldRecord] = (),
) -> list[dict[str, Any]]:
    """Load and render ``ids`` in order, fetching only the related rows ``fields`` shows
    (of the comments, those ``audience`` may read; ``watches`` and ``votes`` as ``viewer``,
    a user key, sees them); ``custom``: every custom field."""
    parts = _parts(fields, changelog)
    shown = _shown(custom, fields)
    bundles = await load_bundles(
        session, ids, parts, audience=audience, viewer=viewer, custom=shown
    )
    allowed = await _allowed(session, base, bundles, expand)
    return [_rendered(base, b, fields, changelog, expand, allowed, custom) for b in bundles]


async def render_issue(
    session: AsyncSession,
    base: str,
    issue: IssueRecord,
    fields: frozenset[str],
    *,
    changelog: bool,
    audience: Audience,
    viewer: str | None,
    expand: frozenset[str] = frozenset(),
    custom: Sequence[FieldRecord] = (),
) -> dict[str, Any]:
    """Render one issue already loaded (no second query for the issue itself)."""
    parts, shown = _parts(fields, changelog), _shown(custom, fields)
    (bundle,) = await bundle_issues(
        session, [issue], parts, audience=audience, viewer=viewer, custom=shown
    )
    allowed = await _allowed(session, base, [bundle], expand)
    return _rendered(base, bundle, fields, changelog, expand, allowed, custom)
