"""Custom field values: read from ``fields``/``update`` of issue create and edit, shown in
an issue's ``fields``, and logged in its changelog, in the shapes Jira takes and returns
(docs/jira-compat.md §3.1): text → string, number → float, select → ``{"value"|"id"}`` in
and ``{"self", "value", "id"}`` out, multi-select and labels → lists, user → ``{"name"}``
in and the user JSON out, date → ``yyyy-MM-dd``, date-time → Jira's date-time format.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.jira.custom_fields import PREFIX, field_id, option_json, type_of
from jiraguard.jira.labels import LabelProblem, checked_label
from jiraguard.jira.views import jira_datetime, user_date, user_of
from jiraguard.store.custom_fields import (
    FieldRecord,
    IssueValues,
    ValueRecord,
    custom_fields,
    custom_values,
    replace_values,
)
from jiraguard.store.directory import user_by_name
from jiraguard.store.issues import Change

TEXT_LIMITS = {"textfield": 255, "textarea": 32767}
"""Jira's limits: 255 characters for a single line, ``jira.text.field.character.limit``
(32,767 by default) for a multi-line text."""


class ValueProblem(Exception):
    """A value its field cannot take; the message goes in ``errors[customfield_…]``."""


@dataclass(frozen=True, slots=True)
class Item:
    """One value: what is stored, and how the changelog names it (id and text)."""

    stored: Any
    ident: str | None
    shown: str


def value_json(base: str, record: FieldRecord, values: list[ValueRecord] | None) -> Any:
    """The field's value in an issue's ``fields``: None when the issue holds none."""
    if not values:
        return None
    kind = record.type_key
    rendered = [_one_json(base, kind, v) for v in values]
    return rendered if type_of(record).multiple else rendered[0]


def _one_json(base: str, kind: str, value: ValueRecord) -> Any:
    if value.option is not None:
        return option_json(base, value.option)
    if value.user is not None:
        return user_of(base, value.user)
    if kind == "datepicker":
        return value.value.isoformat()
    if kind == "datetime":
        return jira_datetime(value.value)
    if kind == "float":
        return float(value.value)
    return value.value


def _number_text(number: float) -> str:
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def held_items(record: FieldRecord, values: list[ValueRecord]) -> list[Item]:
    """What an issue holds, as edits compare and log it."""
    items: list[Item] = []
    for value in values:
        if value.option is not None:
            items.append(Item(value.option.id, str(value.option.id), value.option.value))
        elif value.user is not None:
            items.append(_user_item(value.user))
        else:
            items.append(_plain(record.type_key, value.value))
    return items


def _user_item(user: Any) -> Item:
    return Item(user.id, user.key, user.display_name)


def _plain(kind: str, stored: Any) -> Item:
    if kind == "datepicker":
        return Item(stored, stored.isoformat(), user_date(stored))
    if kind == "datetime":
        stamp = jira_datetime(stored)
        return Item(stored, stamp, stamp)
    if kind == "float":
        return Item(float(stored), None, _number_text(float(stored)))
    return Item(stored, None, str(stored))


def _text(kind: str, value: Any) -> list[Item]:
    if value is None or value == "":
        return []
    if not isinstance(value, str):
        raise ValueProblem("Operation value must be a string")
    limit = TEXT_LIMITS[kind]
    if len(value) > limit:
        raise ValueProblem(
            f"The entered text is too long. It exceeds the allowed limit of {limit:,} characters."
        )
    return [Item(value, None, value)]


def _number(value: Any) -> list[Item]:
    if value is None:
        return []
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueProblem("Operation value must be a number")
    try:
        number = float(value)
    except OverflowError:  # an int past any float (the JSON reader bounds its digits)
        number = math.inf
    if not math.isfinite(number):
        raise ValueProblem("Operation value must be a number")
    return [_plain("float", number)]


def _option(record: FieldRecord, value: Any) -> Item:
    """``{"value": …}`` (exact, then case-insensitive) or ``{"id": …}`` of the field's options."""
    if isinstance(value, dict) and value.get("id") is not None:
        ident = value["id"]
        text = str(ident).strip() if isinstance(ident, str | int) else ""
        found = next((o for o in record.options if str(o.id) == text), None)
        if isinstance(ident, bool) or found is None:
            raise ValueProblem(f"Option id '{ident}' is not valid")
    elif isinstance(value, dict) and isinstance(value.get("value"), str):
        wanted = value["value"]
        found = next((o for o in record.options if o.value == wanted), None)
        found = found or next(
            (o for o in record.options if o.value.lower() == wanted.strip().lower()), None
        )
        if found is None:
            raise ValueProblem(f"Option value '{wanted}' is not valid")
    else:
        raise ValueProblem("Could not find valid 'id' or 'value' in the Parent Option object.")
    return Item(found.id, str(found.id), found.value)


