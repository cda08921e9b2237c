"""Jira's JSON shapes, built from our records (docs/jira-compat.md §5).

Every builder takes the public ``base`` URL first so ``self`` links are absolute and carry
the context path (docs/jira-compat.md rule 5).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from jiraguard.jira import catalog
from jiraguard.jira.catalog import Named, Status, StatusCategory
from jiraguard.jira.durations import format_duration
from jiraguard.jira.timetracking import TIME_FIELDS, Times, flat_fields, timetracking_json
from jiraguard.jira.workflow import Transition
from jiraguard.store.issue_items import ItemRecord
from jiraguard.store.issue_people import Tally
from jiraguard.store.issue_records import IssueRecord, PersonRecord, ProjectRecord
from jiraguard.store.issues import IssueBundle, LinkedIssue
from jiraguard.store.models import (
    Attachment,
    ChangeGroup,
    Comment,
    Component,
    Filter,
    Project,
    User,
    Version,
    Worklog,
)

API = "/rest/api/2"

_K = TypeVar("_K", Named, Status, PersonRecord, ProjectRecord)


def _kept(build: Callable[[str, _K], dict[str, Any]]) -> Callable[[str, _K], dict[str, Any]]:
    """``build`` (a pure function of the base URL and a record or catalog entry) made once
    per pair: a page of issues shows the same few users, its project and the same statuses,
    types and priorities many times. Each caller gets a copy (some add members)."""
    kept = lru_cache(maxsize=4096)(build)

    def copy(base: str, item: _K) -> dict[str, Any]:
        return dict(kept(base, item))

    return copy


ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"


def jira_datetime(moment: datetime) -> str:
    """Jira's date-time format, ``yyyy-MM-dd'T'HH:mm:ss.SSSZ`` (e.g. ``…T12:00:00.000+0000``).

    A naive value (SQLite keeps no offset) is UTC, which is what we store.
    """
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment.year >= 1000:  # what strftime writes, without its two calls (a page has 100s)
        return (
            f"{moment.year}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
            f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}+0000"
        )
    return (
        moment.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{moment.microsecond // 1000:03d}"
        + moment.strftime("%z")
    )


def _maybe_datetime(moment: datetime | None) -> str | None:
    return jira_datetime(moment) if moment is not None else None


def jira_date(day: date | None) -> str | None:
    """Date-only fields (``duedate``): ``yyyy-MM-dd``."""
    return day.isoformat() if day is not None else None


def avatar_urls(base_url: str, username: str) -> dict[str, str]:
    """The four avatar sizes Jira lists for a user."""
    url = f"{base_url}/secure/useravatar?ownerId={quote(username)}"
    return {size: f"{url}&size={size}" for size in ("48x48", "24x24", "16x16", "32x32")}


def user_json(
    base_url: str,
    *,
    name: str,
    key: str,
    display_name: str,
    email: str,
    active: bool = True,
) -> dict[str, Any]:
    """A Jira user object (``self`` matches the ``user?username=`` pattern clients look for)."""
    return {
        "self": f"{base_url}{API}/user?username={quote(name)}",
        "key": key,
        "name": name,
        "emailAddress": email,
        "avatarUrls": avatar_urls(base_url, name),
        "displayName": display_name,
        "active": active,
        "timeZone": "UTC",
    }


def user_of(base: str, user: User | PersonRecord | None) -> dict[str, Any] | None:
    """The user JSON of a stored user, or None (an unassigned issue, a deleted author)."""
    if user is None:
        return None
    if isinstance(user, PersonRecord):
        return _person_kept(base, user)
    return _stored_user_json(base, user)


def _stored_user_json(base: str, user: User) -> dict[str, Any]:
    return user_json(
        base,
        name=user.name,
        key=user.key,
        display_name=user.display_name,
        email=user.email,
        active=user.active,
    )


def groups_json(names: Iterable[str]) -> dict[str, Any]:
    """A user's ``groups`` member: ``{size, items: [{name}]}``, by name."""
    ordered = sorted(names)
    return {"size": len(ordered), "items": [{"name": n} for n in ordered]}


