"""The JQL fields by name, and the fields that are neither ids nor dates.

Fields per Atlassian's "Advanced searching - fields reference" (docs/jira-compat.md §7). A field
rejects an operator it does not support with Jira's "The operator 'X' is not supported by
the 'F' field.", and an unknown field is "Field 'X' does not exist or you do not have
permission to view it.".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Select, and_, exists, not_, or_, select

from jiraguard.jira import catalog
from jiraguard.jira.jql import textsearch
from jiraguard.jira.jql.clauses import (
    CONTAINS,
    EMPTINESS,
    EQUALITY,
    ORDERING,
    Condition,
    Context,
    Field,
    compare,
    emptiness,
    function_error,
    multi_valued,
    single_value,
)
from jiraguard.jira.jql.custom_fields import CustomFieldClauses
from jiraguard.jira.jql.date_fields import DateField, DateTimeField
from jiraguard.jira.jql.errors import JQLError, no_such_field, unsupported_operator
from jiraguard.jira.jql.id_fields import (
    CatalogField,
    ProjectField,
    StatusCategoryField,
    UserField,
)
from jiraguard.jira.jql.item_fields import ITEM_FIELDS
from jiraguard.jira.jql.parser import as_values
from jiraguard.jira.jql.people_fields import PEOPLE_FIELDS
from jiraguard.jira.jql.syntax import Clause, FunctionCall, Literal, Value
from jiraguard.jira.jql.time_fields import TIME_FIELDS
from jiraguard.store.custom_fields import FieldRecord
from jiraguard.store.ids import is_digits, row_id
from jiraguard.store.models import Issue, IssueLabel, Project


class IssueKeyField:
    """key, issuekey, id: an issue key (``P1-5``) or a numeric id.

    Ordering compares issue numbers within the key's project: ``key > P1-5`` is every issue
    of P1 numbered above 5 (Atlassian, "issue key" field reference). ``=`` and ``IN`` test
    at most two ``IN`` lists (keys, ids), however many values the query lists.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def condition(self, clause: Clause, context: Context) -> Condition:
        operator = clause.operator
        if operator not in EQUALITY | ORDERING:
            raise unsupported_operator(operator, self.name)
        if operator in EQUALITY:
            found = self._one_of(as_values(clause.operand), operator)
            return found if operator in ("=", "in") else not_(found)
        value = single_value(clause)
        ident, key = self._parse(value, operator)
        if ident is not None:
            return compare(Issue.id, operator, ident)
        project_key, _, digits = key.rpartition("-")
        project_id = select(Project.id).where(Project.key == project_key)
        return and_(
            Issue.project_id == project_id.scalar_subquery(),
            compare(Issue.number, operator, int(digits)),
        )

    def _one_of(self, values: Iterable[Value], operator: str) -> Condition:
        ids: set[int] = set()
        keys: set[str] = set()
        for value in values:
            ident, key = self._parse(value, operator)
            if ident is not None:
                ids.add(ident)
            else:
                keys.add(key)
        terms: list[Condition] = []
        if keys:
            terms.append(Issue.key == min(keys) if len(keys) == 1 else Issue.key.in_(sorted(keys)))
        if ids:
            terms.append(Issue.id == min(ids) if len(ids) == 1 else Issue.id.in_(sorted(ids)))
        return or_(*terms) if len(terms) > 1 else terms[0]

    def _parse(self, value: Value, operator: str) -> tuple[int | None, str]:
        """``(id, "")`` for a numeric id, ``(None, "P-5")`` for a key (upper case), or 400."""
        if not isinstance(value, Literal):
            if isinstance(value, FunctionCall):
                raise function_error(value, self.name)
            raise unsupported_operator(operator, self.name)
        text = value.text.strip()
        invalid = JQLError(f"The issue key '{value.text}' for field '{self.name}' is invalid.")
        if is_digits(text):
            ident = row_id(text)
            if ident is None:  # past any id (and past what the database driver takes)
                raise invalid
            return ident, ""
        project_key, _, digits = text.rpartition("-")
        number = row_id(digits)
        if not project_key or number is None:  # "FZ-²", "FZ-99999999999999999999"
            raise invalid
        return None, f"{project_key.upper()}-{number}"


