"""Logging in to the admin UI with a local password (the bootstrap administrator made by
``jiraguard user add --admin --password``), and logging out. Every attempt is audited."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from jiraguard.admin.common import services
from jiraguard.admin.ui import csrf
from jiraguard.admin.ui.render import PageError, error_page, page, secure_headers
from jiraguard.admin.ui.session import (
    COOKIE,
    PREFIX,
    client_ip,
    cookie_secure,
    is_admin,
    sessions,
    set_session_cookie,
    settings,
    start_session,
)
from jiraguard.auth.audit import Decision
from jiraguard.auth.authenticator import verify_password

_WRONG = "The username or password is wrong, or the user may not use the admin UI."
LOGIN_ATTEMPTS = (10, 60.0)
"""Password logins per client address: 10 a minute (shared through Redis when configured)."""


def safe_next(value: object) -> str:
    """Where to go after login: a path inside the admin UI only (no open redirect)."""
    if (
        isinstance(value, str)
        and value.startswith(PREFIX + "/")
        and not value.startswith("//")
        and "\\" not in value
        and len(value) < 2048
    ):
        return value
    return PREFIX


def audit_login(
    request: Request,
    username: str,
    allowed: bool,
    status: int,
    reason: str,
    method: str = "password",
) -> None:
    """An audit record of a login attempt (never the password or a token)."""
    services(request).decisions.record(
        Decision(
            allowed=allowed,
            reason=reason,
            status=status,
            method=request.method,
            path=request.url.path,
            client=client_ip(request),
            username=username[:255] or None,
            auth_method=method,
            code="admin_login" if allowed else "admin_login_refused",
        )
    )


def _form(request: Request, error: str | None = None, status: int = 200) -> Response:
    token = request.cookies.get(csrf.LOGIN_COOKIE) or csrf.new_token()
    name = settings(request).admin.login_provider
    response = page(
        request,
        "login.html",
        {
            "csrf": token,
            "next": safe_next(request.query_params.get("next")),
            "error": error,
            "provider": name,
        },
        status,
    )
    response.set_cookie(
        csrf.LOGIN_COOKIE,
        token,
        path=PREFIX,
        secure=cookie_secure(request),
        httponly=True,
        samesite="strict",
    )
    return response


async def login_page(request: Request) -> Response:
    return _form(request)


async def login(request: Request) -> Response:
    try:
        form = await csrf.checked_form(request, request.cookies.get(csrf.LOGIN_COOKIE))
    except PageError as exc:
        return error_page(request, exc.status, exc.message)
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    count, period = LOGIN_ATTEMPTS
    verdict = await services(request).limiter.hit(
        f"admin-login:{client_ip(request) or '-'}", count, period
    )
    if not verdict.allowed:
        audit_login(request, username, False, 429, "admin login refused: too many attempts")
        return _form(request, "Too many login attempts. Wait a minute and try again.", 429)
    user = await services(request).users.get(username) if 0 < len(username) <= 255 else None
    if user is None or not user.active or not await verify_password(user, password):
        audit_login(request, username, False, 401, "admin login failed: wrong username or password")
        return _form(request, _WRONG, 401)
    if not is_admin(user, settings(request).admin):
        audit_login(request, user.name, False, 403, "admin login refused: not an administrator")
        return _form(request, _WRONG, 403)
    new = await start_session(request, user.name, "password")
    audit_login(request, user.name, True, 303, "admin login")
    response = secure_headers(RedirectResponse(safe_next(form.get("next")), status_code=303))
    set_session_cookie(request, response, new)
    response.delete_cookie(csrf.LOGIN_COOKIE, path=PREFIX)
    return response


async def logout(request: Request) -> Response:
    """POST /logout: ends the session (CSRF-checked like every form)."""
    session_id = request.cookies.get(COOKIE)
    record = await sessions(request).get(session_id) if session_id else None
    if record is not None and session_id:
        try:
            await csrf.checked_form(request, record.csrf_token)
        except PageError as exc:
            return error_page(request, exc.status, exc.message)
        await sessions(request).end(session_id)
    response = secure_headers(RedirectResponse(PREFIX + "/login", status_code=303))
    response.delete_cookie(COOKIE, path=PREFIX, secure=cookie_secure(request), httponly=True)
    return response
