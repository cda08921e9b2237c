"""Jira's application properties (``/application-properties``): a fixed set of the keys a
Jira Server install ships, with its defaults (docs/jira-compat.md §5.5).

Administrators may change a value (kept in ``application_properties``) unless it describes
what jiraguard does in code or configuration (``fixed``): ``jira.baseurl`` is
``server.base_url``, which every ``self`` link is built from, and the date formats, time zone
and project key pattern are those the API parses and writes. A changed value that nothing
here reads (a UI preference, ``jira.title``) is kept and answered, nothing more.
``advanced`` marks the properties of Jira's "Advanced Settings" page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Property:
    key: str
    default: str
    desc: str
    advanced: bool = False
    allowed: tuple[str, ...] = ()
    """The values it may take (none: any string)."""
    fixed: str = ""
    """Why it cannot be changed, when jiraguard's behaviour is what it describes."""


BASE_URL = "jira.baseurl"
TITLE = "jira.title"
CONFIGURED = "it is server.base_url in jiraguard's configuration"
CODED = "jiraguard's API always works this way"

PROPERTIES = (
    Property(TITLE, "Jira", "The name of this Jira installation."),
    Property(BASE_URL, "", "The base URL of this Jira installation.", fixed=CONFIGURED),
    Property(
        "jira.mode",
        "private",
        "Private or public mode.",
        allowed=("private", "public"),
        fixed=CODED,
    ),
    Property("jira.default.timezone", "UTC", "The default time zone of users.", fixed=CODED),
    Property(
        "jira.date.picker.java.format",
        "d/MMM/yy",
        "The date picker format (Java).",
        advanced=True,
        fixed=CODED,
    ),
    Property(
        "jira.date.picker.javascript.format",
        "%e/%b/%y",
        "The date picker format (JavaScript).",
        advanced=True,
        fixed=CODED,
    ),
    Property(
        "jira.date.time.picker.java.format",
        "dd/MMM/yy h:mm a",
        "The date and time picker format (Java).",
        advanced=True,
        fixed=CODED,
    ),
    Property(
        "jira.date.time.picker.javascript.format",
        "%e/%b/%y %I:%M %p",
        "The date and time picker format (JavaScript).",
        advanced=True,
        fixed=CODED,
    ),
    Property("jira.lf.date.time", "h:mm a", "The time format.", advanced=True, fixed=CODED),
    Property("jira.lf.date.day", "EEEE h:mm a", "The day format.", advanced=True, fixed=CODED),
    Property(
        "jira.lf.date.complete",
        "dd/MMM/yy h:mm a",
        "The complete date and time format.",
        advanced=True,
        fixed=CODED,
    ),
    Property(
        "jira.lf.date.dmy",
        "dd/MMM/yy",
        "The day, month and year format.",
        advanced=True,
        fixed=CODED,
    ),
    Property(
        "jira.issue.actions.order",
        "asc",
        "The order of the activity on an issue.",
        advanced=True,
        allowed=("asc", "desc"),
    ),
    Property(
        "jira.clone.prefix", "CLONE -", "The prefix of a cloned issue's summary.", advanced=True
    ),
    Property(
        "jira.projectkey.pattern",
        "([A-Z][A-Z0-9_]+)",
        "The pattern project keys follow.",
        advanced=True,
        fixed=CODED,
    ),
    Property(
        "jira.view.issue.links.sort.order",
        "type, status, priority",
        "How the links of an issue are sorted.",
        advanced=True,
    ),
    Property(
        "jira.comment.collapsing.minimum.hidden",
        "4",
        "The fewest comments that are collapsed on an issue.",
        advanced=True,
    ),
    Property(
        "jira.table.cols.subtasks",
        "issuetype, status, assignee, progress",
        "The columns of the sub-task table.",
        advanced=True,
    ),
    Property(
        "jira.newsletter.tip.delay.days",
        "7",
        "Days before the newsletter tip is shown.",
        advanced=True,
    ),
)

BY_KEY = {p.key: p for p in PROPERTIES}


def property_json(item: Property, value: str) -> dict[str, Any]:
    """A property as Jira answers it (``allowedValues`` only when it has some)."""
    body: dict[str, Any] = {
        "id": item.key,
        "key": item.key,
        "value": value,
        "name": item.key,
        "desc": item.desc,
        "type": "string",
        "defaultValue": item.default,
    }
    if item.allowed:
        body["allowedValues"] = list(item.allowed)
    return body
