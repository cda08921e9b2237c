"""The admin UI's routes, mounted at ``/admin`` by :func:`jiraguard.app.create_app`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from jiraguard.admin.ui import (
    audit_page,
    config_toml,
    login,
    oidc_login,
    providers,
    rules,
    status,
    testing,
    tokens,
    users,
)
from jiraguard.admin.ui.render import STATIC, error_page, secure_headers
from jiraguard.admin.ui.session import PREFIX


async def home(request: Request) -> Response:
    return secure_headers(RedirectResponse(f"{PREFIX}/status", status_code=303))


async def not_found(request: Request) -> Response:
    return error_page(request, 404, "There is no such admin page.")


routes: list[BaseRoute] = [
    Route("/login", login.login_page, methods=["GET"]),
    Route("/login", login.login, methods=["POST"]),
    Route("/login/oidc", oidc_login.start, methods=["GET"]),
    Route("/login/callback", oidc_login.callback, methods=["GET"]),
    Route("/logout", login.logout, methods=["POST"]),
    Route("/status", status.status_page, methods=["GET"]),
    Route("/status/probe", status.probe, methods=["POST"]),
    Route("/providers", providers.providers_page, methods=["GET"]),
    Route("/providers/new", providers.new_provider, methods=["GET"]),
    Route("/providers/save", providers.save_provider, methods=["POST"]),
    Route("/providers/discover", providers.discover, methods=["POST"]),
    Route("/providers/{name}/edit", providers.edit_provider, methods=["GET"]),
    Route("/providers/{name}/toggle", providers.toggle_provider, methods=["POST"]),
    Route("/providers/{name}/delete", providers.delete_provider, methods=["POST"]),
    Route("/providers/{name}/attribute", providers.pick_attribute, methods=["POST"]),
    Route("/test", testing.test_page, methods=["GET"]),
    Route("/test", testing.run_test, methods=["POST"]),
    Route("/test/client-credentials", testing.fetch_and_test, methods=["POST"]),
    Route("/rules", rules.rules_page, methods=["GET"]),
    Route("/rules/what-if", rules.what_if, methods=["POST"]),
    Route("/rules/add", rules.add_rule, methods=["POST"]),
    Route("/rules/basic", rules.save_basic, methods=["POST"]),
    Route("/rules/limits", rules.save_limits, methods=["POST"]),
    Route("/rules/default", rules.save_default, methods=["POST"]),
    Route("/rules/{index}/move", rules.move_rule, methods=["POST"]),
    Route("/rules/{index}/delete", rules.delete_rule, methods=["POST"]),
    Route("/tokens", tokens.tokens_page, methods=["GET"]),
    Route("/tokens", tokens.create_token, methods=["POST"]),
    Route("/tokens/{token_id}/revoke", tokens.revoke_token, methods=["POST"]),
    Route("/users", users.users_page, methods=["GET"]),
    Route("/users/add", users.add_user, methods=["POST"]),
    Route("/users/detail", users.user_page, methods=["GET"]),
    Route("/users/active", users.set_active, methods=["POST"]),
    Route("/users/admin", users.set_admin, methods=["POST"]),
    Route("/audit", audit_page.audit_page, methods=["GET"]),
    Route("/audit.csv", audit_page.audit_csv, methods=["GET"]),
    Route("/config", config_toml.config_page, methods=["GET"]),
    Route("/config.toml", config_toml.export, methods=["GET"]),
    Route("/config/import", config_toml.import_toml, methods=["POST"]),
    Mount("/static", app=StaticFiles(directory=STATIC), name="admin-static"),
    Route("/{rest:path}", not_found),
]


def admin_routes() -> list[BaseRoute]:
    """``/admin`` itself (a trailing slash is stripped before routing) and the pages under it."""
    return [Route(PREFIX, home, methods=["GET"]), Mount(PREFIX, routes=routes)]
