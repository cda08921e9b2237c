"""The providers pages over HTTP: where each value in force comes from (file, admin UI,
environment, preset, default), preset forms that ask for their preset's parameters only, and
a failed discovery that is not mistaken for a failed save. The real app, a real database."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from jiraguard.app import create_app
from jiraguard.config_store import compose
from jiraguard.presets import PARAMETERS
from jiraguard.services import ConfigSource, Services
from tests.admin_ui.support import admin_options, csrf_of, login
from tests.conftest import BASE_URL

pytestmark = pytest.mark.anyio

SECRET_VARIABLE = "JIRAGUARD_PROVIDERS__NODE_INTRO__CLIENT_SECRET"
Started = Callable[[dict[str, Any], dict[str, str]], Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def started(sqlite_url: str) -> AsyncIterator[Started]:
    """``await started(file_data, environ)``: the app composed from those sources, logged in."""
    opened: list[tuple[Services, httpx.AsyncClient]] = []

    async def start(file_data: dict[str, Any], environ: dict[str, str]) -> httpx.AsyncClient:
        data = {"server": {"base_url": BASE_URL}, "storage": {"url": sqlite_url}, **file_data}
        settings = compose(data, {}, environ)
        services = Services.build(settings, ConfigSource(data, environ))
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(settings, services)), base_url=BASE_URL
        )
        opened.append((services, client))
        await services.users.add("root", **admin_options())
        assert (await login(client, "root")).status_code == 303
        return client

    yield start
    for services, client in opened:
        await client.aclose()
        await services.aclose()


def _origin(html: str, key: str) -> str:
    found = re.search(rf'data-origin="{key}">(.*?)</span>', html, re.S)
    assert found is not None, f"no origin for {key}"
    return re.sub(r"<[^>]+>", "", found.group(0)).strip()


PROVIDER = {"name": "node-intro", "method": "introspection", "issuer": "https://idp.example.com",
            "introspection_endpoint": "https://idp.example.com/introspect",
            "client_id": "jiraguard"}  # fmt: skip


async def test_each_value_says_whether_the_file_the_ui_or_the_environment_set_it(
    started: Started,
) -> None:
    client = await started({"providers": [PROVIDER]}, {SECRET_VARIABLE: "from-the-env"})
    listing = await client.get("/admin/providers")
    assert "from the configuration file; client_secret from the environment" in listing.text
    assert "from-the-env" not in listing.text
    form = await client.get("/admin/providers/node-intro/edit")
    assert "In force: from the configuration file." in _origin(form.text, "issuer")
    secret = _origin(form.text, "client_secret")
    assert f"set by the environment ({SECRET_VARIABLE})" in secret
    assert "In force: the default." in _origin(form.text, "username_attribute")
    assert "from-the-env" not in form.text
    fields = {"_csrf": csrf_of(form.text), "original": "node-intro", "preset": "custom",
              "name": "node-intro", "method": "introspection", "enabled": "on",
              "issuer": PROVIDER["issuer"], "client_id": "jiraguard", "audience": "",
              "introspection_endpoint": PROVIDER["introspection_endpoint"],
              "username_attribute": "email"}  # fmt: skip
    saved = await client.post("/admin/providers/save", data=fields)
    assert saved.status_code == 303
    listing = await client.get("/admin/providers")
    assert "saved from the admin UI; client_secret from the environment" in listing.text
    form = await client.get("/admin/providers/node-intro/edit")
    assert "In force: saved from the admin UI." in _origin(form.text, "username_attribute")
    assert "the environment" in _origin(form.text, "client_secret")


async def test_values_a_preset_filled_say_so(started: Started) -> None:
    keycloak = {"name": "kc", "preset": "keycloak", "base_url": "https://sso.example.com",
                "realm": "corp", "audience": ["jira"]}  # fmt: skip
    client = await started({"providers": [keycloak]}, {})
    form = await client.get("/admin/providers/kc/edit")
    assert "In force: filled by the preset." in _origin(form.text, "jwks_uri")
    assert "In force: from the configuration file." in _origin(form.text, "realm")


@pytest.mark.parametrize("preset", sorted(PARAMETERS))
async def test_a_preset_form_asks_for_that_presets_parameters_only(
    started: Started, preset: str
) -> None:
    client = await started({}, {})
    form = await client.get(f"/admin/providers/new?preset={preset}")
    assert form.status_code == 200
    asked = set(re.findall(r'<input id="([a-z_]+)" name="\1"', form.text))
    others = {p for params in PARAMETERS.values() for p in params} - set(PARAMETERS[preset])
    assert set(PARAMETERS[preset]) <= asked
    assert not asked & others
    if preset == "custom":
        assert "<details" not in form.text  # a custom provider needs every endpoint
    else:
        # What the preset fills is folded away, closed until something there is set.
        folded = form.text.split('<details class="preset-fills">', 1)[1].split("</details>")[0]
        assert 'name="issuer"' in folded
        assert 'name="jwks_uri"' in folded
        assert 'name="audience"' not in folded


async def test_a_failed_discovery_is_not_headed_not_saved(started: Started) -> None:
    client = await started({}, {})
    form = await client.get("/admin/providers/new?preset=custom")
    found = await client.post(
        "/admin/providers/discover",
        data={
            "_csrf": csrf_of(form.text),
            "preset": "custom",
            "name": "x",
            "issuer": "http://127.0.0.1:9",
        },
    )
    assert found.status_code == 400
    assert "Nothing was discovered" in found.text
    assert "Not saved" not in found.text
