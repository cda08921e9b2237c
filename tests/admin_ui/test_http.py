"""The admin UI over HTTP: who gets in, CSRF on every form, headers, secrets kept out.

Drives the real app on a real SQLite database in-process; the token test page is checked
against the real test provider.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from jiraguard.auth.confirmation import jwk_thumbprint
from jiraguard.auth.ratelimit import MemoryRateLimiter
from jiraguard.store.admin_sessions import AdminSessionStore
from tests.admin_ui.support import ADMIN_PASSWORD, admin_options, csrf_of, login
from tests.conftest import Harness, HarnessFactory, jwt_provider
from tests.support.dpop import DPoPKey
from tests.support.idp import RESOURCE, TestProvider

pytestmark = pytest.mark.anyio

PAGES = ["/admin/status", "/admin/providers", "/admin/providers/new", "/admin/test",
         "/admin/rules", "/admin/tokens", "/admin/audit", "/admin/audit.csv", "/admin/config",
         "/admin/config.toml", "/admin/users", "/admin/users/detail?name=root"]  # fmt: skip
FORMS = ["/admin/tokens", "/admin/tokens/1/revoke", "/admin/test", "/admin/rules/what-if",
         "/admin/logout", "/admin/login", "/admin/status/probe", "/admin/providers/save",
         "/admin/providers/discover", "/admin/providers/corp/delete",
         "/admin/providers/corp/toggle", "/admin/providers/corp/attribute", "/admin/rules/add",
         "/admin/rules/0/move", "/admin/rules/0/delete", "/admin/rules/basic",
         "/admin/rules/limits", "/admin/config/import",
         "/admin/test/client-credentials", "/admin/users/add", "/admin/users/active",
         "/admin/users/admin", "/admin/rules/default"]  # fmt: skip


async def _app(harness: HarnessFactory, **sections: dict[str, object]) -> Harness:
    made = await harness(**sections)
    await made.add_user("root", **admin_options())
    await made.add_user("alice", **admin_options(admin=False))
    await made.add_user("grace", **admin_options(admin=False, groups=["ops-admins"]))
    return made


async def _admin_client(made: Harness) -> httpx.AsyncClient:
    response = await login(made.client, "root")
    assert response.status_code == 303, response.text
    return made.client


async def _audit_reasons(made: Harness) -> list[str]:
    assert made.services.audit is not None
    await made.services.audit.flush()
    response = await made.client.get("/admin/audit.csv")
    return response.text.splitlines()


@pytest.mark.parametrize("path", PAGES)
async def test_pages_send_anonymous_visitors_to_the_login_page(
    harness: HarnessFactory, path: str
) -> None:
    made = await _app(harness)
    response = await made.client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/login?next=%2Fadmin%2F")


async def test_login_sets_a_strict_httponly_session_cookie_and_pages_are_locked_down(
    harness: HarnessFactory,
) -> None:
    made = await _app(harness)
    response = await login(made.client, "root")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin"
    cookie = response.headers["set-cookie"]
    assert "jiraguard_admin=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/admin" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test below
    await made.client.get("/rest/api/2/myself", headers={"Authorization": "Bearer nope"})
    page = await made.client.get("/admin/status")
    assert page.status_code == 200
    assert "Readiness" in page.text
    assert "1 request refused: not authenticated (401)" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_the_session_cookie_is_secure_when_the_public_url_is_https(
    harness: HarnessFactory,
) -> None:
    made = await _app(harness, server={"base_url": "https://jira.example.com"})
    transport = made.client._transport
    async with httpx.AsyncClient(transport=transport, base_url="https://jira.example.com") as tls:
        response = await login(tls, "root")
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]
    # Over plain http the Secure cookies are not sent back, so the login form cannot be posted.
    assert (await login(made.client, "root")).status_code == 403


async def test_only_a_hash_of_the_session_id_is_stored(harness: HarnessFactory) -> None:
    made = await _app(harness)
    response = await login(made.client, "root")
    session_id = response.cookies["jiraguard_admin"]
    async with made.services.db.session() as session:
        from sqlalchemy import text

        stored = (await session.execute(text("SELECT id_hash FROM admin_sessions"))).scalars()
        assert session_id not in list(stored)


async def test_a_wrong_password_is_refused_and_audited(harness: HarnessFactory) -> None:
    made = await _app(harness)
    response = await login(made.client, "root", "not the password")
    assert response.status_code == 401
    assert "jiraguard_admin" not in response.cookies
    assert (await made.client.get("/admin/status")).status_code == 303
    await _admin_client(made)
    lines = await _audit_reasons(made)
    assert any("admin login failed" in line and ",root," in line for line in lines)
    assert not any(ADMIN_PASSWORD in line or "not the password" in line for line in lines)


async def test_a_user_who_is_no_administrator_cannot_log_in(harness: HarnessFactory) -> None:
    made = await _app(harness)
    response = await login(made.client, "alice")
    assert response.status_code == 403
    assert "jiraguard_admin" not in response.cookies


async def test_members_of_a_configured_admin_group_may_log_in(harness: HarnessFactory) -> None:
    made = await _app(harness, admin={"groups": ["ops-admins"]})
    assert (await login(made.client, "grace")).status_code == 303
    assert (await made.client.get("/admin/tokens")).status_code == 200


@pytest.mark.parametrize("path", PAGES)
async def test_a_session_of_a_non_admin_gets_403(harness: HarnessFactory, path: str) -> None:
    made = await _app(harness)
    # A session whose user is not an administrator (e.g. the admin flag was taken away).
    new = await AdminSessionStore(made.services.db).create("alice", "password", timedelta(hours=1))
    made.client.cookies.set("jiraguard_admin", new.session_id, path="/admin")
    response = await made.client.get(path)
    assert response.status_code == 403
    assert "not an administrator" in response.text


@pytest.mark.parametrize("path", FORMS)
@pytest.mark.parametrize("token", [None, "forged"])
async def test_forms_without_the_right_csrf_token_are_rejected(
    harness: HarnessFactory, path: str, token: str | None
) -> None:
    made = await _app(harness)
    client = await _admin_client(made)
    # Fields that would make each form succeed, but for the CSRF token.
    data = {"owner": "root", "name": "x", "token": "abc", "path": "/rest/", "method": "GET",
            "username": "root", "password": ADMIN_PASSWORD, "action": "deny",
            "toml": '[rate_limits]\nper_user = "1/second"\n', "per_user": "1/second",
            "block_basic": "on", "default_policy": "deny"}  # fmt: skip
    if token is not None:
        data["_csrf"] = token
    response = await client.post(path, data=data)
    assert response.status_code == 403
    assert (await made.services.tokens.list(None)) == []
    assert await made.services.config.overlay() == {}
    assert [(u.name, u.active, u.admin) for u in await made.services.users.list()] == [
        ("alice", True, False),
        ("grace", True, False),
        ("root", True, True),
    ]
    assert (await client.get("/admin/status")).status_code == 200  # still logged in


async def test_logout_ends_the_session_everywhere(harness: HarnessFactory) -> None:
    made = await _app(harness)
    client = await _admin_client(made)
    session_id = client.cookies["jiraguard_admin"]
    page = await client.get("/admin/status")
    response = await client.post("/admin/logout", data={"_csrf": csrf_of(page.text)})
    assert response.status_code == 303
    # The old cookie is worthless even if a copy of it survived.
    other = httpx.AsyncClient(transport=made.client._transport, base_url=str(made.client.base_url))
    other.cookies.set("jiraguard_admin", session_id, path="/admin")
    async with other:
        assert (await other.get("/admin/status")).status_code == 303


async def test_open_redirects_after_login_are_refused(harness: HarnessFactory) -> None:
    made = await _app(harness)
    form = await made.client.get("/admin/login")
    response = await made.client.post(
        "/admin/login",
        data={
            "_csrf": csrf_of(form.text),
            "username": "root",
            "password": ADMIN_PASSWORD,
            "next": "//evil.example/admin/",
        },
    )
    assert response.headers["location"] == "/admin"


async def test_tokens_are_created_shown_once_and_revoked(harness: HarnessFactory) -> None:
    made = await _app(harness)
    client = await _admin_client(made)
    page = await client.get("/admin/tokens")
    created = await client.post(
        "/admin/tokens", data={"_csrf": csrf_of(page.text), "owner": "alice", "name": "ci-bot"}
    )
    assert created.status_code == 201
    raw = next(t for t in created.text.split('"') if t.startswith("jgp_"))
    assert (
        await client.get("/rest/api/2/myself", headers={"Authorization": f"Bearer {raw}"})
    ).json()["name"] == "alice"
    listing = await client.get("/admin/tokens")
    assert "ci-bot" in listing.text
    assert raw not in listing.text
    (record,) = await made.services.tokens.list(None)
    revoked = await client.post(
        f"/admin/tokens/{record.id}/revoke", data={"_csrf": csrf_of(listing.text)}
    )
    assert revoked.status_code == 303
    assert await made.services.tokens.list(None) == []
    again = await client.get("/rest/api/2/myself", headers={"Authorization": f"Bearer {raw}"})
    assert again.status_code == 401
    lines = await _audit_reasons(made)
    assert any("created personal access token" in line and "by root" in line for line in lines)
    assert any("revoked personal access token" in line for line in lines)


@pytest.mark.parametrize("value", ["x" * 5000, "-1", "1e9", "0x10", "99999999999"])
async def test_bad_ids_and_lifetimes_never_cause_a_500(harness: HarnessFactory, value: str) -> None:
    made = await _app(harness)
    client = await _admin_client(made)
    csrf = csrf_of((await client.get("/admin/tokens")).text)
    created = await client.post(
        "/admin/tokens", data={"_csrf": csrf, "owner": "alice", "name": "n", "days": value}
    )
    assert created.status_code == 400
    revoked = await client.post(f"/admin/tokens/{value}/revoke", data={"_csrf": csrf})
    assert revoked.status_code == 404
    assert (await client.get(f"/admin/audit?startAt={value}&from={value}")).status_code in (
        200,
        400,
    )


async def test_the_what_if_box_asks_the_policy_in_force(harness: HarnessFactory) -> None:
    made = await _app(
        harness,
        rules=[
            {
                "name": "no-deletes",
                "methods": ["DELETE"],
                "paths": ["/rest/api/2/issue/*"],
                "action": "deny",
            }
        ],
    )
    client = await _admin_client(made)
    csrf = csrf_of((await client.get("/admin/rules")).text)
    denied = await client.post(
        "/admin/rules/what-if",
        data={"_csrf": csrf, "method": "DELETE", "path": "/rest/api/2/issue/X-1", "user": "alice"},
    )
    assert "Denied" in denied.text
    assert "403" in denied.text
    assert "(rule &#39;no-deletes&#39; denies it)" in denied.text
    allowed = await client.post(
        "/admin/rules/what-if",
        data={"_csrf": csrf, "method": "GET", "path": "/rest/api/2/issue/X-1", "user": "alice"},
    )
    assert "Allowed" in allowed.text
    unknown = await client.post(
        "/admin/rules/what-if",
        data={"_csrf": csrf, "method": "GET", "path": "/rest/api/2/myself", "user": "nobody"},
    )
    assert "no such user" in unknown.text


async def test_the_test_page_explains_a_real_token_without_echoing_it(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    made = await _app(harness, providers=[jwt_provider(idp)])
    client = await _admin_client(made)
    token = idp.jwt_token("alice")
    csrf = csrf_of((await client.get("/admin/test")).text)
    response = await client.post("/admin/test", data={"_csrf": csrf, "token": token})
    assert response.status_code == 200
    assert token not in response.text
    assert 'data-testid="outcome">accepted<' in response.text
    assert 'data-testid="jira-user">alice<' in response.text
    assert "preferred_username" in response.text
    assert '"RS256"' in response.text  # the decoded JWT header
    assert "signature verified with its keys (alg RS256" in response.text
    assert "username attribute preferred_username holds &#39;alice&#39;" in response.text
    assert "maps to the Jira user alice" in response.text
    assert "✗" not in response.text
    garbage = await client.post("/admin/test", data={"_csrf": csrf, "token": "a.b.c"})
    assert garbage.status_code == 200
    assert "rejected" in garbage.text
    assert "✗" in garbage.text


async def test_no_secret_is_rendered_into_the_providers_page(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    secret = "s3cr3t-client-secret-value"
    made = await _app(
        harness,
        providers=[
            {
                "name": "opaque",
                "method": "introspection",
                "issuer": idp.issuer,
                "client_id": "jiraguard",
                "client_secret": secret,
            }
        ],
    )
    client = await _admin_client(made)
    page = await client.get("/admin/providers")
    assert page.status_code == 200
    assert "opaque" in page.text
    assert secret not in page.text
    for path in PAGES:
        assert "argon2" not in (await client.get(path)).text


async def test_audit_csv_export_quotes_formula_cells(harness: HarnessFactory) -> None:
    made = await _app(harness)
    client = await _admin_client(made)
    await client.get("/rest/api/2/=cmd|calc", headers={"Authorization": "Bearer nope"})
    lines = await _audit_reasons(made)
    assert lines[0].startswith("at,kind,allowed,status")
    assert all(",=" not in line for line in lines)


async def test_the_gateway_catch_all_does_not_swallow_the_admin_ui(
    harness: HarnessFactory,
) -> None:
    made = await _app(
        harness,
        upstream={"url": "http://127.0.0.1:9", "shared_secret": "x" * 32},
    )
    response = await made.client.get("/admin/login")
    assert response.status_code == 200
    assert "Log in to jiraguard" in response.text


async def test_the_admin_ui_can_be_switched_off(harness: HarnessFactory) -> None:
    made = await _app(harness, admin={"enabled": False})
    assert (await made.client.get("/admin/login")).status_code == 404


async def test_a_client_credentials_token_is_fetched_and_explained_without_being_shown(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    opaque = {"name": "opaque", "method": "introspection", "issuer": idp.issuer,
              "client_id": "jiraguard", "client_secret": "jiraguard-secret",
              "client_users": {"jiraguard": "svc-sync"}}  # fmt: skip
    made = await _app(harness, providers=[opaque, jwt_provider(idp)])
    await made.add_user("svc-sync")
    client = await _admin_client(made)
    page = await client.get("/admin/test")
    assert 'name="provider"' in page.text
    assert "<option>corp</option>" not in page.text  # no client secret: nothing to fetch with
    csrf = csrf_of(page.text)
    response = await client.post(
        "/admin/test/client-credentials", data={"_csrf": csrf, "provider": "opaque"}
    )
    assert response.status_code == 200
    assert 'data-testid="outcome">accepted<' in response.text
    assert 'data-testid="jira-user">svc-sync<' in response.text
    assert "a client-credentials token from opaque" in response.text
    refused = await client.post(
        "/admin/test/client-credentials", data={"_csrf": csrf, "provider": "corp"}
    )
    assert refused.status_code == 400


async def test_the_status_page_probes_providers_only_when_asked(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    down = {"name": "gone", "method": "userinfo", "userinfo_endpoint": "http://127.0.0.1:9/me"}
    made = await _app(harness, providers=[jwt_provider(idp), down])
    client = await _admin_client(made)
    idp.reset_stats()
    page = await client.get("/admin/status")
    assert "provider:corp" in page.text
    assert idp.stats() == {}  # showing the page asks no provider
    probed = await client.post("/admin/status/probe", data={"_csrf": csrf_of(page.text)})
    assert probed.status_code == 200
    assert "HTTP 200 in" in probed.text
    assert "could not be reached" in probed.text
    assert idp.stats() == {"/.well-known/openid-configuration": 1}


async def test_a_session_started_in_one_process_is_honoured_by_another(
    harness: HarnessFactory, sqlite_url: str
) -> None:
    one = await _app(harness)
    two = await harness(url=sqlite_url)  # a second process on the same database
    await login(one.client, "root")
    two.client.cookies.set("jiraguard_admin", one.client.cookies["jiraguard_admin"], "jira.test")
    page = await two.client.get("/admin/tokens")
    assert page.status_code == 200
    assert ">root<" in page.text


@pytest.mark.parametrize(
    ("method", "path", "headers", "body"),
    [
        ("POST", "/admin/tokens", {"content-type": "multipart/form-data; boundary=x"}, b"--y\r\n"),
        ("POST", "/admin/test", {"content-type": "multipart/form-data"}, b"garbage"),
        (
            "POST",
            "/admin/rules/what-if",
            {"content-type": "application/x-www-form-urlencoded"},
            b"_csrf=%ZZ&method=%FF%FE&path=%00",
        ),
        ("POST", "/admin/config/import", {"content-type": "application/json"}, b"{}"),
        (
            "POST",
            "/admin/tokens",
            {"content-type": "application/x-www-form-urlencoded"},
            b"a=1&" * 5000,
        ),
        ("GET", "/admin/providers/%00%FF/edit", {}, b""),
        ("GET", "/admin/audit?from=yesterday&startAt=-1&kind=%00", {}, b""),
        ("GET", "/admin/providers/new?preset=%E2%80%AE", {}, b""),
        ("POST", "/admin/rules/99999999999999/move", {}, b""),
        ("GET", "/admin/login/callback?state=%FF&code=x", {}, b""),
        ("GET", "/admin/static/../../settings/sections.py", {}, b""),
    ],
)
async def test_hostile_requests_never_cause_a_500(
    harness: HarnessFactory, method: str, path: str, headers: dict[str, str], body: bytes
) -> None:
    made = await _app(harness)
    client = await _admin_client(made)
    response = await client.request(method, path, headers=headers, content=body)
    assert 400 <= response.status_code < 500, response.text[:300]
    assert "Traceback" not in response.text


async def test_password_guessing_is_slowed_down(harness: HarnessFactory) -> None:
    made = await _app(harness)
    limiter = made.services.limiter
    assert isinstance(limiter, MemoryRateLimiter)
    limiter.clock = lambda: 1000.0  # the bucket refills one guess per 6 s: not during the test
    answers = [(await login(made.client, "root", f"guess {n}")).status_code for n in range(11)]
    assert answers == [401] * 10 + [429]
    # The right password does not get through either until the minute is over.
    assert (await login(made.client, "root")).status_code == 429


async def test_the_test_page_explains_a_bound_token(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    """The binding kind, its thumbprint and what a request must carry."""
    made = await _app(harness, providers=[jwt_provider(idp, dpop="allowed")])
    client = await _admin_client(made)
    key = DPoPKey()
    token = idp.user_token("alice", scope="openid jira:read", resource=RESOURCE, dpop=key)
    csrf = csrf_of((await client.get("/admin/test")).text)
    response = await client.post("/admin/test", data={"_csrf": csrf, "token": token})
    assert response.status_code == 200
    assert 'data-testid="binding-kind">DPoP (RFC 9449)<' in response.text
    assert f'data-testid="binding-thumbprint">{jwk_thumbprint(key.jwk)}<' in response.text
    assert "Authorization: DPoP" in response.text
    plain = await client.post("/admin/test", data={"_csrf": csrf, "token": idp.jwt_token("alice")})
    assert "binding-kind" not in plain.text


async def test_the_default_policy_is_its_own_form_not_part_of_basic_auth(
    harness: HarnessFactory,
) -> None:
    made = await _app(harness)
    client = await _admin_client(made)
    page = await client.get("/admin/rules")
    basic = page.text.split('action="/admin/rules/basic"', 1)[1].split("</form>", 1)[0]
    assert "default_policy" not in basic
    assert 'action="/admin/rules/default"' in page.text
    csrf = csrf_of(page.text)
    saved = await client.post(
        "/admin/rules/default", data={"_csrf": csrf, "default_policy": "deny"}
    )
    assert saved.status_code == 303
    assert made.services.settings.auth.default_policy == "deny"
    # Saving the Basic settings leaves the default alone.
    await client.post("/admin/rules/basic", data={"_csrf": csrf, "block_basic": "on"})
    assert made.services.settings.auth.default_policy == "deny"
    refused = await client.post("/admin/rules/default", data={"_csrf": csrf, "default_policy": "x"})
    assert refused.status_code == 400


async def test_pages_have_a_favicon(harness: HarnessFactory) -> None:
    made = await _app(harness)
    login_page = await made.client.get("/admin/login")
    assert '<link rel="icon" href="/admin/static/favicon.svg"' in login_page.text
    icon = await made.client.get("/admin/static/favicon.svg")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
