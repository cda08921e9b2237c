"""Queries on custom fields: their definitions and options, and the values issues hold.

Definitions are read whole (one statement, fields with their options): there are few, and
every issue read, edit and search that shows or names custom fields needs them. The reads
(issue GET, search, ``/field``, the screens) take them from :class:`FieldDefinitions`, this
process's copy, kept until a field or an option is added anywhere (the change feed's
``CUSTOM_FIELDS``); writes read them in their own transaction. Values are read as plain
records for a page of issues in one statement, as ``issue_records`` reads issues.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from jiraguard.store.db import Database
from jiraguard.store.id_lists import in_ids
from jiraguard.store.ids import row_id
from jiraguard.store.issue_records import PersonRecord
from jiraguard.store.models import CustomField, CustomFieldOption, CustomFieldValue, User

FIRST_ID = 10000
"""Jira numbers custom fields and their options from 10000."""


@dataclass(frozen=True, slots=True)
class OptionRecord:
    """An option of a select field."""

    id: int
    value: str
    field_id: int


@dataclass(frozen=True, slots=True)
class FieldRecord:
    """A custom field's definition; ``options`` in their order (selects only)."""

    id: int
    name: str
    description: str
    type_key: str
    searcher_key: str | None
    options: tuple[OptionRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class ValueRecord:
    """One value an issue holds in a custom field: ``value`` is the stored column's (text,
    number, date, date-time); ``option`` and ``user`` for selects and user pickers."""

    value: Any
    option: OptionRecord | None = None
    user: PersonRecord | None = None


IssueValues = dict[int, list[ValueRecord]]
"""Field id → the values an issue holds in it, in display order."""

_FIELD = CustomField.__table__
_OPTION = CustomFieldOption.__table__
_VALUE = CustomFieldValue.__table__
_USER = User.__table__
_PERSON_COLUMNS = ("id", "name", "key", "display_name", "email", "active")
VALUE_COLUMNS = ("text_value", "string_value", "number_value", "date_value", "datetime_value")


async def custom_fields(session: AsyncSession) -> tuple[FieldRecord, ...]:
    """Every custom field with its options, by id."""
    query = (
        select(
            _FIELD.c.id,
            _FIELD.c.name,
            _FIELD.c.description,
            _FIELD.c.type_key,
            _FIELD.c.searcher_key,
            _OPTION.c.id,
            _OPTION.c.value,
        )
        .select_from(_FIELD.outerjoin(_OPTION, _OPTION.c.field_id == _FIELD.c.id))
        .order_by(_FIELD.c.id, _OPTION.c.sequence, _OPTION.c.id)
    )
    found: dict[int, tuple[FieldRecord, list[OptionRecord]]] = {}
    for ident, name, description, type_key, searcher, option_id, value in await session.execute(
        query
    ):
        record = FieldRecord(ident, name, description, type_key, searcher)
        _, options = found.setdefault(ident, (record, []))
        if option_id is not None:
            options.append(OptionRecord(option_id, value, ident))
    return tuple(replace(record, options=tuple(opts)) for record, opts in found.values())


class FieldDefinitions:
    """This process's copy of :func:`custom_fields`, read on first use and again after
    :meth:`forget`, which the change feed calls when a field or an option was added (in any
    process; the writer applies its own change before it answers).

    A read that was under way when the definitions were forgotten answers its request but
    is not kept: it may have started before the change committed."""

    def __init__(self) -> None:
        self._fields: tuple[FieldRecord, ...] | None = None
        self._generation = 0

    async def current(self, db: Database) -> tuple[FieldRecord, ...]:
        """The definitions, from memory when this process has them."""
        if self._fields is not None:
            return self._fields
        generation = self._generation
        fields = await db.run(custom_fields)
        if generation == self._generation:
            self._fields = fields
        return fields

    def forget(self) -> None:
        """Read the definitions again on next use."""
        self._fields = None
        self._generation += 1


async def _next_id(session: AsyncSession, column: Any) -> int:
    last = await session.scalar(select(func.max(column)))
    return max(int(last or 0) + 1, FIRST_ID)


async def create_custom_field(
    session: AsyncSession,
    *,
    name: str,
    description: str,
    type_key: str,
    searcher_key: str | None,
    options: Sequence[str] = (),
) -> int:
    """Add a field (and its options, in order); its id. A concurrent create that took the
    same id makes the transaction fail with IntegrityError."""
    ident = await _next_id(session, _FIELD.c.id)
    await session.execute(
        insert(CustomField).values(
            id=ident,
            name=name,
            lower_name=name.lower(),
            description=description,
            type_key=type_key,
            searcher_key=searcher_key,
        )
    )
    await _insert_options(session, ident, options, start=0)
    return ident


async def _insert_options(
    session: AsyncSession, field_id: int, values: Sequence[str], *, start: int
) -> list[OptionRecord]:
    """Add ``values`` as the field's options after its first ``start``, in order."""
    if not values:
        return []
    first = await _next_id(session, _OPTION.c.id)
    rows: list[dict[str, Any]] = [
        {
            "id": first + n,
            "field_id": field_id,
            "value": value,
            "lower_value": value.lower(),
            "sequence": start + n + 1,
        }
        for n, value in enumerate(values)
    ]
    await session.execute(insert(CustomFieldOption), rows)
    return [OptionRecord(row["id"], row["value"], field_id) for row in rows]


async def add_option(session: AsyncSession, field_id: int, value: str) -> OptionRecord:
    """Add one option after the field's others."""
    last = await session.scalar(
        select(func.max(_OPTION.c.sequence)).where(_OPTION.c.field_id == field_id)
    )
    (option,) = await _insert_options(session, field_id, [value], start=int(last or 0))
    return option


async def find_option(session: AsyncSession, ident: str) -> OptionRecord | None:
    """An option by its numeric id as it arrives in a URL, or None."""
    number = row_id(ident)
    if number is None:
        return None
    row = (
        await session.execute(
            select(_OPTION.c.id, _OPTION.c.value, _OPTION.c.field_id).where(_OPTION.c.id == number)
        )
    ).first()
    return OptionRecord(*row) if row is not None else None


def _values_query() -> Select[Any]:
    columns = [_VALUE.c.issue_id, _VALUE.c.field_id, _VALUE.c.option_id]
    columns += [_VALUE.c[name] for name in VALUE_COLUMNS]
    columns += [_USER.c[name] for name in _PERSON_COLUMNS]
    return (
        select(*columns)
        .select_from(_VALUE.outerjoin(_USER, _USER.c.id == _VALUE.c.user_id))
        .where(in_ids(_VALUE.c.issue_id, "issues"))
        .order_by(_VALUE.c.issue_id, _VALUE.c.field_id, _VALUE.c.id)
    )


_VALUES = _values_query()
"""The values a page of issues holds, built once (a request neither builds nor hashes it)."""
_ONE_FIELD_VALUES = _VALUES.where(_VALUE.c.field_id == bindparam("field"))


async def custom_values(
    session: AsyncSession, issue_ids: Sequence[int], fields: Iterable[FieldRecord]
) -> dict[int, IssueValues]:
    """The values the issues ``issue_ids`` hold in ``fields``: issue id → field id → values
    (options in their order, other values as stored). Issues without any are left out."""
    by_id = {f.id: f for f in fields}
    if not issue_ids or not by_id:
        return {}
    options = {o.id: o for f in by_id.values() for o in f.options}
    places = {o.id: n for f in by_id.values() for n, o in enumerate(f.options)}
    if len(by_id) == 1:
        query, parameters = _ONE_FIELD_VALUES, {"field": next(iter(by_id))}
    else:
        query, parameters = _VALUES, {}
    rows = await session.execute(query, {"issues": list(issue_ids), **parameters})
    found: dict[int, IssueValues] = {}
    width = len(VALUE_COLUMNS)
    for issue_id, field_id, option_id, *rest in rows:
        if field_id not in by_id:
            continue
        value = next((v for v in rest[:width] if v is not None), None)
        user = PersonRecord(*rest[width:]) if rest[width] is not None else None
        option = options.get(option_id) if option_id is not None else None
        found.setdefault(issue_id, {}).setdefault(field_id, []).append(
            ValueRecord(value, option, user)
        )
    for values in found.values():
        for field_id, held in values.items():
            if by_id[field_id].options:
                held.sort(key=lambda v: places.get(v.option.id, 0) if v.option else 0)
            elif by_id[field_id].type_key == "labels":
                held.sort(key=lambda v: str(v.value))
    return found


async def replace_values(
    session: AsyncSession, issue_id: int, field_id: int, column: str, values: Sequence[Any]
) -> None:
    """Make the issue's values in the field exactly ``values`` (stored in ``column``)."""
    await session.execute(
        delete(CustomFieldValue).where(
            CustomFieldValue.issue_id == issue_id, CustomFieldValue.field_id == field_id
        )
    )
    if values:
        await session.execute(
            insert(CustomFieldValue),
            [{"issue_id": issue_id, "field_id": field_id, column: value} for value in values],
        )