class TextField:
    """summary, description, comment, text: ``~`` and ``!~`` (see ``textsearch``)."""

    def __init__(self, name: str, target: textsearch.Target, column: Any = None) -> None:
        self.name = name
        self.target = target
        self.column = column
        """The column ``IS EMPTY`` tests, for fields that may be empty."""

    def condition(self, clause: Clause, context: Context) -> Condition:
        if clause.operator in EMPTINESS and self.column is not None:
            nullable = self.target == "description"
            return emptiness(clause, self.column, nullable)
        if clause.operator not in CONTAINS:
            raise unsupported_operator(clause.operator, self.name)
        value = single_value(clause)
        if not isinstance(value, Literal):
            if isinstance(value, FunctionCall):
                raise function_error(value, self.name)
            raise unsupported_operator(clause.operator, self.name)
        terms = textsearch.phrases(value.text, self.name)
        found = textsearch.contains(
            context.dialect,
            self.target,
            terms,
            probe=context.probe_text_matches,
            audience=context.audience,
        )
        return found if clause.operator == "~" else not_(found)

    def count(self, clause: Clause, context: Context) -> Select[Any] | None:
        """A faster count of the issues ``clause`` alone matches, if the database has one."""
        value = single_value(clause)
        if clause.operator != "~" or not isinstance(value, Literal):
            return None
        terms = textsearch.phrases(value.text, self.name)
        return textsearch.count_matches(
            context.dialect, self.target, terms, audience=context.audience
        )


class LabelsField:
    """labels: exact (case-sensitive) label names; ``!=`` skips issues without labels."""

    name = "labels"

    def condition(self, clause: Clause, context: Context) -> Condition:
        def labelled(names: list[str]) -> Condition:
            chosen = select(IssueLabel.issue_id).where(IssueLabel.label.in_(sorted(set(names))))
            return Issue.id.in_(chosen)

        any_label = exists().where(IssueLabel.issue_id == Issue.id)
        return multi_valued(clause, self.name, any_label, labelled)


_STATUS = CatalogField("status", Issue.status_id, catalog.STATUSES, nullable=False)
_TYPE = CatalogField("issuetype", Issue.issuetype_id, catalog.ISSUE_TYPES, nullable=False)
_KEY = IssueKeyField("key")

FIELDS: dict[str, Field] = {
    "project": ProjectField(),
    "key": _KEY,
    "issuekey": IssueKeyField("issuekey"),
    "id": IssueKeyField("id"),
    "summary": TextField("summary", "summary", Issue.summary),
    "description": TextField("description", "description", Issue.description),
    "text": TextField("text", "text"),
    "comment": TextField("comment", "comment"),
    "status": _STATUS,
    "statuscategory": StatusCategoryField(),
    "priority": CatalogField(
        "priority", Issue.priority_id, catalog.PRIORITIES, nullable=True, ordered=True
    ),
    "issuetype": _TYPE,
    "type": _TYPE,
    "assignee": UserField("assignee", Issue.assignee_id),
    "reporter": UserField("reporter", Issue.reporter_id),
    "creator": UserField("creator", Issue.creator_id),
    "labels": LabelsField(),
    "created": DateTimeField("created", Issue.created_at, nullable=False),
    "createddate": DateTimeField("created", Issue.created_at, nullable=False),
    "updated": DateTimeField("updated", Issue.updated_at, nullable=False),
    "updateddate": DateTimeField("updated", Issue.updated_at, nullable=False),
    "resolution": CatalogField(
        "resolution",
        Issue.resolution_id,
        catalog.RESOLUTIONS,
        nullable=True,
        empty_names=frozenset({"unresolved"}),
    ),
    "resolutiondate": DateTimeField("resolutiondate", Issue.resolved_at, nullable=True),
    "resolved": DateTimeField("resolutiondate", Issue.resolved_at, nullable=True),
    "duedate": DateField("duedate", Issue.due_date, nullable=True),
    "due": DateField("duedate", Issue.due_date, nullable=True),
    **ITEM_FIELDS,
    **TIME_FIELDS,
    **PEOPLE_FIELDS,
}
"""Field name (lower case; Jira's aliases included) -> field."""


def field(name: str, custom: Mapping[str, FieldRecord] | None = None) -> Field:
    """The field called ``name`` (any case): a system field, else one of ``custom`` (by
    lower-case JQL name), or Jira's "does not exist" error."""
    found = FIELDS.get(name.lower())
    if found is not None:
        return found
    record = (custom or {}).get(name.lower())
    if record is None:
        raise no_such_field(name)
    return CustomFieldClauses(record, name)
