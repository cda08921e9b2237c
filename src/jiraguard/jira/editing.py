"""Field values of ``POST /issue`` and ``PUT /issue/{k}``, checked and applied to an issue.

Both requests name fields by id: ``{"fields": {f: value}}`` sets, ``{"update": {f: [{op:
value}]}}`` applies ``set``/``add``/``remove`` operations (docs/jira-compat.md §3, §4.10).
Each problem is reported under its field in ``errors`` as Jira does; every applied change
becomes a changelog item.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.errors import bad_request, field_errors
from jiraguard.jira import catalog
from jiraguard.jira.catalog import Named
from jiraguard.jira.custom_values import CustomEdits, ValueProblem, custom_edits
from jiraguard.jira.fields import EDIT_SCREEN
from jiraguard.jira.labels import LabelProblem, checked_label
from jiraguard.jira.timetracking import TimeTrackingProblem, apply_timetracking
from jiraguard.jira.visibility import read_visibility
from jiraguard.store.comments import PUBLIC, Audience, add_comment
from jiraguard.store.components import component_by_name, find_component
from jiraguard.store.directory import user_by_name
from jiraguard.store.ids import is_digits
from jiraguard.store.issues import Change, record_changes, set_labels
from jiraguard.store.models import Component, Issue, Project, User, Version
from jiraguard.store.versions import find_version, version_by_name

SUMMARY_REQUIRED = "You must specify a summary of the issue."
EDITABLE = frozenset(EDIT_SCREEN)
_MAX_SUMMARY = 255


class FieldProblem(Exception):
    """A value that cannot be applied to its field; the message goes in ``errors[field]``
    (``key``: where Jira reports it instead, ``timetracking_originalestimate``)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def cannot_set(name: str) -> str:
    """Jira's message for a field that is unknown or not editable."""
    return f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."


def operations(document: dict[str, Any], errors: dict[str, str]) -> list[tuple[str, str, Any]]:
    """``(field, op, value)`` from a body's ``fields`` (set) and ``update`` (operations)."""
    ops: list[tuple[str, str, Any]] = []
    fields = document.get("fields") or {}
    update = document.get("update") or {}
    if not isinstance(fields, dict) or not isinstance(update, dict):
        raise bad_request("'fields' and 'update' must be JSON objects.")
    for name, value in fields.items():
        if name in update:
            errors[name] = f"Field {name} appears in both 'fields' and 'update' sections."
            continue
        ops.append((name, "set", value))
    for name, entries in update.items():
        if not isinstance(entries, list):
            errors[name] = 'Operations must be a list of objects like [{"add": value}].'
            continue
        for entry in entries:
            if not isinstance(entry, dict) or len(entry) != 1:
                errors[name] = "Each operation must be an object with one verb."
                continue
            ((verb, value),) = entry.items()
            ops.append((name, verb, value))
    return ops


def reference(value: Any, items: tuple[Named, ...], label: str) -> Named:
    """A catalog item given as ``{"name": …}`` or ``{"id": …}`` (id as number or string)."""
    if not isinstance(value, dict):
        raise FieldProblem(f"Could not find valid 'id' or 'name' in {label} object.")
    if value.get("id") is not None:
        ident = str(value["id"])
        found = catalog.by_id(items, int(ident)) if is_digits(ident) else None
        if found is None:
            raise FieldProblem(f"valid {label} is required")
        return found
    if isinstance(value.get("name"), str):
        found = catalog.by_name(items, value["name"])
        if found is None:
            raise FieldProblem(f"valid {label} is required")
        return found
    raise FieldProblem(f"Could not find valid 'id' or 'name' in {label} object.")


AUTOMATIC = "-1"
"""The assignee name that means "automatic": the project's default assignee."""


def _automatic(value: Any) -> bool:
    return isinstance(value, dict) and value.get("name") == AUTOMATIC


def default_assignee(project: Project | None) -> User | None:
    """Whom "automatic" assigns: the lead of a ``PROJECT_LEAD`` project (while active),
    else nobody."""
    if project is None:
        return None
    lead = project.lead
    if project.assignee_type == "PROJECT_LEAD" and lead is not None and lead.active:
        return lead
    return None


