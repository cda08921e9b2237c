"""Browser login to the admin UI with the provider itself (authorization code + PKCE), in
headless Chromium against the real test provider's login page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.admin_ui.browser import DESKTOP, chromium, screenshot
from tests.conftest import jwt_provider
from tests.support.idp import ADMIN_LOGIN_CLIENT, TestProvider
from tests.support.live import live_server

pytestmark = [pytest.mark.idp, pytest.mark.timeout(120)]


def _sign_in_at_the_provider(page: Page, base: str, account: str) -> None:
    page.goto(f"{base}/admin/tokens")
    page.get_by_role("link", name="Log in with corp").click()
    page.locator("input[name=login]").fill(account)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()


def test_administrators_log_in_with_the_provider_and_others_are_refused(
    idp: TestProvider, tmp_path: Path, sqlite_url: str
) -> None:
    client_id, secret = ADMIN_LOGIN_CLIENT
    config = {
        "storage": {"url": sqlite_url},
        "providers": [jwt_provider(idp)],
        "admin": {"login_provider": "corp", "client_id": client_id, "client_secret": secret},
        "audit": {"flush_interval": 0.2},
    }
    users = {"alice": {"email": "alice@example.com", "admin": True}, "bob": {"email": "b@x"}}
    with live_server(config, users=users) as base, chromium() as browser:
        page = browser.new_context(viewport=DESKTOP).new_page()
        _sign_in_at_the_provider(page, base, "alice")
        # Back at the page asked for first, logged in as the provider's user.
        expect(page.get_by_role("heading", name="Personal access tokens")).to_be_visible()
        expect(page.locator(".who")).to_have_text("alice")
        cookies = {c["name"]: c for c in page.context.cookies()}
        assert cookies["jiraguard_admin"]["httpOnly"]
        assert cookies["jiraguard_admin"]["sameSite"] == "Strict"
        assert "jiraguard_oidc" not in cookies
        screenshot(page, "oidc-logged-in")

        other = browser.new_context(viewport=DESKTOP).new_page()
        _sign_in_at_the_provider(other, base, "bob")
        expect(other.get_by_role("alert")).to_contain_text("bob is not an administrator")
        assert "jiraguard_admin" not in {c["name"] for c in other.context.cookies()}

        # A callback that this browser did not start is refused.
        forged = other.goto(f"{base}/admin/login/callback?code=abc&state=xyz")
        assert forged is not None
        assert forged.status == 403

        page.goto(f"{base}/admin/audit?kind=auth")
        events = page.locator("#events")
        page.get_by_label("Auto-refresh every 5 s").check()
        expect(events).to_contain_text("admin login with corp", timeout=15_000)
        expect(events).to_contain_text("not an administrator", timeout=15_000)


def test_the_login_provider_must_be_configured(idp: TestProvider) -> None:
    from jiraguard.settings import ConfigError, validate_settings

    with pytest.raises(ConfigError) as raised:
        validate_settings({"admin": {"login_provider": "nope", "client_id": "x"}})
    assert "admin.login_provider 'nope' must name a provider" in str(raised.value)
    with pytest.raises(ConfigError):
        validate_settings({"providers": [jwt_provider(idp)], "admin": {"login_provider": "corp"}})