def user_with_groups(base: str, user: User) -> dict[str, Any]:
    """A user as ``GET /user`` and the user writes answer it: with its ``groups``."""
    body = _stored_user_json(base, user)
    body["groups"] = groups_json(g.name for g in user.groups)
    return body


def _person_json(base: str, person: PersonRecord) -> dict[str, Any]:
    return user_json(
        base,
        name=person.name,
        key=person.key,
        display_name=person.display_name,
        email=person.email,
        active=person.active,
    )


_person_kept = _kept(_person_json)


def _icon(base: str, kind: str, name: str) -> str:
    return f"{base}/images/icons/{kind}/{quote(name.lower().replace(' ', '-'))}.svg"


def issuetype_json(base: str, item: Named) -> dict[str, Any]:
    """An issue type (docs/jira-compat.md §5)."""
    return {
        "self": f"{base}{API}/issuetype/{item.id}",
        "id": str(item.id),
        "description": item.description,
        "iconUrl": _icon(base, "issuetypes", item.name),
        "name": item.name,
        "subtask": item.subtask,
        "avatarId": 10300 + item.id % 100,
    }


def priority_json(base: str, item: Named) -> dict[str, Any]:
    """A priority (docs/jira-compat.md §5)."""
    return {
        "self": f"{base}{API}/priority/{item.id}",
        "id": str(item.id),
        "name": item.name,
        "description": item.description,
        "iconUrl": _icon(base, "priorities", item.name),
        "statusColor": "#cccccc",
    }


def resolution_json(base: str, item: Named) -> dict[str, Any]:
    """A resolution."""
    return {
        "self": f"{base}{API}/resolution/{item.id}",
        "id": str(item.id),
        "name": item.name,
        "description": item.description,
    }


def status_category_json(base: str, category: StatusCategory) -> dict[str, Any]:
    """A status category (its ``id`` is a number, as in Jira)."""
    return {
        "self": f"{base}{API}/statuscategory/{category.id}",
        "id": category.id,
        "key": category.key,
        "colorName": category.color_name,
        "name": category.name,
    }


def status_json(base: str, status: Status) -> dict[str, Any]:
    """A status with its category (docs/jira-compat.md §5)."""
    return {
        "self": f"{base}{API}/status/{status.id}",
        "id": str(status.id),
        "name": status.name,
        "description": status.description,
        "iconUrl": _icon(base, "statuses", status.name),
        "statusCategory": status_category_json(base, status.category),
    }


def link_type_json(base: str, item: catalog.LinkType) -> dict[str, Any]:
    """An issue link type (``name``, ``inward``, ``outward``)."""
    return {
        "self": f"{base}{API}/issueLinkType/{item.id}",
        "id": str(item.id),
        "name": item.name,
        "inward": item.inward,
        "outward": item.outward,
    }


def project_json(
    base: str, project: Project | ProjectRecord, *, issue_types: bool = False
) -> dict[str, Any]:
    """A project; ``issueTypes`` only with ``expand=issueTypes`` (docs/jira-compat.md §5)."""
    body: dict[str, Any] = {
        "expand": "description,lead,issueTypes,url,projectKeys",
        "self": f"{base}{API}/project/{project.id}",
        "id": str(project.id),
        "key": project.key,
        "name": project.name,
        "description": project.description,
        "lead": user_of(base, project.lead),
        "projectTypeKey": project.project_type_key,
        "assigneeType": project.assignee_type,
        "avatarUrls": {
            size: f"{base}/secure/projectavatar?pid={project.id}&size={size}"
            for size in ("48x48", "24x24", "16x16", "32x32")
        },
        "archived": False,
    }
    if issue_types:
        body["issueTypes"] = [issuetype_json(base, t) for t in catalog.ISSUE_TYPES]
    return body


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def user_date(day: date) -> str:
    """A date as Jira's default date picker writes it (``d/MMM/yy``: ``6/Jul/10``)."""
    return f"{day.day}/{MONTHS[day.month - 1]}/{day.year % 100:02d}"


