"""Jira's permissions (``/mypermissions``), each answered from what jiraguard really lets a
user do (docs/jira-compat.md §5.3).

A permission is held when two things agree: the embedded API's own check (``EVERYONE``:
any user who gets through; ``ADMINS``: Jira administrators, who alone administer projects
and change others' comments and worklogs; ``NOBODY``: the feature does not exist here) and
the access rules, asked about the request the permission stands for (``probe``: editing an
issue is ``PUT …/issue/{key}``). Ids, keys, names and the deprecated keys are Jira Server's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

EVERYONE, ADMINS, NOBODY = "everyone", "admins", "nobody"
GLOBAL, PROJECT = "GLOBAL", "PROJECT"


@dataclass(frozen=True, slots=True)
class Permission:
    id: int
    key: str
    name: str
    type: str
    description: str
    grant: str
    probe: tuple[str, str] | None = None
    """``(method, path under /rest/api/2)``; ``{issue}`` and ``{project}`` are filled in."""
    legacy: str | None = None
    """The deprecated key Jira Server still answers (``BROWSE`` for ``BROWSE_PROJECTS``)."""


ISSUE = "/issue/{issue}"
_P = Permission
PERMISSIONS = (
    _P(
        0,
        "ADMINISTER",
        "Administer Jira",
        GLOBAL,
        "Create and administer projects, issue "
        "types, fields, workflows and schemes for all projects.",
        ADMINS,
    ),
    _P(
        44,
        "SYSTEM_ADMIN",
        "Jira System Administrators",
        GLOBAL,
        "Ability to perform all administration functions.",
        ADMINS,
    ),
    _P(
        27,
        "USER_PICKER",
        "Browse Users",
        GLOBAL,
        "Ability to select a user or group from a "
        "popup window as well as the ability to use the 'share' issues feature.",
        EVERYONE,
        ("GET", "/user/search"),
    ),
    _P(
        22,
        "CREATE_SHARED_OBJECTS",
        "Create Shared Objects",
        GLOBAL,
        "Ability to share dashboards and filters with other users, groups and roles.",
        NOBODY,
    ),
    _P(
        24,
        "MANAGE_GROUP_FILTER_SUBSCRIPTIONS",
        "Manage Group Filter Subscriptions",
        GLOBAL,
        "Ability to manage (create and delete) group filter subscriptions.",
        NOBODY,
    ),
    _P(
        33,
        "BULK_CHANGE",
        "Bulk Change",
        GLOBAL,
        "Ability to modify a collection of issues at once.",
        NOBODY,
    ),
    _P(
        23,
        "ADMINISTER_PROJECTS",
        "Administer Projects",
        PROJECT,
        "Ability to administer a project in Jira.",
        ADMINS,
        ("PUT", "/project/{project}"),
        "PROJECT_ADMIN",
    ),
    _P(
        10,
        "BROWSE_PROJECTS",
        "Browse Projects",
        PROJECT,
        "Ability to browse projects and the issues within them.",
        EVERYONE,
        ("GET", ISSUE),
        "BROWSE",
    ),
    _P(
        29,
        "VIEW_DEV_TOOLS",
        "View Development Tools",
        PROJECT,
        "Allows users in a software project to view development-related information on the issue.",
        NOBODY,
        None,
        "VIEW_VERSION_CONTROL",
    ),
    _P(
        45,
        "VIEW_READONLY_WORKFLOW",
        "View Read-Only Workflow",
        PROJECT,
        "Users with this permission may view a read-only version of a workflow.",
        NOBODY,
    ),
    _P(
        11,
        "CREATE_ISSUES",
        "Create Issues",
        PROJECT,
        "Ability to create issues.",
        EVERYONE,
        ("POST", "/issue"),
        "CREATE_ISSUE",
    ),
    _P(
        12,
        "EDIT_ISSUES",
        "Edit Issues",
        PROJECT,
        "Ability to edit issues.",
        EVERYONE,
        ("PUT", ISSUE),
        "EDIT_ISSUE",
    ),
    _P(
        46,
        "TRANSITION_ISSUES",
        "Transition Issues",
        PROJECT,
        "Ability to transition issues.",
        EVERYONE,
        ("POST", ISSUE + "/transitions"),
    ),
    _P(
        28,
        "SCHEDULE_ISSUES",
        "Schedule Issues",
        PROJECT,
        "Ability to view or edit an issue's due date.",
        EVERYONE,
        ("PUT", ISSUE),
        "SCHEDULE_ISSUE",
    ),
    _P(
        25,
        "MOVE_ISSUES",
        "Move Issues",
        PROJECT,
        "Ability to move issues between projects or "
        "between workflows of the same project (if applicable).",
        NOBODY,
        None,
        "MOVE_ISSUE",
    ),
    _P(
        13,
        "ASSIGN_ISSUES",
        "Assign Issues",
        PROJECT,
        "Ability to assign issues to other people.",
        EVERYONE,
        ("PUT", ISSUE + "/assignee"),
        "ASSIGN_ISSUE",
    ),
    _P(
        17,
        "ASSIGNABLE_USER",
        "Assignable User",
        PROJECT,
        "Users with this permission may be assigned to issues.",
        EVERYONE,
    ),
    _P(
        14,
        "RESOLVE_ISSUES",
        "Resolve Issues",
        PROJECT,
        "Ability to resolve and reopen issues. This includes the ability to set a fix version.",
        EVERYONE,
        ("POST", ISSUE + "/transitions"),
        "RESOLVE_ISSUE",
    ),
    _P(
        18,
        "CLOSE_ISSUES",
        "Close Issues",
        PROJECT,
        "Ability to close issues.",
        EVERYONE,
        ("POST", ISSUE + "/transitions"),
        "CLOSE_ISSUE",
    ),
    _P(
        30,
        "MODIFY_REPORTER",
        "Modify Reporter",
        PROJECT,
        "Ability to modify the reporter when creating or editing an issue.",
        EVERYONE,
        ("PUT", ISSUE),
    ),
    _P(
        16,
        "DELETE_ISSUES",
        "Delete Issues",
        PROJECT,
        "Ability to delete issues.",
        EVERYONE,
        ("DELETE", ISSUE),
        "DELETE_ISSUE",
    ),
    _P(
        21,
        "LINK_ISSUES",
        "Link Issues",
        PROJECT,
        "Ability to link issues together and create linked issues.",
        EVERYONE,
        ("POST", "/issueLink"),
        "LINK_ISSUE",
    ),
    _P(
        26,
        "SET_ISSUE_SECURITY",
        "Set Issue Security",
        PROJECT,
        "Ability to set the level of "
        "security on an issue so that only people in that security level can see the issue.",
        NOBODY,
    ),
    _P(
        31,
        "VIEW_VOTERS_AND_WATCHERS",
        "View Voters and Watchers",
        PROJECT,
        "Ability to view the voters and watchers of an issue.",
        NOBODY,
    ),
    _P(
        32,
        "MANAGE_WATCHERS",
        "Manage Watchers",
        PROJECT,
        "Ability to manage the watchers of an issue.",
        NOBODY,
        None,
        "MANAGE_WATCHER_LIST",
    ),
    _P(
        15,
        "ADD_COMMENTS",
        "Add Comments",
        PROJECT,
        "Ability to comment on issues.",
        EVERYONE,
        ("POST", ISSUE + "/comment"),
        "COMMENT_ISSUE",
    ),
    _P(
        34,
        "EDIT_ALL_COMMENTS",
        "Edit All Comments",
        PROJECT,
        "Ability to edit all comments made on issues.",
        ADMINS,
        ("PUT", ISSUE + "/comment/1"),
        "COMMENT_EDIT_ALL",
    ),
    _P(
        35,
        "EDIT_OWN_COMMENTS",
        "Edit Own Comments",
        PROJECT,
        "Ability to edit own comments made on issues.",
        EVERYONE,
        ("PUT", ISSUE + "/comment/1"),
        "COMMENT_EDIT_OWN",
    ),
    _P(
        36,
        "DELETE_ALL_COMMENTS",
        "Delete All Comments",
        PROJECT,
        "Ability to delete all comments made on issues.",
        ADMINS,
        ("DELETE", ISSUE + "/comment/1"),
        "COMMENT_DELETE_ALL",
    ),
    _P(
        37,
        "DELETE_OWN_COMMENTS",
        "Delete Own Comments",
        PROJECT,
        "Ability to delete own comments made on issues.",
        EVERYONE,
        ("DELETE", ISSUE + "/comment/1"),
        "COMMENT_DELETE_OWN",
    ),
    _P(
        19,
        "CREATE_ATTACHMENTS",
        "Create Attachments",
        PROJECT,
        "Users with this permission may create attachments.",
        EVERYONE,
        ("POST", ISSUE + "/attachments"),
        "CREATE_ATTACHMENT",
    ),
    _P(
        38,
        "DELETE_ALL_ATTACHMENTS",
        "Delete All Attachments",
        PROJECT,
        "Users with this permission may delete all attachments.",
        EVERYONE,
        ("DELETE", "/attachment/1"),
        "ATTACHMENT_DELETE_ALL",
    ),
    _P(
        39,
        "DELETE_OWN_ATTACHMENTS",
        "Delete Own Attachments",
        PROJECT,
        "Users with this permission may delete own attachments.",
        EVERYONE,
        ("DELETE", "/attachment/1"),
        "ATTACHMENT_DELETE_OWN",
    ),
    _P(
        20,
        "WORK_ON_ISSUES",
        "Work On Issues",
        PROJECT,
        "Ability to log work done against an issue. Only useful if Time Tracking is turned on.",
        EVERYONE,
        ("POST", ISSUE + "/worklog"),
        "WORK_ISSUE",
    ),
    _P(
        40,
        "EDIT_OWN_WORKLOGS",
        "Edit Own Worklogs",
        PROJECT,
        "Ability to edit own worklogs made on issues.",
        EVERYONE,
        ("PUT", ISSUE + "/worklog/1"),
        "WORKLOG_EDIT_OWN",
    ),
    _P(
        41,
        "EDIT_ALL_WORKLOGS",
        "Edit All Worklogs",
        PROJECT,
        "Ability to edit all worklogs made on issues.",
        ADMINS,
        ("PUT", ISSUE + "/worklog/1"),
        "WORKLOG_EDIT_ALL",
    ),
    _P(
        42,
        "DELETE_OWN_WORKLOGS",
        "Delete Own Worklogs",
        PROJECT,
        "Ability to delete own worklogs made on issues.",
        EVERYONE,
        ("DELETE", ISSUE + "/worklog/1"),
        "WORKLOG_DELETE_OWN",
    ),
    _P(
        43,
        "DELETE_ALL_WORKLOGS",
        "Delete All Worklogs",
        PROJECT,
        "Ability to delete all worklogs made on issues.",
        ADMINS,
        ("DELETE", ISSUE + "/worklog/1"),
        "WORKLOG_DELETE_ALL",
    ),
)

BY_KEY = {p.key: p for p in PERMISSIONS} | {p.legacy: p for p in PERMISSIONS if p.legacy}
"""Every key a request may name, the deprecated ones included."""

Admits = Callable[[str, str], bool]
"""``admits(method, path under /rest/api/2)``: whether the access rules let it through."""


@dataclass(frozen=True, slots=True)
class Place:
    """Where a permission is asked about: an issue key (or a stand-in) and its project key."""

    issue: str
    project: str


def holds(permission: Permission, *, admin: bool, admits: Admits, places: Iterable[Place]) -> bool:
    """Whether a user (``admin``: a Jira administrator) holds ``permission`` in any of
    ``places`` (none: a global permission, or no project at all)."""
    if permission.grant == NOBODY or (permission.grant == ADMINS and not admin):
        return False
    if permission.probe is None:
        return True
    method, path = permission.probe
    if "{" not in path:
        return admits(method, path)
    return any(admits(method, path.format(issue=p.issue, project=p.project)) for p in places)


def permission_json(permission: Permission, key: str, have: bool) -> dict[str, Any]:
    """One entry of ``/mypermissions``'s ``permissions`` map, under ``key``."""
    body: dict[str, Any] = {
        "id": str(permission.id),
        "key": key,
        "name": permission.name,
        "type": permission.type,
        "description": permission.description,
        "havePermission": have,
    }
    if key != permission.key:
        body["deprecatedKey"] = True
    return body
