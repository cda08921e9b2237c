"""The ``expand`` values of an issue that add members beside ``fields``: ``names``,
``schema``, ``editmeta`` and ``renderedFields`` (``changelog`` is ``views.changelog_json``).

``renderedFields`` holds the text fields as HTML and the dates as Jira's UI shows them.
Text is escaped and split into paragraphs and lines; wiki markup (``*bold*``, ``{code}``)
is not interpreted, so the HTML shows it as written: nothing a client sends can inject
markup into what another client displays.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from jiraguard.jira.custom_fields import field_id, schema_json, screen_json
from jiraguard.jira.fields import EDIT_SCREEN, FIELDS, screen_field_json
from jiraguard.store.custom_fields import FieldRecord
from jiraguard.store.issues import IssueBundle
from jiraguard.store.models import Comment

ISSUE_MEMBERS = frozenset({"names", "schema", "editmeta", "renderedfields"})
"""The ``expand`` values (lower case) handled here."""

EDITMETA_EXTRA: dict[str, list[str]] = {
    "comment": ["add", "edit", "remove"],
    "issuelinks": ["add"],
    "attachment": [],
}
"""Fields editmeta lists beyond the edit screen, with Jira's operations: comments are
added through ``update.comment``, links and attachments through their own resources."""


def rendered_text(text: str | None) -> str | None:
    """Plain text as Jira's rendered HTML: escaped, ``<p>`` per paragraph, ``<br/>`` per
    line break."""
    if text is None:
        return None
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(
        "<p>" + "<br/>\n".join(html.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )


def _rendered_date(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%d/%b/%y %-I:%M %p")


def rendered_comment(comment_body: dict[str, Any], comment: Comment) -> dict[str, Any]:
    """A comment's JSON with ``renderedBody`` (comment ``expand=renderedBody``)."""
    return {**comment_body, "renderedBody": rendered_text(comment.body)}


def editmeta_json(
    base: str,
    allowed: Mapping[str, list[dict[str, Any]]] | None = None,
    custom: Sequence[FieldRecord] = (),
) -> dict[str, Any]:
    """``{"fields": {id: {required, schema, name, operations…}}}`` for an issue edit;
    ``allowed``: the ``allowedValues`` of the project's versions and components; ``custom``:
    the custom fields (every one is on every screen: Jira's global context)."""
    fields = {f: screen_field_json(base, f, creating=False, allowed=allowed) for f in EDIT_SCREEN}
    fields.update((field_id(record), screen_json(base, record)) for record in custom)
    for field, operations in EDITMETA_EXTRA.items():
        spec = next(f for f in FIELDS if f.id == field)
        fields[field] = {
            "required": False,
            "schema": spec.json()["schema"],
            "name": spec.name,
            "fieldId": field,
            "operations": operations,
        }
    return {"fields": fields}


def issue_expansions(
    base: str,
    bundle: IssueBundle,
    fields: Iterable[str],
    expand: frozenset[str],
    shown: dict[str, Any],
    allowed: Mapping[str, list[dict[str, Any]]] | None = None,
    custom: Sequence[FieldRecord] = (),
) -> dict[str, Any]:
    """The members ``expand`` adds to an issue whose ``fields`` member is ``shown``;
    ``allowed``: its project's versions and components, for ``editmeta``; ``custom``: every
    custom field."""
    wanted = expand & ISSUE_MEMBERS
    if not wanted:
        return {}
    chosen = set(fields)
    selected = [f for f in FIELDS if f.id in chosen]
    chosen_custom = [record for record in custom if field_id(record) in chosen]
    out: dict[str, Any] = {}
    if "renderedfields" in wanted:
        out["renderedFields"] = _rendered_fields(bundle, shown)
    if "names" in wanted:
        out["names"] = {f.id: f.name for f in selected}
        out["names"].update((field_id(r), r.name) for r in chosen_custom)
    if "schema" in wanted:
        out["schema"] = {f.id: f.json()["schema"] for f in selected}
        out["schema"].update((field_id(r), schema_json(r)) for r in chosen_custom)
    if "editmeta" in wanted:
        out["editmeta"] = editmeta_json(base, allowed, custom)
    return out


def _rendered_fields(bundle: IssueBundle, shown: dict[str, Any]) -> dict[str, Any]:
    issue = bundle.issue
    rendered: dict[str, Any] = {}
    if "description" in shown:
        rendered["description"] = rendered_text(issue.description)
    for name, moment in (
        ("created", issue.created_at),
        ("updated", issue.updated_at),
        ("resolutiondate", issue.resolved_at),
    ):
        if name in shown:
            rendered[name] = _rendered_date(moment)
    if "comment" in shown:
        page = shown["comment"]
        comments = [
            rendered_comment(body, comment)
            for body, comment in zip(page["comments"], bundle.comments, strict=True)
        ]
        rendered["comment"] = {**page, "comments": comments}
    return rendered
