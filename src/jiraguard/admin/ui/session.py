"""Who is using the admin UI: the session cookie, the user behind it, the admin check.

Every page handler is wrapped by :func:`admin_page`: no session → the login page; a session
of a user who is not (or no longer) an administrator → 403; a POST without the session's CSRF
token → 403. Only then does the handler run, with the :class:`AdminUser`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from jiraguard.admin.common import services
from jiraguard.admin.ui.csrf import checked_form
from jiraguard.admin.ui.render import PageError, error_page, secure_headers
from jiraguard.auth.pat import Origin
from jiraguard.settings import AdminSettings, Settings
from jiraguard.store.admin_sessions import AdminSessionStore, NewSession, SessionRecord
from jiraguard.store.users import UserRecord

COOKIE = "jiraguard_admin"
PREFIX = "/admin"


@dataclass(frozen=True, slots=True)
class AdminUser:
    """The administrator behind a request, with the session's CSRF token for its forms."""

    user: UserRecord
    session: SessionRecord

    @property
    def username(self) -> str:
        return self.user.name

    @property
    def csrf(self) -> str:
        return self.session.csrf_token


def settings(request: Request) -> Settings:
    """The settings in force now (they change without a restart: never keep them)."""
    return services(request).settings


def is_admin(user: UserRecord, admin: AdminSettings) -> bool:
    wanted = {g.lower() for g in admin.groups}
    return user.active and (user.admin or any(g.lower() in wanted for g in user.groups))


def cookie_secure(request: Request) -> bool:
    mode = settings(request).admin.cookie_secure
    if mode != "auto":
        return mode == "always"
    base = settings(request).server.base_url or ""
    return request.url.scheme == "https" or base.startswith("https://")


def client_ip(request: Request) -> str | None:
    return services(request).client_address.of(request.scope)


def origin(request: Request) -> Origin:
    """The request as the origin of a change, for its audit record."""
    return Origin(
        method=request.method,
        path=request.url.path,
        client_ip=client_ip(request),
        auth_method="admin-session",
    )


def sessions(request: Request) -> AdminSessionStore:
    return AdminSessionStore(services(request).db)


async def start_session(request: Request, username: str, method: str) -> NewSession:
    lifetime = timedelta(seconds=settings(request).admin.session_lifetime)
    return await sessions(request).create(username, method, lifetime)


def set_session_cookie(request: Request, response: Response, new: NewSession) -> None:
    response.set_cookie(
        COOKIE,
        new.session_id,
        max_age=int(settings(request).admin.session_lifetime),
        path=PREFIX,
        secure=cookie_secure(request),
        httponly=True,
        samesite="strict",
    )


async def current_admin(request: Request) -> AdminUser | UserRecord | None:
    """The administrator of this request; the (non-admin) user; or None without a session."""
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    record = await sessions(request).get(session_id)
    if record is None:
        return None
    user = await services(request).users.get(record.username)
    if user is None or not user.active:
        return None
    if not is_admin(user, settings(request).admin):
        return user
    return AdminUser(user, record)


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return secure_headers(
        RedirectResponse(f"{PREFIX}/login?next={quote(target, safe='')}", status_code=303)
    )


Handler = Callable[[Request, AdminUser], Awaitable[Response]]
FormHandler = Callable[[Request, AdminUser, FormData], Awaitable[Response]]


def _guarded(run: Callable[[Request, AdminUser], Awaitable[Response]]) -> Callable[..., object]:
    async def endpoint(request: Request) -> Response:
        try:
            found = await current_admin(request)
            if found is None:
                if request.method != "GET":
                    raise PageError(403, "Your session has ended. Log in again.")
                return login_redirect(request)
            if not isinstance(found, AdminUser):
                raise PageError(403, f"{found.name} is not an administrator of jiraguard.")
            request.scope["jiraguard.admin"] = found
            return await run(request, found)
        except PageError as exc:
            return error_page(request, exc.status, exc.message)

    return endpoint


def admin_page(handler: Handler) -> Callable[..., object]:
    """A GET page for administrators."""
    return _guarded(handler)


def admin_form(handler: FormHandler) -> Callable[..., object]:
    """A POST for administrators, run only with the session's CSRF token."""

    async def run(request: Request, admin: AdminUser) -> Response:
        form = await checked_form(request, admin.csrf)
        return await handler(request, admin, form)

    return _guarded(run)
