"""Access rules page: Basic blocking and its exceptions, report-only mode, the rules in order,
rate limits, and a "what would happen" box that asks the running :class:`Policy` itself."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from jiraguard.admin.ui.render import page
from jiraguard.admin.ui.session import AdminUser, admin_form, admin_page, services, settings
from jiraguard.auth.errors import AuthError
from jiraguard.auth.principal import Principal
from jiraguard.settings.common import HttpMethod

METHODS: tuple[HttpMethod, ...] = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _context(request: Request, **extra: Any) -> dict[str, Any]:
    current = settings(request)
    return {
        "auth": current.auth,
        "rules": current.rules,
        "limits": current.rate_limits,
        "methods": METHODS,
        **extra,
    }


@admin_page
async def rules_page(request: Request, admin: AdminUser) -> Response:
    return page(request, "rules.html", _context(request))


async def decide(request: Request, method: str, path: str, username: str) -> dict[str, Any]:
    """What the policy in force would do with ``method path`` by ``username`` (a bearer
    token's request; rate limits are not counted)."""
    policy = services(request).policy
    answer: dict[str, Any] = {"method": method, "path": path, "user": username}
    if policy.is_public(method, path, None):
        return {**answer, "allowed": True, "why": "a public rule serves it without credentials"}
    if not any(path.startswith(p) for p in settings(request).auth.protected_paths):
        return {
            **answer,
            "allowed": True,
            "why": "the path is not protected (auth.protected_paths)",
        }
    user = await services(request).users.get(username) if username else None
    if user is None:
        return {**answer, "allowed": False, "why": "401: no such user in the directory"}
    if not user.active:
        return {**answer, "allowed": False, "why": "401: the user is disabled"}
    principal = Principal.of(user, method="jwt")
    try:
        rule = policy.authorize(principal, method, path, None)
    except AuthError as exc:
        return {**answer, "allowed": False, "why": f"{exc.status_code}: {exc.description}"}
    if rule is None:
        return {**answer, "allowed": True, "why": "no rule matches: auth.default_policy = allow"}
    return {**answer, "allowed": True, "why": f"rule '{rule.rule.name}' allows it"}


@admin_form
async def what_if(request: Request, admin: AdminUser, form: FormData) -> Response:
    method = str(form.get("method") or "GET").upper()
    path = str(form.get("path") or "").strip()[:2048]
    username = str(form.get("user") or "").strip()[:255]
    if method not in METHODS or not path.startswith("/"):
        context = _context(request, error="Pick a method and give a path starting with /.")
        return page(request, "rules.html", context, 400)
    verdict = await decide(request, method, path, username)
    return page(request, "rules.html", _context(request, verdict=verdict))
