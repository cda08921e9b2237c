"""The admin UI in a real browser (headless Debian Chromium, Playwright) against a real
jiraguard server, the real test provider and a real database.

One walk through what an administrator does on day one: log in as the bootstrap admin made
by ``jiraguard user add --admin --password``, add the real provider from a preset with its
endpoints discovered, test a real token and pick the username attribute by clicking a claim,
add a rule and see a request denied, create and revoke a personal access token, find all of
it in the audit log, add a user and disable one (whose token is refused at once), and read
the last hour on the status page's chart. Screenshots of every page, at 1280 px and at phone
width (360 px), are kept in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.admin_ui.browser import DESKTOP, PHONE, chromium, screenshot
from tests.admin_ui.support import ADMIN_PASSWORD
from tests.support.idp import RESOURCE, TestProvider
from tests.support.live import live_server

pytestmark = [pytest.mark.idp, pytest.mark.timeout(180)]

JIRAGUARD = Path(sys.executable).parent / "jiraguard"
PAGES = ["status", "providers", "providers/new?preset=cognito", "providers/corp/edit", "test",
         "users", "users/detail?name=alice@example.com", "rules", "tokens", "audit",
         "config"]  # fmt: skip


def _bootstrap_admin(tmp_path: Path, database: str) -> None:
    config = tmp_path / "jiraguard.toml"
    config.write_text(f'[storage]\nurl = "{database}"\n')
    subprocess.run(
        [
            str(JIRAGUARD),
            "user",
            "add",
            "root",
            "--admin",
            "--password",
            "--create-database",
            "--config",
            str(config),
        ],
        input=ADMIN_PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )


def _log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/")
    expect(page.get_by_role("heading", name="Log in to jiraguard")).to_be_visible()
    screenshot(page, "login")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Status", exact=True)).to_be_visible()


def test_an_administrator_runs_jiraguard_from_the_browser(
    idp: TestProvider, tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'jiraguard.db'}"
    _bootstrap_admin(tmp_path, database)
    config = {"storage": {"url": database}, "audit": {"flush_interval": 0.2}}
    alice = idp.jwt_token("alice")
    user = "alice@example.com"  # the directory knows alice by her e-mail address
    with (
        live_server(config, users={user: {"email": user}}) as base,
        chromium() as browser,
        httpx.Client(base_url=base, timeout=10) as api,
    ):
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        _log_in(page, base)

        # Providers: add the real test provider from the "custom" preset, endpoints discovered.
        page.get_by_role("link", name="Providers").click()
        page.get_by_label("Preset").select_option("custom")
        page.get_by_role("button", name="Continue").click()
        page.get_by_label("Name", exact=True).fill("corp")
        page.get_by_label("Validation method").select_option("jwt")
        page.get_by_label("Issuer", exact=True).fill(idp.issuer)
        page.get_by_role("button", name="Discover").click()
        expect(page.get_by_role("status")).to_contain_text(idp.jwks_uri)
        expect(page.get_by_label("JWKS URI")).to_have_value(idp.jwks_uri)
        page.get_by_label("Audience (comma-separated)").fill(RESOURCE)
        screenshot(page, "provider-form")
        page.get_by_role("button", name="Save provider").click()
        expect(page.get_by_role("status")).to_contain_text("Saved: corp")
        expect(page.get_by_role("row", name="corp")).to_contain_text("enabled")
        screenshot(page, "providers")

        # Test configuration: a real token; its preferred_username is no directory user, so
        # the admin clicks the e-mail claim to make it the username attribute.
        page.get_by_role("link", name="Test configuration").click()
        page.get_by_label("Access token").fill(alice)
        page.get_by_role("button", name="Check the token").click()
        expect(page.get_by_test_id("outcome")).to_have_text("rejected")
        expect(page.get_by_test_id("username")).to_have_text("alice")
        checks = page.get_by_test_id("checks")
        expect(checks).to_contain_text("passed: corp: signature verified")
        expect(checks).to_contain_text("failed:")
        assert alice not in page.content()
        screenshot(page, "test-rejected")
        page.get_by_role("button", name="Use email as the username attribute").click()
        expect(page.get_by_role("row", name="corp")).to_contain_text("email")
        page.get_by_role("link", name="Test configuration").click()
        page.get_by_label("Access token").fill(alice)
        page.get_by_role("button", name="Check the token").click()
        expect(page.get_by_test_id("outcome")).to_have_text("accepted")
        expect(page.get_by_test_id("jira-user")).to_have_text(user)
        screenshot(page, "test-accepted")
        me = api.get("/rest/api/2/myself", headers={"Authorization": f"Bearer {alice}"})
        assert me.json()["name"] == user

        # Access rules: add a rule, ask the what-would-happen box, then see a request denied.
        page.get_by_role("link", name="Access rules").click()
        page.get_by_label("Rule name").fill("no-deletes")
        page.get_by_label("Action").select_option("deny")
        page.get_by_label("DELETE", exact=True).check()
        page.get_by_label("Paths (globs, comma-separated)").fill("/rest/api/2/issue/*")
        page.get_by_role("button", name="Add rule").click()
        expect(page.get_by_role("row", name="no-deletes")).to_contain_text("deny")
        page.get_by_label("Method").select_option("DELETE")
        page.get_by_label("Path", exact=True).fill("/rest/api/2/issue/DEMO-1")
        page.get_by_label("User", exact=True).fill(user)
        page.get_by_role("button", name="Decide").click()
        expect(page.get_by_test_id("verdict")).to_contain_text("Denied")
        screenshot(page, "rules")
        denied = api.delete(
            "/rest/api/2/issue/DEMO-1", headers={"Authorization": f"Bearer {alice}"}
        )
        assert denied.status_code == 403

        # Tokens: create one for alice, use it, revoke it, see it refused.
        page.get_by_role("link", name="Tokens").click()
        page.get_by_label("User", exact=True).fill(user)
        page.get_by_label("Token name").fill("browser-bot")
        page.get_by_role("button", name="Create token").click()
        raw = page.get_by_test_id("raw-token").input_value()
        assert raw.startswith("jgp_")
        screenshot(page, "tokens-created")
        bearer = {"Authorization": f"Bearer {raw}"}
        assert api.get("/rest/api/2/myself", headers=bearer).json()["name"] == user
        page.get_by_role("link", name="Tokens").click()
        assert raw not in page.content()
        page.get_by_role("button", name=f"Revoke browser-bot of {user}").click()
        expect(page.get_by_role("status")).to_contain_text("revoked")
        expect(page.get_by_role("button", name=f"Revoke browser-bot of {user}")).to_have_count(0)
        assert api.get("/rest/api/2/myself", headers=bearer).status_code == 401

        # Audit log: the token's creation and revocation and the denied request.
        page.get_by_role("link", name="Audit log").click()
        page.get_by_label("Auto-refresh every 5 s").check()
        events = page.locator("#events")
        expect(events).to_contain_text("created personal access token", timeout=15_000)
        expect(events).to_contain_text("revoked personal access token", timeout=15_000)
        expect(events).to_contain_text("DELETE /rest/api/2/issue/DEMO-1", timeout=15_000)
        expect(events).to_contain_text("saved by root; changed: providers", timeout=15_000)
        page.get_by_label("Decision").select_option("denied")
        page.get_by_role("button", name="Filter").click()
        expect(events).to_contain_text("DELETE /rest/api/2/issue/DEMO-1")
        expect(events).not_to_contain_text("created personal access token")
        screenshot(page, "audit")

        # Users: add one with groups, make them an administrator; disable alice and see her
        # token refused at once, then enable her again.
        page.get_by_role("link", name="Users").click()
        page.get_by_label("User name", exact=True).fill("carol")
        page.get_by_label("Display name", exact=True).fill("Carol Danvers")
        page.get_by_label("Groups (comma-separated)").fill("jira-users, ops")
        page.get_by_role("button", name="Add user").click()
        expect(page.get_by_role("heading", name="User carol")).to_be_visible()
        expect(page.get_by_test_id("user-groups")).to_have_text("jira-users, ops")
        page.get_by_role("button", name="Make carol an administrator").click()
        expect(page.get_by_test_id("user-admin")).to_contain_text("yes")
        page.get_by_role("link", name="Users", exact=True).first.click()
        page.get_by_label("Find a user (name, display name or e-mail)").fill("alice")
        page.get_by_role("button", name="Find").click()
        expect(page.get_by_test_id("user-count")).to_contain_text("1 user")
        screenshot(page, "users")
        page.get_by_role("link", name=user).click()
        expect(page.get_by_test_id("user-events")).to_contain_text("/issue/DEMO-1")
        page.get_by_role("button", name=f"Disable {user}").click()
        expect(page.get_by_role("status")).to_contain_text("disabled")
        expect(page.get_by_test_id("user-state")).to_contain_text("disabled")
        screenshot(page, "user-disabled")
        refused = api.get("/rest/api/2/myself", headers={"Authorization": f"Bearer {alice}"})
        assert refused.status_code == 401
        page.get_by_role("button", name=f"Enable {user}").click()
        expect(page.get_by_test_id("user-state")).to_have_text("active")
        me = api.get("/rest/api/2/myself", headers={"Authorization": f"Bearer {alice}"})
        assert me.status_code == 200

        # Status: the last hour's decisions as a chart, in words.
        page.get_by_role("link", name="Status").click()
        chart = page.get_by_test_id("decisions-chart")
        expect(chart).to_be_visible(timeout=15_000)
        assert chart.locator("rect").count() >= 2
        legend = page.get_by_test_id("decisions-legend")
        expect(legend).to_contain_text("requests accepted")
        expect(legend).to_contain_text("refused: forbidden (403)")
        expect(legend).to_contain_text("refused: not authenticated (401)")
        expect(page.get_by_test_id("cache-chart")).to_be_visible()
        expect(page.get_by_test_id("provider-hosts")).to_contain_text("corp")
        screenshot(page, "status")

        # Every page at desktop and phone width, without sideways scrolling on the phone.
        state = context.storage_state()
        for viewport in (DESKTOP, PHONE):
            sized = browser.new_context(viewport=viewport, storage_state=state)
            view = sized.new_page()
            for name in PAGES:
                view.goto(f"{base}/admin/{name}")
                expect(view.locator("h1")).to_be_visible()
                screenshot(view, "page-" + name.replace("/", "-").replace("?preset=", "-"))
                fits = view.evaluate("document.documentElement.scrollWidth <= innerWidth + 1")
                assert fits, f"/admin/{name} scrolls sideways at {viewport['width']} px"
            sized.close()
        context.close()