def version_json(base: str, version: Version, *, today: date) -> dict[str, Any]:
    """A version as ``/version`` and ``/project/{k}/versions`` show it; ``overdue`` (released
    later than ``today`` would allow) only when it has a release date, as in Jira."""
    body = version_ref_json(base, version)
    if version.start_date is not None:
        body["userStartDate"] = user_date(version.start_date)
    if version.release_date is not None:
        body["overdue"] = not version.released and version.release_date < today
        body["userReleaseDate"] = user_date(version.release_date)
    body["projectId"] = version.project_id
    return body


def version_ref_json(base: str, version: Version | ItemRecord) -> dict[str, Any]:
    """A version as an issue's ``fixVersions`` and ``versions`` name it."""
    body: dict[str, Any] = {"self": f"{base}{API}/version/{version.id}", "id": str(version.id)}
    if version.description:
        body["description"] = version.description
    body.update(name=version.name, archived=version.archived, released=version.released)
    if version.start_date is not None:
        body["startDate"] = version.start_date.isoformat()
    if version.release_date is not None:
        body["releaseDate"] = version.release_date.isoformat()
    return body


def group_json(
    base: str,
    name: str,
    users: list[dict[str, Any]],
    *,
    total: int,
    first: int = 0,
    count: int = 50,
) -> dict[str, Any]:
    """A group with one page of its members (``users[first:first+count]``), as ``/group``
    and the group writes answer it."""
    return {
        "name": name,
        "self": f"{base}{API}/group?groupname={quote(name)}",
        "users": {
            "size": total,
            "items": users,
            "max-results": count,
            "start-index": first,
            "end-index": first + len(users) - 1 if users else first,
        },
        "expand": "users",
    }


def _real_assignee(component: Component) -> tuple[str, User | None]:
    """Who a new issue of ``component`` goes to: Jira's ``realAssigneeType`` and the user.

    ``PROJECT_DEFAULT`` is the project's default; a lead that is missing falls back to the
    project's default, and a project default without a lead to ``UNASSIGNED``.
    """
    project = component.project
    if component.assignee_type == "COMPONENT_LEAD" and component.lead is not None:
        return "COMPONENT_LEAD", component.lead
    if component.assignee_type == "UNASSIGNED":
        return "UNASSIGNED", None
    wanted = component.assignee_type
    if wanted in ("PROJECT_DEFAULT", "COMPONENT_LEAD"):
        wanted = project.assignee_type
    if wanted == "PROJECT_LEAD" and project.lead is not None:
        return "PROJECT_LEAD", project.lead
    return "UNASSIGNED", None


def component_json(base: str, component: Component) -> dict[str, Any]:
    """A component as ``/component`` and ``/project/{k}/components`` show it."""
    body = component_ref_json(base, component)
    if component.lead is not None:
        body["lead"] = user_of(base, component.lead)
    real_type, real = _real_assignee(component)
    valid = component.assignee_type in ("PROJECT_DEFAULT", real_type)
    body["assigneeType"] = component.assignee_type
    if valid and real is not None:
        body["assignee"] = user_of(base, real)
    body["realAssigneeType"] = real_type
    if real is not None:
        body["realAssignee"] = user_of(base, real)
    body["isAssigneeTypeValid"] = valid
    body["project"] = component.project.key
    body["projectId"] = component.project_id
    return body


def component_ref_json(base: str, component: Component | ItemRecord) -> dict[str, Any]:
    """A component as an issue's ``components`` names it."""
    body: dict[str, Any] = {
        "self": f"{base}{API}/component/{component.id}",
        "id": str(component.id),
        "name": component.name,
    }
    if component.description:
        body["description"] = component.description
    return body


