"""Providers and rules changed from the admin UI: validated like the file, in force at once,
audited, secrets write-only. Against the real test provider and a real database."""

from __future__ import annotations

import httpx
import pytest

from tests.admin_ui.support import admin_options, csrf_of, login
from tests.conftest import Harness, HarnessFactory, bearer, jwt_provider
from tests.support.idp import RESOURCE, TestProvider

pytestmark = pytest.mark.anyio


async def _admin(harness: HarnessFactory, **sections: object) -> tuple[Harness, httpx.AsyncClient]:
    made = await harness(**sections)
    await made.add_user("root", **admin_options())
    await made.add_user("alice")
    assert (await login(made.client, "root")).status_code == 303
    return made, made.client


async def _csrf(client: httpx.AsyncClient, path: str = "/admin/providers") -> str:
    return csrf_of((await client.get(path)).text)


async def test_a_provider_added_from_a_preset_with_discovery_accepts_tokens_at_once(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    made, client = await _admin(harness)
    token = idp.jwt_token("alice")
    assert (await client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 401
    form = await client.get("/admin/providers/new?preset=custom")
    assert form.status_code == 200
    fields = {"_csrf": csrf_of(form.text), "preset": "custom", "original": "", "name": "corp",
              "method": "jwt", "issuer": idp.issuer, "audience": RESOURCE, "enabled": "on",
              "jwks_uri": "", "userinfo_endpoint": "", "introspection_endpoint": ""}  # fmt: skip
    found = await client.post("/admin/providers/discover", data=fields)
    assert found.status_code == 200
    assert "Discovered" in found.text
    assert idp.jwks_uri in found.text
    assert (await client.post("/admin/providers/save", data=fields)).status_code == 303
    assert [p.name for p in made.services.settings.providers] == ["corp"]
    assert (await client.get("/rest/api/2/myself", headers=bearer(token))).json()["name"] == "alice"
    overlay = await made.services.config.overlay()
    assert overlay["providers"][0]["issuer"] == idp.issuer


async def test_a_preset_asks_for_its_parameters_and_says_which_is_missing(
    harness: HarnessFactory,
) -> None:
    made, client = await _admin(harness)
    form = await client.get("/admin/providers/new?preset=keycloak")
    assert 'name="realm"' in form.text
    assert 'name="base_url"' in form.text
    assert 'name="tenant"' not in form.text
    saved = await client.post(
        "/admin/providers/save",
        data={
            "_csrf": csrf_of(form.text),
            "preset": "keycloak",
            "name": "kc",
            "base_url": "https://sso.example.com",
            "audience": "jira",
        },
    )
    assert saved.status_code == 400
    assert "needs realm" in saved.text
    assert made.services.settings.providers == []
    assert await made.services.config.overlay() == {}
    assert (await client.get("/admin/providers/new?preset=nope")).status_code == 404


async def test_client_secrets_are_write_only(harness: HarnessFactory, idp: TestProvider) -> None:
    secret = "jiraguard-secret"  # the test provider's secret for this client
    provider = {"name": "opaque", "method": "introspection", "issuer": idp.issuer,
                "client_id": "jiraguard", "client_secret": secret}  # fmt: skip
    made, client = await _admin(harness, providers=[provider])
    form = await client.get("/admin/providers/opaque/edit")
    assert secret not in form.text
    assert "set — leave empty to keep it" in form.text
    data = {"_csrf": csrf_of(form.text), "original": "opaque", "preset": "custom",
            "name": "opaque", "method": "introspection", "issuer": idp.issuer,
            "client_id": "jiraguard", "client_secret": "", "enabled": "on"}  # fmt: skip
    assert (await client.post("/admin/providers/save", data=data)).status_code == 303
    (saved,) = made.services.settings.providers
    assert saved.client_secret is not None
    assert saved.client_secret.get_secret_value() == secret
    opaque = idp.user_token("alice")
    assert (await client.get("/rest/api/2/myself", headers=bearer(opaque))).status_code == 200


async def test_a_field_of_a_real_token_becomes_the_username_attribute(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    made, client = await _admin(harness, providers=[jwt_provider(idp)])
    await made.add_user("alice@example.com")
    csrf = await _csrf(client, "/admin/test")
    report = await client.post("/admin/test", data={"_csrf": csrf, "token": idp.jwt_token("alice")})
    assert 'aria-label="Use email as the username attribute"' in report.text
    picked = await client.post(
        "/admin/providers/corp/attribute",
        data={"_csrf": csrf, "path": "email", "attribute": "username"},
    )
    assert picked.status_code == 303
    assert made.services.settings.providers[0].username_attribute == ["email"]
    me = await client.get("/rest/api/2/myself", headers=bearer(idp.jwt_token("alice")))
    assert me.json()["name"] == "alice@example.com"
    assert made.services.audit is not None
    await made.services.audit.flush()
    audit = await client.get("/admin/audit.csv?kind=config")
    assert "saved by root; changed: providers" in audit.text


async def test_rules_are_added_moved_and_deleted_and_apply_at_once(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    made, client = await _admin(harness, providers=[jwt_provider(idp)])
    token = idp.jwt_token("alice")
    csrf = await _csrf(client, "/admin/rules")
    added = await client.post(
        "/admin/rules/add",
        data={
            "_csrf": csrf,
            "name": "no-myself",
            "methods": "GET",
            "paths": "/rest/api/2/myself",
            "action": "deny",
        },
    )
    assert added.status_code == 303
    assert (await client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 403
    await client.post(
        "/admin/rules/add",
        data={
            "_csrf": csrf,
            "name": "open",
            "paths": "/rest/api/2/*",
            "action": "allow",
            "position": "first",
        },
    )
    assert [r.name for r in made.services.settings.rules] == ["open", "no-myself"]
    assert (await client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200
    moved = await client.post(
        "/admin/rules/0/move", data={"_csrf": csrf, "name": "open", "direction": "down"}
    )
    assert moved.status_code == 303
    assert [r.name for r in made.services.settings.rules] == ["no-myself", "open"]
    stale = await client.post("/admin/rules/0/delete", data={"_csrf": csrf, "name": "open"})
    assert stale.status_code == 409
    await client.post("/admin/rules/0/delete", data={"_csrf": csrf, "name": "no-myself"})
    assert [r.name for r in made.services.settings.rules] == ["open"]
    assert (await client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200


async def test_invalid_changes_are_refused_with_every_problem_and_nothing_saved(
    harness: HarnessFactory,
) -> None:
    made, client = await _admin(harness)
    csrf = await _csrf(client, "/admin/rules")
    limits = await client.post(
        "/admin/rules/limits", data={"_csrf": csrf, "per_user": "lots", "per_token": "5/fortnight"}
    )
    assert limits.status_code == 400
    assert "rate_limits.per_user" in limits.text
    assert "rate_limits.per_token" in limits.text
    rule = await client.post(
        "/admin/rules/add",
        data={"_csrf": csrf, "name": "x", "action": "public", "groups": "a", "methods": "BREW"},
    )
    assert rule.status_code == 400
    basic = await client.post(
        "/admin/rules/basic", data={"_csrf": csrf, "networks": "not-a-network"}
    )
    assert basic.status_code == 400
    assert await made.services.config.overlay() == {}
    assert made.services.settings.rules == []


async def test_basic_blocking_and_its_exceptions_change_without_a_restart(
    harness: HarnessFactory,
) -> None:
    made, client = await _admin(harness)
    basic = httpx.BasicAuth("root", "correct horse battery staple")
    assert (await client.get("/rest/api/2/myself", auth=basic)).status_code == 401
    csrf = await _csrf(client, "/admin/rules")
    saved = await client.post(
        "/admin/rules/basic",
        data={"_csrf": csrf, "block_basic": "on", "users": "root", "default_policy": "allow"},
    )
    assert saved.status_code == 303
    assert made.services.settings.auth.basic_exceptions.users == ["root"]
    assert (await client.get("/rest/api/2/myself", auth=basic)).status_code == 200


async def test_providers_are_disabled_enabled_and_deleted(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    made, client = await _admin(harness, providers=[jwt_provider(idp)])
    token = idp.jwt_token("alice")
    csrf = await _csrf(client)
    await client.post("/admin/providers/corp/toggle", data={"_csrf": csrf})
    assert made.services.settings.providers[0].enabled is False
    assert (await client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 401
    await client.post("/admin/providers/corp/toggle", data={"_csrf": csrf})
    assert (await client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200
    await client.post("/admin/providers/corp/delete", data={"_csrf": csrf})
    assert made.services.settings.providers == []
    missing = await client.post("/admin/providers/corp/delete", data={"_csrf": csrf})
    assert missing.status_code == 404