async def _user(session: AsyncSession, value: Any) -> User | None:
    """``{"name": …}`` → a user; ``null``, ``{"name": null}`` or ``"-1"`` → nobody."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FieldProblem('Expected an object like {"name": "username"}.')
    name = value.get("name")
    if name is None or name == "-1":
        return None
    if not isinstance(name, str):
        raise FieldProblem("The user name must be a string.")
    user = await user_by_name(session, name)
    if user is None or not user.active:
        raise FieldProblem(f"User '{name}' does not exist.")
    return user


def _label(value: Any) -> str:
    try:
        return checked_label(value)
    except LabelProblem as problem:
        raise FieldProblem(str(problem)) from problem


def _summary(value: Any) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FieldProblem(SUMMARY_REQUIRED)
    if not isinstance(value, str):
        raise FieldProblem("Operation value must be a string")
    if len(value) > _MAX_SUMMARY:
        raise FieldProblem("Summary must be less than 255 characters.")
    return value


def _due(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FieldProblem("Operation value must be a string")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise FieldProblem(f"Error parsing date string: {value}") from exc


def _named_change(name: str, old: Named | None, new: Named | None) -> Change | None:
    if old == new:
        return None
    return Change(
        name,
        str(old.id) if old else None,
        old.name if old else None,
        str(new.id) if new else None,
        new.name if new else None,
    )


def _user_change(name: str, old: User | None, new: User | None) -> Change | None:
    if (old.id if old else None) == (new.id if new else None):
        return None
    return Change(
        name,
        old.key if old else None,
        old.display_name if old else None,
        new.key if new else None,
        new.display_name if new else None,
    )


def _text_change(name: str, old: str | None, new: str | None) -> Change | None:
    return None if old == new else Change(name, None, old, None, new)


async def apply(
    session: AsyncSession, issue: Issue, name: str, verb: str, value: Any
) -> list[Change]:
    """Apply one operation to ``issue``; the changelog items of what changed."""
    if name not in EDITABLE:
        raise FieldProblem(cannot_set(name))
    if name == "timetracking":
        try:
            return apply_timetracking(issue, verb, value)
        except TimeTrackingProblem as problem:
            raise FieldProblem(str(problem), problem.field) from problem
    change = await _apply_one(session, issue, name, verb, value)
    return [] if change is None else [change]


async def _apply_one(
    session: AsyncSession, issue: Issue, name: str, verb: str, value: Any
) -> Change | None:
    if name == "labels":
        return _apply_labels(issue, verb, value)
    if name in ITEM_FIELDS:
        return await _apply_items(session, issue, name, verb, value)
    if verb != "set":
        raise FieldProblem(f"The operation '{verb}' is not supported by the field '{name}'.")
    if name == "summary":
        summary = _summary(value)
        change = _text_change(name, issue.summary, summary)
        issue.summary = summary
        return change
    if name == "description":
        if value is not None and not isinstance(value, str):
            raise FieldProblem("Operation value must be a string")
        change = _text_change(name, issue.description, value)
        issue.description = value
        return change
    if name == "duedate":
        due = _due(value)
        change = _text_change(
            name,
            issue.due_date.isoformat() if issue.due_date else None,
            due.isoformat() if due else None,
        )
        issue.due_date = due
        return change
    if name == "priority":
        priority = None if value is None else reference(value, catalog.PRIORITIES, "priority")
        old = catalog.by_id(catalog.PRIORITIES, issue.priority_id or 0)
        issue.priority_id = priority.id if priority else None
        return _named_change(name, old, priority)
    if name == "issuetype":
        kind = reference(value, catalog.ISSUE_TYPES, "issue type")
        old = catalog.by_id(catalog.ISSUE_TYPES, issue.issuetype_id)
        issue.issuetype_id = kind.id
        return _named_change(name, old, kind)
    user = await _user(session, value)
    if name == "assignee" and _automatic(value):
        user = default_assignee(issue.project)
    if name == "reporter":
        change = _user_change(name, issue.reporter, user)
        issue.reporter = user
        return change
    change = _user_change(name, issue.assignee, user)
    issue.assignee = user
    return change


async def apply_any(
    session: AsyncSession, issue: Issue, custom: CustomEdits, name: str, verb: str, value: Any
) -> list[Change]:
    """``apply``, or for a custom field the ``custom`` edits (written by their ``write``)."""
    if not custom.knows(name):
        return await apply(session, issue, name, verb, value)
    try:
        change = await custom.apply(session, name, verb, value)
    except ValueProblem as problem:
        raise FieldProblem(str(problem)) from problem
    return [] if change is None else [change]


def _apply_labels(issue: Issue, verb: str, value: Any) -> Change | None:
    before = [row.label for row in issue.labels]
    if verb == "set":
        if value is None:
            value = []
        if not isinstance(value, list):
            raise FieldProblem("Labels must be a list of strings.")
        after = [_label(v) for v in value]
    elif verb == "add":
        after = [*before, _label(value)]
    elif verb == "remove":
        gone = _label(value)
        after = [label for label in before if label != gone]
    else:
        raise FieldProblem(f"The operation '{verb}' is not supported by the field 'labels'.")
    set_labels(issue, after)
    after = list(dict.fromkeys(after))
    if sorted(before) == sorted(after):
        return None
    return Change("labels", None, " ".join(sorted(before)), None, " ".join(sorted(after)))


ITEM_FIELDS = {
    "fixVersions": ("fix_versions", "Fix Version", "Version"),
    "versions": ("versions", "Version", "Version"),
    "components": ("components", "Component", "Component"),
}
"""Issue field → (``Issue`` attribute, changelog field name, what Jira's messages call it)."""

Item = Version | Component


async def _item(session: AsyncSession, issue: Issue, name: str, value: Any) -> Item:
    """The version or component ``{"id": …}`` or ``{"name": …}`` names in the issue's project."""
    label = ITEM_FIELDS[name][2]
    if not isinstance(value, dict):
        raise FieldProblem(f'Expected an object like {{"name": "…"}} for a {label.lower()}.')
    if issue.project is None:
        raise FieldProblem("valid project is required")
    project_id = issue.project.id
    ident, text = value.get("id"), value.get("name")
    found: Item | None
    if ident is not None and not isinstance(ident, bool) and isinstance(ident, int | str):
        finder = find_component if name == "components" else find_version
        found = await finder(session, str(ident).strip())
        if found is None or found.project_id != project_id:
            raise FieldProblem(f"{label} id '{ident}' is not valid")
        return found
    if isinstance(text, str):
        by_name = component_by_name if name == "components" else version_by_name
        found = await by_name(session, project_id, text)
        if found is None:
            raise FieldProblem(f"{label} name '{text}' is not valid")
        return found
    raise FieldProblem(f"Could not find valid 'id' or 'name' in {label.lower()} object.")


async def _current_items(session: AsyncSession, issue: Issue, attribute: str) -> list[Item]:
    """The issue's items of ``attribute``, loaded once per edit (a new issue has none)."""
    state = inspect(issue)
    if state.persistent and attribute in state.unloaded:
        await session.refresh(issue, [attribute])
    items: list[Item] = getattr(issue, attribute)
    return items


async def _apply_items(
    session: AsyncSession, issue: Issue, name: str, verb: str, value: Any
) -> Change | None:
    """``set`` (a list, or null for none), ``add`` and ``remove`` (one object) on an issue's
    ``fixVersions``, ``versions`` or ``components``; one changelog item for the field."""
    attribute, logged, _ = ITEM_FIELDS[name]
    before = list(await _current_items(session, issue, attribute))
    if verb == "set":
        if value is None:
            value = []
        if not isinstance(value, list):
            raise FieldProblem(f"The value of '{name}' must be a list of objects.")
        after = [await _item(session, issue, name, v) for v in value]
    elif verb == "add":
        after = [*before, await _item(session, issue, name, value)]
    elif verb == "remove":
        gone = await _item(session, issue, name, value)
        after = [item for item in before if item.id != gone.id]
    else:
        raise FieldProblem(f"The operation '{verb}' is not supported by the field '{name}'.")
    after = list({item.id: item for item in after}.values())
    setattr(issue, attribute, after)
    if [i.id for i in before] == [i.id for i in after]:
        return None

    def ids(items: list[Item]) -> str | None:
        return ", ".join(str(i.id) for i in items) or None

    def names(items: list[Item]) -> str | None:
        return ", ".join(i.name for i in items) or None

    return Change(logged, ids(before), names(before), ids(after), names(after))


def _comment_body(value: Any) -> str:
    if isinstance(value, dict) and isinstance(value.get("body"), str) and value["body"].strip():
        return str(value["body"])
    raise FieldProblem("Comment body can not be empty!")


def merge_changes(changes: list[Change]) -> list[Change]:
    """One item per field: several operations on a field (``labels`` add + remove) are one
    change from the first old value to the last new one; a field back to its start is none."""
    merged: dict[str, Change] = {}
    for change in changes:
        first = merged.get(change.field)
        if first is None:
            merged[change.field] = change
        else:
            merged[change.field] = Change(
                change.field,
                first.from_value,
                first.from_string,
                change.to_value,
                change.to_string,
                change.field_type,
            )
    return [
        c for c in merged.values() if (c.from_value, c.from_string) != (c.to_value, c.to_string)
    ]


async def apply_update(
    session: AsyncSession,
    issue: Issue,
    me: User,
    body: dict[str, Any],
    *,
    extra: list[Change],
    audience: Audience = PUBLIC,
) -> None:
    """Apply an edit body (``fields`` / ``update``, comments included) and log the changes.

    Shared by issue PUT and transition POST; ``extra`` are changes the caller already made.
    A comment's ``visibility`` must name a group or role of ``audience`` (the writer's).
    Any problem raises 400 before anything is written (the transaction rolls back).
    """
    errors: dict[str, str] = {}
    changes = list(extra)
    comments: list[tuple[str, Any]] = []
    ops = operations(body, errors)
    custom = await custom_edits(session, [name for name, _, _ in ops], issue.id)
    for name, verb, value in ops:
        try:
            if name == "comment":
                if verb != "add":
                    raise FieldProblem(f"The operation '{verb}' is not supported for comments.")
                comments.append((_comment_body(value), value.get("visibility")))
                continue
            changes.extend(await apply_any(session, issue, custom, name, verb, value))
        except FieldProblem as problem:
            errors[problem.key or name] = str(problem)
            continue
    if errors:
        raise field_errors(errors)
    await custom.write(session, issue.id)
    levels = [await read_visibility(session, level, audience) for _, level in comments]
    if changes or comments:
        await record_changes(session, issue, me.id, merge_changes(changes))
    for (text, _), visibility in zip(comments, levels, strict=True):
        await add_comment(session, issue.id, me.id, text, visibility=visibility)