def _record_project_json(base: str, project: ProjectRecord) -> dict[str, Any]:
    return project_json(base, project)


_project_kept = _kept(_record_project_json)


def issue_self(base: str, issue_id: int) -> str:
    """An issue's ``self``: by numeric id, as Jira writes it."""
    return f"{base}{API}/issue/{issue_id}"


def comment_json(base: str, comment: Comment) -> dict[str, Any]:
    """A comment (docs/jira-compat.md §5); ``self`` names the issue by id; ``visibility``
    only on a restricted one."""
    body: dict[str, Any] = {
        "self": f"{issue_self(base, comment.issue_id)}/comment/{comment.id}",
        "id": str(comment.id),
        "author": user_of(base, comment.author),
        "body": comment.body,
        "updateAuthor": user_of(base, comment.update_author),
        "created": jira_datetime(comment.created_at),
        "updated": jira_datetime(comment.updated_at),
    }
    if comment.visibility_type is not None:
        body["visibility"] = {"type": comment.visibility_type, "value": comment.visibility_value}
    return body


def worklog_json(base: str, worklog: Worklog) -> dict[str, Any]:
    """A worklog (docs/jira-compat.md §5)."""
    return {
        "self": f"{issue_self(base, worklog.issue_id)}/worklog/{worklog.id}",
        "author": user_of(base, worklog.author),
        "updateAuthor": user_of(base, worklog.update_author),
        "comment": worklog.comment,
        "created": jira_datetime(worklog.created_at),
        "updated": jira_datetime(worklog.updated_at),
        "started": jira_datetime(worklog.started),
        "timeSpent": format_duration(worklog.time_spent_seconds),
        "timeSpentSeconds": worklog.time_spent_seconds,
        "id": str(worklog.id),
        "issueId": str(worklog.issue_id),
    }


def _empty_list() -> dict[str, Any]:
    """Jira's list envelope of a filter's ``sharedUsers`` and ``subscriptions``: empty here."""
    return {"size": 0, "items": [], "max-results": 1000, "start-index": 0, "end-index": 0}


def filter_json(base: str, saved: Filter) -> dict[str, Any]:
    """A filter as ``/filter`` shows it; ``description`` only when it has one, as Jira."""
    body: dict[str, Any] = {
        "self": f"{base}{API}/filter/{saved.id}",
        "id": str(saved.id),
        "name": saved.name,
    }
    if saved.description:
        body["description"] = saved.description
    body.update(
        owner=user_of(base, saved.owner),
        jql=saved.jql,
        viewUrl=f"{base}/issues/?filter={saved.id}",
        searchUrl=f"{base}{API}/search?{urlencode({'jql': saved.jql}, quote_via=quote)}",
        favourite=saved.favourite,
        sharePermissions=[],
        sharedUsers=_empty_list(),
        subscriptions=_empty_list(),
    )
    return body


def attachment_json(base: str, attachment: Attachment, author: User | None) -> dict[str, Any]:
    """An attachment's metadata; ``content`` is the download URL."""
    return {
        "self": f"{base}{API}/attachment/{attachment.id}",
        "id": str(attachment.id),
        "filename": attachment.filename,
        "author": user_of(base, author),
        "created": jira_datetime(attachment.created_at),
        "size": attachment.size,
        "mimeType": attachment.mime_type,
        "content": f"{base}{API}/attachment/content/{attachment.id}",
    }


def paged(
    member: str, items: list[dict[str, Any]], *, start_at: int, max_results: int, total: int
) -> dict[str, Any]:
    """Jira's classic page envelope: ``{startAt, maxResults, total, <member>: [...]}``."""
    return {"startAt": start_at, "maxResults": max_results, "total": total, member: items}


def _linked_issue_json(base: str, issue: IssueRecord) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "summary": issue.summary,
        "status": _status_of(base, issue),
        "issuetype": _issuetype_of(base, issue),
    }
    priority = catalog.by_id(catalog.PRIORITIES, issue.priority_id or 0)
    fields["priority"] = _priority_kept(base, priority) if priority else None
    return {
        "id": str(issue.id),
        "key": issue.key,
        "self": issue_self(base, issue.id),
        "fields": fields,
    }


