"""Users page: find, add, disable and enable users, make administrators; one user's groups,
personal access tokens and recent decisions.

Every change goes through :class:`~jiraguard.store.users.UserDirectory`, the code
``jiraguard user add/disable/enable`` runs, so it is recorded in the change feed the same way
(running processes re-check the user's cached decisions) and, from here, audited (kind
``user``) in the same transaction. An administrator cannot disable themselves or take away
their own administrator flag: nobody would be left to undo it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from jiraguard.admin.common import services
from jiraguard.admin.ui.editing import split_list
from jiraguard.admin.ui.render import PageError, page, secure_headers
from jiraguard.admin.ui.session import PREFIX, AdminUser, admin_form, admin_page, origin
from jiraguard.auth.pat import utcnow
from jiraguard.store.audit import AuditFilter, AuditLog, event_json
from jiraguard.store.users import UserExists, UserRecord
from jiraguard.untrusted import is_digits

PAGE_SIZE = 50
RECENT = 20
MAX_NAME = 255
MAX_GROUPS = 50


def _text(form: FormData, key: str, limit: int = MAX_NAME) -> str:
    return str(form.get(key) or "").strip()[:limit]


def _name_problem(name: str) -> str | None:
    if not name:
        return "Give the user a name."
    if len(name) > MAX_NAME:
        return f"A user name has at most {MAX_NAME} characters."
    if any(ch.isspace() or not ch.isprintable() for ch in name):
        return "A user name has no spaces or control characters."
    return None


def _event(request: Request, status: int, reason: str) -> dict[str, Any] | None:
    if not services(request).settings.audit.enabled:
        return None
    where = origin(request)
    return {
        "at": utcnow(),
        "kind": "user",
        "allowed": True,
        "status": status,
        "reason": reason,
        "method": where.method,
        "path": where.path,
        "client_ip": where.client_ip,
        "auth_method": where.auth_method,
    }


async def _list(request: Request, status: int = 200, **extra: Any) -> Response:
    query = request.query_params.get("q", "").strip()[:MAX_NAME]
    raw_start = request.query_params.get("startAt", "0")
    start = int(raw_start) if is_digits(raw_start) and len(raw_start) < 9 else 0
    total, found = await services(request).users.find(query, start_at=start, max_results=PAGE_SIZE)
    more = start + PAGE_SIZE < total

    def link(at: int) -> str:
        return f"?q={quote(query)}&startAt={at}"

    context = {
        "users": found,
        "total": total,
        "q": query,
        "start": start,
        "previous": link(max(0, start - PAGE_SIZE)) if start else None,
        "next": link(start + PAGE_SIZE) if more else None,
        "admin_groups": {g.lower() for g in services(request).settings.admin.groups},
        **extra,
    }
    return page(request, "users.html", context, status)


@admin_page
async def users_page(request: Request, admin: AdminUser) -> Response:
    return await _list(request, added=request.query_params.get("added"))


def _detail_url(name: str, **note: str) -> str:
    extra = "".join(f"&{k}={quote(v)}" for k, v in note.items())
    return f"{PREFIX}/users/detail?name={quote(name, safe='')}{extra}"


@admin_form
async def add_user(request: Request, admin: AdminUser, form: FormData) -> Response:
    name = str(form.get("name") or "").strip()
    email = _text(form, "email")
    display_name = _text(form, "display_name") or None
    groups = split_list(form.get("groups"))
    entered = {"name": name[:MAX_NAME], "email": email, "display_name": display_name or "",
               "groups": ", ".join(groups[:MAX_GROUPS])}  # fmt: skip
    problem = _name_problem(name)
    if problem is None and len(groups) > MAX_GROUPS:
        problem = f"At most {MAX_GROUPS} groups at once."
    if problem is None and any(len(g) > MAX_NAME for g in groups):
        problem = f"A group name has at most {MAX_NAME} characters."
    if problem is not None:
        return await _list(request, 400, error=problem, entered=entered)
    make_admin = form.get("admin") == "on"
    try:
        await services(request).users.add(
            name,
            display_name=display_name,
            email=email,
            groups=groups,
            admin=make_admin,
            event=_event(
                request,
                201,
                f"added user {name}{' (administrator)' if make_admin else ''} by {admin.username}",
            ),
        )
    except UserExists:
        error = f"A user named {name} exists already."
        return await _list(request, 400, error=error, entered=entered)
    return secure_headers(RedirectResponse(_detail_url(name, saved="added"), 303))


async def _user(request: Request, name: str) -> UserRecord:
    user = await services(request).users.get(name[:MAX_NAME]) if name else None
    if user is None:
        raise PageError(404, "There is no such user.")
    return user


@admin_page
async def user_page(request: Request, admin: AdminUser) -> Response:
    user = await _user(request, request.query_params.get("name", ""))
    shared = services(request)
    tokens_enabled = shared.settings.tokens.enabled
    tokens = await shared.tokens.list(user.name) if tokens_enabled else []
    _, events = await AuditLog(shared.db).search(
        AuditFilter(username=user.name), start_at=0, max_results=RECENT
    )
    admin_groups = {g.lower() for g in shared.settings.admin.groups}
    by_group = sorted(g for g in user.groups if g.lower() in admin_groups)
    return page(
        request,
        "user.html",
        {
            "user": user,
            "tokens": tokens,
            "tokens_enabled": tokens_enabled,
            "events": [event_json(e) for e in events],
            "admin_by_group": by_group,
            "myself": user.name.lower() == admin.username.lower(),
            "saved": request.query_params.get("saved"),
            "audit_link": f"{PREFIX}/audit?user={quote(user.name, safe='')}",
        },
    )


CHANGES = {
    "active": (
        ("enabled user {user} by {admin}", "enabled"),
        ("disabled user {user} by {admin}", "disabled"),
    ),
    "admin": (
        ("made {user} an administrator by {admin}", "made an administrator"),
        ("took the administrator flag from {user} by {admin}", "no longer an administrator"),
    ),
}
"""Per column: (audit reason, note shown) for turning it on, then off."""


async def _change(request: Request, admin: AdminUser, form: FormData, column: str) -> Response:
    user = await _user(request, str(form.get("name") or ""))
    turn_on = form.get(column) == "on"
    if user.name.lower() == admin.username.lower() and not turn_on:
        raise PageError(400, "You cannot do this to your own account: log in as another admin.")
    reason, note = CHANGES[column][0 if turn_on else 1]
    event = _event(request, 200, reason.format(user=user.name, admin=admin.username))
    directory = services(request).users
    if column == "active":
        changed = await directory.set_active(user.name, turn_on, event=event)
    else:
        changed = await directory.set_admin(user.name, turn_on, event=event)
    if not changed:
        raise PageError(404, "The user was deleted meanwhile.")
    await services(request).announce()  # every process re-checks the user's decisions now
    return secure_headers(RedirectResponse(_detail_url(user.name, saved=note), 303))


@admin_form
async def set_active(request: Request, admin: AdminUser, form: FormData) -> Response:
    """Disable (``active`` absent) or enable (``active=on``) a user."""
    return await _change(request, admin, form, "active")


@admin_form
async def set_admin(request: Request, admin: AdminUser, form: FormData) -> Response:
    """Make a user an administrator (``admin=on``) or take the flag away."""
    return await _change(request, admin, form, "admin")
