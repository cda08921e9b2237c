"""Custom fields: their types, and their JSON in ``/field``, createmeta and editmeta.

A field is ``customfield_{id}``; its type is one of Jira's system custom field types
(``com.atlassian.jira.plugin.system.customfieldtypes:…``) listed in ``TYPES``, each with
the searchers Jira accepts for it (docs/jira-compat.md §3.1). The values issues hold are
``custom_values``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jiraguard.jira.views import API
from jiraguard.store.custom_fields import FieldRecord, OptionRecord

PLUGIN = "com.atlassian.jira.plugin.system.customfieldtypes:"
PREFIX = "customfield_"


@dataclass(frozen=True, slots=True)
class FieldType:
    """One custom field type: its schema, where its values are stored, how it is edited."""

    key: str
    schema_type: str
    column: str
    """The ``custom_field_values`` column its values go in."""
    searchers: tuple[str, ...]
    items: str | None = None
    """For a multi-valued type, what its ``array`` holds."""

    @property
    def multiple(self) -> bool:
        return self.items is not None

    @property
    def operations(self) -> list[str]:
        return ["add", "set", "remove"] if self.multiple else ["set"]


TYPES = {
    t.key: t
    for t in (
        FieldType("textfield", "string", "text_value", ("textsearcher",)),
        FieldType("textarea", "string", "text_value", ("textsearcher",)),
        FieldType("float", "number", "number_value", ("exactnumber", "numberrange")),
        FieldType("select", "option", "option_id", ("multiselectsearcher",)),
        FieldType("multiselect", "array", "option_id", ("multiselectsearcher",), "option"),
        FieldType("userpicker", "user", "user_id", ("userpickergroupsearcher",)),
        FieldType("datepicker", "date", "date_value", ("daterange",)),
        FieldType("datetime", "datetime", "datetime_value", ("datetimerange",)),
        FieldType("labels", "array", "string_value", ("labelsearcher",), "string"),
    )
}
"""Short type key → type; the plugin key is ``PLUGIN`` + the short key."""

SELECTS = frozenset({"select", "multiselect"})


def field_id(record: FieldRecord) -> str:
    return f"{PREFIX}{record.id}"


def custom_number(name: str) -> int | None:
    """The number in ``customfield_10000``, or None for any other name."""
    digits = name[len(PREFIX) :] if name.startswith(PREFIX) else ""
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 10 else None


def type_of(record: FieldRecord) -> FieldType:
    return TYPES[record.type_key]


def schema_json(record: FieldRecord) -> dict[str, Any]:
    """The field's ``schema``: ``type`` (and ``items``), the plugin key and ``customId``."""
    kind = type_of(record)
    schema: dict[str, Any] = {"type": kind.schema_type}
    if kind.items:
        schema["items"] = kind.items
    schema["custom"] = PLUGIN + kind.key
    schema["customId"] = record.id
    return schema


def clause_names(record: FieldRecord) -> list[str]:
    """``cf[10000]`` and the name: what JQL calls the field (``jira`` maps them to ids)."""
    return [f"cf[{record.id}]", record.name]


def field_json(record: FieldRecord) -> dict[str, Any]:
    """The ``/field`` entry (and ``POST /field``'s answer)."""
    return {
        "id": field_id(record),
        "key": field_id(record),
        "name": record.name,
        "custom": True,
        "orderable": True,
        "navigable": True,
        "searchable": record.searcher_key is not None,
        "clauseNames": clause_names(record),
        "schema": schema_json(record),
    }


def option_json(base: str, option: OptionRecord) -> dict[str, Any]:
    """An option as issues, createmeta and ``/customFieldOption/{id}`` show it."""
    return {
        "self": f"{base}{API}/customFieldOption/{option.id}",
        "value": option.value,
        "id": str(option.id),
    }


def screen_json(base: str, record: FieldRecord) -> dict[str, Any]:
    """The field in createmeta and editmeta; a select lists its options."""
    body: dict[str, Any] = {
        "required": False,
        "schema": schema_json(record),
        "name": record.name,
        "fieldId": field_id(record),
        "hasDefaultValue": False,
        "operations": type_of(record).operations,
    }
    if record.type_key in SELECTS:
        body["allowedValues"] = [option_json(base, o) for o in record.options]
    return body
