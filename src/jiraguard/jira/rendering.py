"""Loading issues and rendering them as Jira JSON, for issue GET and search alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.jira.views import issue_json
from jiraguard.store.issues import load_bundles


def wants_changelog(expand: list[str]) -> bool:
    """Whether ``expand`` asks for the changelog (case-insensitive, as Jira reads it)."""
    return any(e.lower() == "changelog" for e in expand)


RELATED = ("comment", "worklog", "issuelinks", "attachment")
"""Fields whose rows live in other tables (loaded only when selected)."""


async def render_issues(
    session: AsyncSession,
    base: str,
    ids: list[int],
    fields: frozenset[str],
    *,
    changelog: bool,
) -> list[dict[str, Any]]:
    """Load and render ``ids`` in order, fetching only the related rows ``fields`` shows."""
    parts = [p for p in RELATED if p in fields] + (["changelog"] if changelog else [])
    bundles = await load_bundles(session, ids, parts)
    return [issue_json(base, b, fields, changelog=changelog) for b in bundles]
