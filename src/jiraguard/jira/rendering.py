"""Loading issues and rendering them as Jira JSON, for issue GET and search alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.jira.views import issue_json
from jiraguard.store.issue_records import IssueRecord
from jiraguard.store.issues import bundle_issues, load_bundles


def wants_changelog(expand: list[str]) -> bool:
    """Whether ``expand`` asks for the changelog (case-insensitive, as Jira reads it)."""
    return any(e.lower() == "changelog" for e in expand)


RELATED = ("comment", "worklog", "issuelinks", "attachment")
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
) -> list[dict[str, Any]]:
    """Load and render ``ids`` in order, fetching only the related rows ``fields`` shows."""
    bundles = await load_bundles(session, ids, _parts(fields, changelog))
    return [issue_json(base, b, fields, changelog=changelog) for b in bundles]


async def render_issue(
    session: AsyncSession, base: str, issue: IssueRecord, fields: frozenset[str], *, changelog: bool
) -> dict[str, Any]:
    """Render one issue already loaded (no second query for the issue itself)."""
    (bundle,) = await bundle_issues(session, [issue], _parts(fields, changelog))
    return issue_json(base, bundle, fields, changelog=changelog)
