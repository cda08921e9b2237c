"""Jira's fixed vocabularies: issue types, statuses, priorities, resolutions, link types,
project roles, and the one permission, notification and issue security scheme every
project uses.

They live in code, not in tables: every process agrees on them, lookups cost nothing, and
issues store their small integer ids. Ids and names follow a default Jira Server install.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar


@dataclass(frozen=True, slots=True)
class StatusCategory:
    id: int
    key: str
    name: str
    color_name: str


@dataclass(frozen=True, slots=True)
class Status:
    id: int
    name: str
    category: StatusCategory
    description: str = ""


@dataclass(frozen=True, slots=True)
class Named:
    """An issue type, priority or resolution: an id, a name, a description."""

    id: int
    name: str
    description: str = ""
    subtask: bool = False


@dataclass(frozen=True, slots=True)
class LinkType:
    id: int
    name: str
    inward: str
    outward: str


TODO = StatusCategory(2, "new", "To Do", "blue-gray")
IN_PROGRESS = StatusCategory(4, "indeterminate", "In Progress", "yellow")
DONE = StatusCategory(3, "done", "Done", "green")
NO_CATEGORY = StatusCategory(1, "undefined", "No Category", "medium-gray")
"""Jira lists it; no status of the classic workflow is in it."""
STATUS_CATEGORIES = (NO_CATEGORY, TODO, IN_PROGRESS, DONE)

OPEN = Status(1, "Open", TODO, "The issue is open and ready for the assignee to start work on it.")
STARTED = Status(3, "In Progress", IN_PROGRESS, "This issue is being actively worked on.")
REOPENED = Status(4, "Reopened", TODO, "This issue was once resolved, but was not right.")
RESOLVED = Status(5, "Resolved", DONE, "A resolution has been taken.")
CLOSED = Status(6, "Closed", DONE, "The issue is considered finished.")
STATUSES = (OPEN, STARTED, REOPENED, RESOLVED, CLOSED)

ISSUE_TYPES = (
    Named(1, "Bug", "A problem which impairs or prevents the functions of the product."),
    Named(2, "New Feature", "A new feature of the product, which has yet to be developed."),
    Named(3, "Task", "A task that needs to be done."),
    Named(4, "Improvement", "An improvement or enhancement to an existing feature or task."),
    Named(5, "Sub-task", "The sub-task of the issue", subtask=True),
    Named(10000, "Epic", "A big user story that needs to be broken down."),
    Named(10001, "Story", "A user story."),
)
DEFAULT_ISSUE_TYPE = ISSUE_TYPES[2]

PRIORITIES = (
    Named(1, "Highest", "This problem will block progress."),
    Named(2, "High", "Serious problem that could block progress."),
    Named(3, "Medium", "Has the potential to affect progress."),
    Named(4, "Low", "Minor problem or easily worked around."),
    Named(5, "Lowest", "Trivial problem with little or no impact on progress."),
)
DEFAULT_PRIORITY = PRIORITIES[2]

RESOLUTIONS = (
    Named(1, "Fixed", "A fix for this issue is checked into the tree and tested."),
    Named(2, "Won't Fix", "The problem described is an issue which will never be fixed."),
    Named(3, "Duplicate", "The problem is a duplicate of an existing issue."),
    Named(4, "Incomplete", "The problem is not completely described."),
    Named(5, "Cannot Reproduce", "All attempts at reproducing this issue failed."),
    Named(10000, "Done", "Work has been completed on this issue."),
)
DEFAULT_RESOLUTION = RESOLUTIONS[0]

LINK_TYPES = (
    LinkType(10000, "Blocks", "is blocked by", "blocks"),
    LinkType(10001, "Cloners", "is cloned by", "clones"),
    LinkType(10002, "Duplicate", "is duplicated by", "duplicates"),
    LinkType(10003, "Relates", "relates to", "relates to"),
)


@dataclass(frozen=True, slots=True)
class ProjectRole:
    """A project role; its members are those of ``groups``, in every project (the default
    role members of a Jira Server install)."""

    id: int
    name: str
    description: str
    groups: tuple[str, ...]


PROJECT_ROLES = (
    ProjectRole(
        10002,
        "Administrators",
        "A project role that represents administrators in a project",
        ("jira-administrators",),
    ),
    ProjectRole(
        10001,
        "Developers",
        "A project role that represents developers in a project",
        ("jira-developers",),
    ),
    ProjectRole(
        10000, "Users", "A project role that represents users in a project", ("jira-users",)
    ),
)


@dataclass(frozen=True, slots=True)
class Scheme:
    """A permission, notification or issue security scheme: one of each exists, and every
    project uses it (access is decided by jiraguard's rules, not by schemes)."""

    id: int
    name: str
    description: str


PERMISSION_SCHEMES = (
    Scheme(
        0,
        "Default Permission Scheme",
        "This is the default Permission Scheme. Any new projects that are created will be "
        "assigned this scheme.",
    ),
)
NOTIFICATION_SCHEMES = (Scheme(10000, "Default Notification Scheme", ""),)
ISSUE_SECURITY_SCHEMES = (
    Scheme(10000, "Default", "No security levels: an issue is visible to all who see its project."),
)
ASSIGNEE_TYPES = ("PROJECT_LEAD", "UNASSIGNED")
"""A project's default assignee, what "automatic" assignment picks."""


T = TypeVar("T", "Status", "Named", "LinkType", "ProjectRole", "Scheme")


def by_id(items: tuple[T, ...], ident: int) -> T | None:
    return next((item for item in items if item.id == ident), None)


def by_name(items: tuple[T, ...], name: str) -> T | None:
    """Case-insensitive lookup by name, as Jira does for JQL values and REST references."""
    folded = name.casefold()
    return next((item for item in items if item.name.casefold() == folded), None)