def issue_link_json(base: str, link: LinkedIssue) -> dict[str, Any]:
    """One entry of ``fields.issuelinks``: the other issue under its direction."""
    link_type = catalog.by_id(catalog.LINK_TYPES, link.link_type_id) or catalog.LINK_TYPES[-1]
    return {
        "id": str(link.id),
        "self": f"{base}{API}/issueLink/{link.id}",
        "type": link_type_json(base, link_type),
        link.direction: _linked_issue_json(base, link.other),
    }


_issuetype_kept = _kept(issuetype_json)
_status_kept = _kept(status_json)
_priority_kept = _kept(priority_json)
_resolution_kept = _kept(resolution_json)


def _status_of(base: str, issue: IssueRecord) -> dict[str, Any]:
    return _status_kept(base, catalog.by_id(catalog.STATUSES, issue.status_id) or catalog.OPEN)


def _issuetype_of(base: str, issue: IssueRecord) -> dict[str, Any]:
    kind = catalog.by_id(catalog.ISSUE_TYPES, issue.issuetype_id) or catalog.DEFAULT_ISSUE_TYPE
    return _issuetype_kept(base, kind)


def changelog_json(base: str, histories: list[ChangeGroup]) -> dict[str, Any]:
    """``expand=changelog``: every history with its items, oldest first."""
    entries = [
        {
            "id": str(group.id),
            "author": user_of(base, group.author),
            "created": jira_datetime(group.created_at),
            "items": [
                {
                    "field": item.field,
                    "fieldtype": item.field_type or "jira",
                    "from": item.from_value,
                    "fromString": item.from_string,
                    "to": item.to_value,
                    "toString": item.to_string,
                }
                for item in group.items
            ],
        }
        for group in histories
    ]
    return {"startAt": 0, "maxResults": len(entries), "total": len(entries), "histories": entries}


def issue_fields_json(base: str, bundle: IssueBundle, fields: Iterable[str]) -> dict[str, Any]:
    """The ``fields`` object of an issue, holding exactly the selected field ids."""
    issue = bundle.issue
    selected = set(fields)
    out: dict[str, Any] = {}
    if "summary" in selected:
        out["summary"] = issue.summary
    if "description" in selected:
        out["description"] = issue.description
    if "issuetype" in selected:
        out["issuetype"] = _issuetype_of(base, issue)
    if "project" in selected:
        out["project"] = _project_kept(base, issue.project)
    if "status" in selected:
        out["status"] = _status_of(base, issue)
    if "priority" in selected:
        priority = catalog.by_id(catalog.PRIORITIES, issue.priority_id or 0)
        out["priority"] = _priority_kept(base, priority) if priority else None
    for name, user in (
        ("assignee", issue.assignee),
        ("reporter", issue.reporter),
        ("creator", issue.creator),
    ):
        if name in selected:
            out[name] = user_of(base, user)
    if "created" in selected:
        out["created"] = jira_datetime(issue.created_at)
    if "updated" in selected:
        out["updated"] = jira_datetime(issue.updated_at)
    if "labels" in selected:
        out["labels"] = list(issue.labels)
    if "resolution" in selected:
        resolution = catalog.by_id(catalog.RESOLUTIONS, issue.resolution_id or 0)
        out["resolution"] = _resolution_kept(base, resolution) if resolution else None
    if "resolutiondate" in selected:
        out["resolutiondate"] = _maybe_datetime(issue.resolved_at)
    if "duedate" in selected:
        out["duedate"] = jira_date(issue.due_date)
    if "comment" in selected:
        comments = [comment_json(base, c) for c in bundle.comments]
        out["comment"] = paged(
            "comments", comments, start_at=0, max_results=len(comments), total=len(comments)
        )
    if "worklog" in selected:
        worklogs = [worklog_json(base, w) for w in bundle.worklogs]
        out["worklog"] = paged(
            "worklogs", worklogs, start_at=0, max_results=len(worklogs), total=len(worklogs)
        )
    if "issuelinks" in selected:
        out["issuelinks"] = [issue_link_json(base, link) for link in bundle.links]
    if "attachment" in selected:
        out["attachment"] = [attachment_json(base, a, who) for a, who in bundle.attachments]
    times = Times(issue.original_estimate, issue.remaining_estimate, issue.time_spent)
    if "timetracking" in selected:
        out["timetracking"] = timetracking_json(times)
    if not selected.isdisjoint(TIME_FIELDS):
        out.update((k, v) for k, v in flat_fields(times).items() if k in selected)
    items = bundle.items
    if "fixVersions" in selected:
        out["fixVersions"] = [version_ref_json(base, v) for v in items.fix_versions]
    if "versions" in selected:
        out["versions"] = [version_ref_json(base, v) for v in items.versions]
    if "components" in selected:
        out["components"] = [component_ref_json(base, c) for c in items.components]
    people = bundle.people
    if "watches" in selected:
        out["watches"] = watches_json(base, issue.key, people.watches)
    if "votes" in selected:
        out["votes"] = votes_json(base, issue.key, people.votes)
    return out


