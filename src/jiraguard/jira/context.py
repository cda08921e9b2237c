"""What every route needs from a request: the database, the base URL, the acting user."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from jiraguard.auth.principal import Principal
from jiraguard.errors import ISSUE_NOT_FOUND, JiraError, forbidden, not_found
from jiraguard.store.custom_fields import FieldRecord
from jiraguard.store.db import Database
from jiraguard.store.directory import user_by_key, user_by_name, user_id
from jiraguard.store.issue_records import IssueRecord, find_issue_record
from jiraguard.store.issues import find_issue
from jiraguard.store.models import Issue, User


def database(request: Request) -> Database:
    """The shared database of the application."""
    db: Database = request.app.state.services.db
    return db


async def field_definitions(request: Request) -> tuple[FieldRecord, ...]:
    """The custom fields with their options, as this process last read them (reads only:
    a write reads them in its own transaction)."""
    services = request.app.state.services
    fields: tuple[FieldRecord, ...] = await services.custom_fields.current(services.db)
    return fields


def base_url(request: Request) -> str:
    """The public URL ``self`` links start with (``server.base_url``)."""
    base: str = request.app.state.base_url
    return base


def principal(request: Request) -> Principal:
    """The authenticated principal (the middleware guarantees one under /rest/)."""
    user: Principal = request.user
    return user


def _gone() -> JiraError:
    """The principal's user was deleted between authentication and now."""
    return JiraError(401, ["You are not authenticated. Authentication required."])


async def acting_user(session: AsyncSession, request: Request) -> User:
    """The stored user the request runs as (author, reporter, changelog author)."""
    who = principal(request)
    user = await user_by_key(session, who.key) or await user_by_name(session, who.username)
    if user is None:
        raise _gone()
    return user


async def acting_user_id(session: AsyncSession, request: Request) -> int:
    """The id of the stored user the request runs as (JQL's ``currentUser()``), found as
    :func:`acting_user` finds the user, without loading it."""
    who = principal(request)
    found = await user_id(session, who.key, who.username)
    if found is None:
        raise _gone()
    return found


async def announce(request: Request) -> None:
    """After a commit that recorded a change (a user's groups): apply it here at once and
    wake the other processes (``Services.announce``)."""
    await request.app.state.services.announce()


def is_admin(request: Request) -> bool:
    """Jira administrators: the ``admin`` flag, or membership of ``jira-administrators``."""
    return principal(request).is_administrator


ADMINS_ONLY = (
    "You are not authorized to perform this action. Administrator privileges are required."
)


def require_admin(request: Request) -> None:
    """403 in Jira's words unless the caller is a Jira administrator."""
    if not is_admin(request):
        raise forbidden(ADMINS_ONLY)


async def issue_or_404(session: AsyncSession, id_or_key: str) -> Issue:
    """The issue named in the path (key or numeric id), or 404 "Issue Does Not Exist"."""
    issue = await find_issue(session, id_or_key)
    if issue is None:
        raise not_found(ISSUE_NOT_FOUND)
    return issue


async def issue_record_or_404(session: AsyncSession, id_or_key: str) -> IssueRecord:
    """The issue named in the path as a record to render (reads only), or 404 as above."""
    issue = await find_issue_record(session, id_or_key)
    if issue is None:
        raise not_found(ISSUE_NOT_FOUND)
    return issue
