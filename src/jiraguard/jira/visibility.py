"""Comment visibility (Jira's ``{"visibility": {"type": "group"|"role", "value": …}}``).

Who reads a restricted comment is decided by :class:`~jiraguard.store.comments.Audience`,
built here from the principal: its groups (an administrator by the ``admin`` flag counts as
a member of ``jira-administrators``) and the project roles those groups make it a member of
(``catalog.PROJECT_ROLES``). As in Jira, a writer may only restrict a comment to a group or
a role it belongs to, and nobody reads past the restriction, the author included.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from jiraguard.auth.principal import ADMIN_GROUP, Principal
from jiraguard.errors import JiraError, field_errors
from jiraguard.jira import catalog
from jiraguard.jira.context import principal
from jiraguard.store.comments import GROUP, ROLE, Audience
from jiraguard.store.directory import group_by_name

LEVEL = "commentLevel"
"""The ``errors`` member Jira reports visibility problems under."""
MAX_NAME = 255


def audience_of(who: Principal) -> Audience:
    """The groups and project roles ``who`` reads restricted comments as."""
    groups = {g.lower() for g in who.groups}
    if who.admin:
        groups.add(ADMIN_GROUP)
    roles = {
        role.name.lower()
        for role in catalog.PROJECT_ROLES
        if any(g.lower() in groups for g in role.groups)
    }
    return Audience(frozenset(groups), frozenset(roles))


def request_audience(request: Request) -> Audience:
    """The audience of the request's principal."""
    return audience_of(principal(request))


async def read_visibility(
    session: AsyncSession, value: Any, audience: Audience
) -> tuple[str, str] | None:
    """The ``(type, name)`` a request's ``visibility`` asks for (None: public), or 400.

    The name is the group's or role's own spelling; the writer must belong to it.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise field_errors({LEVEL: "The visibility must be an object with 'type' and 'value'."})
    kind, name = value.get("type"), value.get("value")
    if not isinstance(kind, str) or kind.lower() not in (GROUP, ROLE):
        raise field_errors({LEVEL: "The visibility type must be 'group' or 'role'."})
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise field_errors({LEVEL: "The visibility value must name a group or a project role."})
    if kind.lower() == GROUP:
        group = await group_by_name(session, name)
        if group is None:
            raise field_errors({LEVEL: f"Group: {name} does not exist."})
        if group.lower_name not in audience.groups:
            raise _not_member(f"the group: {group.name}")
        return GROUP, group.name
    role = catalog.by_name(catalog.PROJECT_ROLES, name)
    if role is None:
        raise field_errors({LEVEL: f"Project role: {name} does not exist."})
    if role.name.lower() not in audience.roles:
        raise _not_member(f"the project role: {role.name}")
    return ROLE, role.name


def _not_member(what: str) -> JiraError:
    return field_errors({LEVEL: f"You are currently not a member of {what}."})