def watches_json(base: str, key: str, tally: Tally) -> dict[str, Any]:
    """An issue's ``watches`` field: the watcher count and whether the viewer watches."""
    return {
        "self": f"{base}{API}/issue/{quote(key)}/watchers",
        "watchCount": tally.count,
        "isWatching": tally.mine,
    }


def watchers_json(base: str, key: str, users: Sequence[User], watching: bool) -> dict[str, Any]:
    """``/issue/{k}/watchers``: the ``watches`` field with the watchers themselves."""
    return {
        "self": f"{base}{API}/issue/{quote(key)}/watchers",
        "isWatching": watching,
        "watchCount": len(users),
        "watchers": [user_of(base, user) for user in users],
    }


def voters_json(base: str, key: str, users: Sequence[User], voted: bool) -> dict[str, Any]:
    """``/issue/{k}/votes``: the ``votes`` field with the voters themselves."""
    return {
        "self": f"{base}{API}/issue/{quote(key)}/votes",
        "votes": len(users),
        "hasVoted": voted,
        "voters": [user_of(base, user) for user in users],
    }


def votes_json(base: str, key: str, tally: Tally) -> dict[str, Any]:
    """An issue's ``votes`` field: the vote count and whether the viewer voted."""
    return {
        "self": f"{base}{API}/issue/{quote(key)}/votes",
        "votes": tally.count,
        "hasVoted": tally.mine,
    }


def issue_json(
    base: str, bundle: IssueBundle, fields: Iterable[str], *, changelog: bool = False
) -> dict[str, Any]:
    """An issue (docs/jira-compat.md §5): ``id``, ``key``, ``self`` and the selected ``fields``."""
    issue = bundle.issue
    body: dict[str, Any] = {
        "expand": ISSUE_EXPAND,
        "id": str(issue.id),
        "self": issue_self(base, issue.id),
        "key": issue.key,
        "fields": issue_fields_json(base, bundle, fields),
    }
    if changelog:
        body["changelog"] = changelog_json(base, bundle.histories)
    return body


def transition_json(base: str, transition: Transition) -> dict[str, Any]:
    """A transition: numeric-string ``id``, ``name`` and ``to`` (docs/jira-compat.md rule 10)."""
    return {
        "id": str(transition.id),
        "name": transition.name,
        "opsbarSequence": transition.opsbar_sequence,
        "to": status_json(base, transition.target),
        "hasScreen": False,
        "isGlobal": False,
        "isInitial": False,
        "isAvailable": True,
        "isConditional": False,
        "isLooped": False,
    }
