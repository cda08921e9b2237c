"""Configuration as code: export the managed sections to TOML and import them back."""

from __future__ import annotations

import tomllib

import pytest

from tests.admin_ui.support import admin_options, csrf_of, login
from tests.conftest import HarnessFactory, bearer, jwt_provider
from tests.support.idp import TestProvider

pytestmark = pytest.mark.anyio

SECRET = "jiraguard-secret"  # the test provider's secret for the introspection client


async def test_an_export_leaves_secrets_out_and_imports_back_unchanged(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    opaque = {"name": "opaque", "method": "introspection", "issuer": idp.issuer,
              "client_id": "jiraguard", "client_secret": SECRET}  # fmt: skip
    made = await harness(
        [jwt_provider(idp), opaque],
        rules=[{"name": "no-deletes", "methods": ["DELETE"], "action": "deny"}],
        rate_limits={"per_user": "100/minute"},
    )
    await made.add_user("root", **admin_options())
    await made.add_user("alice")
    client = made.client
    await login(client, "root")
    exported = await client.get("/admin/config.toml")
    assert exported.status_code == 200
    assert SECRET not in exported.text
    assert "# providers.opaque.client_secret is set" in exported.text
    data = tomllib.loads(exported.text)
    assert set(data) == {"providers", "auth", "rules", "rate_limits"}
    assert [p["name"] for p in data["providers"]] == ["corp", "opaque"]
    assert data["rate_limits"]["per_user"] == "100/minute"

    csrf = csrf_of((await client.get("/admin/config")).text)
    edited = exported.text.replace('per_user = "100/minute"', 'per_user = "7/minute"')
    imported = await client.post("/admin/config/import", data={"_csrf": csrf, "toml": edited})
    assert imported.status_code == 303
    settings = made.services.settings
    assert settings.rate_limits.per_user == "7/minute"
    assert [r.name for r in settings.rules] == ["no-deletes"]
    secret = settings.providers[1].client_secret
    assert secret is not None
    assert secret.get_secret_value() == SECRET  # kept, though the file left it out
    token = idp.user_token("alice")  # opaque: checked by introspection with the kept secret
    assert (await client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ("[rate_limits\n", "TOML:"),
        ("[server]\nport = 1\n", "server: cannot be imported"),
        ('[rate_limits]\nper_user = "often"\n', "rate_limits.per_user"),
        ("[auth]\nblock_basic = 1979-05-27\n", "dates and times"),
        ('[[rules]]\naction = "allow"\n', "rules[0].name: Field required"),
    ],
)
async def test_an_invalid_import_saves_nothing_and_says_why(
    harness: HarnessFactory, toml: str, problem: str
) -> None:
    made = await harness()
    await made.add_user("root", **admin_options())
    await login(made.client, "root")
    csrf = csrf_of((await made.client.get("/admin/config")).text)
    response = await made.client.post("/admin/config/import", data={"_csrf": csrf, "toml": toml})
    assert response.status_code == 400
    assert problem in response.text
    assert await made.services.config.overlay() == {}
