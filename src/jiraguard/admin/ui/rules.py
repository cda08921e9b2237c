"""Access rules page: Basic blocking and its exceptions, report-only mode, the rules in order,
rate limits, and a "what would happen" box that asks the running :class:`Policy` itself."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from jiraguard.admin.common import services
from jiraguard.admin.ui.editing import editable, save_section, split_list
from jiraguard.admin.ui.render import PageError, page, secure_headers
from jiraguard.admin.ui.session import PREFIX, AdminUser, admin_form, admin_page, settings
from jiraguard.auth.errors import AuthError
from jiraguard.auth.principal import Principal
from jiraguard.settings import ConfigError
from jiraguard.settings.common import HttpMethod

METHODS: tuple[HttpMethod, ...] = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ACTIONS = ("allow", "deny", "public")


def _context(request: Request, **extra: Any) -> dict[str, Any]:
    current = settings(request)
    return {
        "auth": current.auth,
        "rules": current.rules,
        "limits": current.rate_limits,
        "methods": METHODS,
        "actions": ACTIONS,
        "saved": request.query_params.get("saved"),
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
        why = f"{exc.status_code}: {exc.description}"
        if exc.decided_by:
            why += f" ({exc.decided_by})"
        return {**answer, "allowed": False, "why": why}
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


async def _save(request: Request, admin: AdminUser, section: str, value: Any) -> Response:
    try:
        await save_section(request, admin, section, value)
    except ConfigError as exc:
        return page(request, "rules.html", _context(request, problems=exc.problems), 400)
    return secure_headers(RedirectResponse(f"{PREFIX}/rules?saved={section}", 303))


@admin_form
async def add_rule(request: Request, admin: AdminUser, form: FormData) -> Response:
    rule: dict[str, Any] = {"name": str(form.get("name") or "").strip()}
    methods = [m for m in form.getlist("methods") if isinstance(m, str)]
    if methods:
        rule["methods"] = methods
    for key in ("paths", "networks", "groups", "require_groups", "deny_groups", "require_scopes"):
        items = split_list(form.get(key))
        if items:
            rule[key] = items
    rule["action"] = str(form.get("action") or "allow")
    limit = str(form.get("rate_limit") or "").strip()
    if limit:
        rule["rate_limit"] = limit
    rules = await editable(request, "rules")
    position = str(form.get("position") or "last")
    rules.insert(0 if position == "first" else len(rules), rule)
    return await _save(request, admin, "rules", rules)


async def _rule_index(request: Request, form: FormData, rules: list[Any]) -> int:
    raw = request.path_params["index"]
    index = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 else -1
    # The name guards against acting on another rule after a concurrent change.
    if not 0 <= index < len(rules) or rules[index].get("name") != form.get("name"):
        raise PageError(409, "The rules changed meanwhile. Reload the page and try again.")
    return index


@admin_form
async def move_rule(request: Request, admin: AdminUser, form: FormData) -> Response:
    rules = await editable(request, "rules")
    index = await _rule_index(request, form, rules)
    target = index - 1 if form.get("direction") == "up" else index + 1
    if 0 <= target < len(rules):
        rules[index], rules[target] = rules[target], rules[index]
    return await _save(request, admin, "rules", rules)


@admin_form
async def delete_rule(request: Request, admin: AdminUser, form: FormData) -> Response:
    rules = await editable(request, "rules")
    rules.pop(await _rule_index(request, form, rules))
    return await _save(request, admin, "rules", rules)


@admin_form
async def save_basic(request: Request, admin: AdminUser, form: FormData) -> Response:
    auth = await editable(request, "auth")
    auth["block_basic"] = form.get("block_basic") == "on"
    auth["basic_report_only"] = form.get("basic_report_only") == "on"
    auth["basic_exceptions"] = {
        key: split_list(form.get(key)) for key in ("users", "groups", "paths", "networks")
    }
    return await _save(request, admin, "auth", auth)


@admin_form
async def save_default(request: Request, admin: AdminUser, form: FormData) -> Response:
    """What happens to a request no rule matches (``auth.default_policy``)."""
    policy = form.get("default_policy")
    if policy not in ("allow", "deny"):
        raise PageError(400, "Pick allow or deny.")
    auth = await editable(request, "auth")
    auth["default_policy"] = policy
    return await _save(request, admin, "auth", auth)


@admin_form
async def save_limits(request: Request, admin: AdminUser, form: FormData) -> Response:
    limits = {
        key: str(form.get(key) or "").strip() or None
        for key in ("per_user", "per_client", "per_token")
    }
    return await _save(request, admin, "rate_limits", limits)