async def _user(session: AsyncSession, value: Any) -> list[Item]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise ValueProblem('Expected an object like {"name": "username"}.')
    name = value.get("name")
    if name is None:
        return []
    if not isinstance(name, str):
        raise ValueProblem("The user name must be a string.")
    user = await user_by_name(session, name)
    if user is None or not user.active:
        raise ValueProblem(f"User '{name}' does not exist.")
    return [_user_item(user)]


def _day(value: Any) -> list[Item]:
    if value is None or value == "":
        return []
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return [_plain("datepicker", date.fromisoformat(value))]
    except ValueError as exc:
        raise ValueProblem(f"Error parsing date string: {value}") from exc


_MOMENT_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z")


def _moment(value: Any) -> list[Item]:
    """Jira's ``yyyy-MM-dd'T'HH:mm:ss.SSSZ`` (``…T10:30:00.000+0000``), also without
    milliseconds or seconds; the offset is required."""
    if value is None or value == "":
        return []
    if isinstance(value, str) and len(value) <= 40:
        for pattern in _MOMENT_FORMATS:
            try:
                moment = datetime.strptime(value.strip(), pattern).astimezone(UTC)
            except (ValueError, OverflowError):  # OverflowError: before year 1 in UTC
                continue
            return [_plain("datetime", moment)]
    raise ValueProblem(f"Error parsing date string: {value}")


def _label(value: Any) -> Item:
    try:
        label = checked_label(value)
    except LabelProblem as problem:
        raise ValueProblem(str(problem)) from problem
    return Item(label, None, label)


async def parse(session: AsyncSession, record: FieldRecord, value: Any) -> list[Item]:
    """A ``set`` value as the items it stands for (``null`` or empty: none)."""
    kind = record.type_key
    if kind in TEXT_LIMITS:
        return _text(kind, value)
    if kind == "float":
        return _number(value)
    if kind == "select":
        return [] if value is None else [_option(record, value)]
    if kind == "userpicker":
        return await _user(session, value)
    if kind == "datepicker":
        return _day(value)
    if kind == "datetime":
        return _moment(value)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueProblem(f"The value of '{field_id(record)}' must be a list.")
    return [_one_of_list(record, v) for v in value]


def _one_of_list(record: FieldRecord, value: Any) -> Item:
    return _option(record, value) if record.type_key == "multiselect" else _label(value)


class CustomEdits:
    """The custom field operations of one create or edit: applied in order to what the
    issue holds, then written at once (a new issue has no id until it is inserted)."""

    def __init__(self, fields: Iterable[FieldRecord], held: IssueValues | None = None) -> None:
        self.fields = {field_id(f): f for f in fields}
        self.held = {
            ident: held_items(f, (held or {}).get(f.id, [])) for ident, f in self.fields.items()
        }
        self.changed: dict[str, list[Item]] = {}

    def knows(self, name: str) -> bool:
        return name in self.fields

    async def apply(self, session: AsyncSession, name: str, verb: str, value: Any) -> Change | None:
        """One ``set``/``add``/``remove``; the changelog item, or None when nothing changed."""
        record = self.fields[name]
        before = self.changed.get(name, self.held[name])
        multiple = type_of(record).multiple
        if verb == "set":
            after = await parse(session, record, value)
        elif verb in ("add", "remove") and multiple:
            item = _one_of_list(record, value)
            kept = [i for i in before if i.stored != item.stored]
            after = [*kept, item] if verb == "add" else kept
        else:
            raise ValueProblem(f"The operation '{verb}' is not supported by the field '{name}'.")
        after = list({item.stored: item for item in after}.values())
        self.changed[name] = after
        if [i.stored for i in before] == [i.stored for i in after]:
            return None
        return _change(record, before, after)

    async def write(self, session: AsyncSession, issue_id: int) -> None:
        for name, items in self.changed.items():
            record = self.fields[name]
            await replace_values(
                session, issue_id, record.id, type_of(record).column, [i.stored for i in items]
            )


def _change(record: FieldRecord, before: list[Item], after: list[Item]) -> Change:
    joiner = " " if record.type_key == "labels" else ", "

    def ids(items: list[Item]) -> str | None:
        named = [i.ident for i in items if i.ident is not None]
        return ", ".join(named) or None

    def shown(items: list[Item]) -> str | None:
        return joiner.join(i.shown for i in items) or None

    return Change(
        record.name, ids(before), shown(before), ids(after), shown(after), field_type="custom"
    )


async def custom_edits(
    session: AsyncSession, names: Iterable[str], issue_id: int | None
) -> CustomEdits:
    """The edits of a create (``issue_id`` None) or an edit whose operations name ``names``:
    the fields and what the issue holds in them are read only when a name is a custom
    field's."""
    if not any(name.startswith(PREFIX) for name in names):
        return CustomEdits(())
    fields = await custom_fields(session)
    held = {} if issue_id is None else await custom_values(session, [issue_id], fields)
    return CustomEdits(fields, held.get(issue_id or 0))
