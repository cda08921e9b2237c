"""A request is judged under the one configuration it arrived under.

A reconfiguration while a request is between its steps (here: waiting for its form body,
which carries the token) must not pair the old configuration's policy with the new one's
authenticator: the whole decision comes from the snapshot taken when the request arrived.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from jiraguard.app import create_app
from jiraguard.services import Services
from jiraguard.settings import validate_settings
from jiraguard.store.db import run_migrations
from tests.conftest import BASE_URL, bearer, jwt_provider
from tests.support.asgi import post_scope
from tests.support.idp import RESOURCE, TestProvider

pytestmark = pytest.mark.anyio


def _settings(idp: TestProvider, url: str, audience: str) -> Any:
    return validate_settings(
        {
            "server": {"base_url": BASE_URL},
            "storage": {"url": url},
            "providers": [jwt_provider(idp, audience=[audience])],
            "auth": {"allow_form_token": True},
        }
    )


async def test_a_reload_between_steps_does_not_mix_configurations(
    idp: TestProvider, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'jiraguard.db'}"
    run_migrations(url)
    before = _settings(idp, url, RESOURCE)  # accepts the token
    after = _settings(idp, url, "someone-else")  # refuses it: wrong audience
    services = Services.build(before)
    app = create_app(before, services)
    await services.users.add("alice", email="alice@example.com")
    token = idp.jwt_token("alice")
    asked, released = asyncio.Event(), asyncio.Event()
    body = f"access_token={token}".encode()

    async def receive() -> dict[str, Any]:
        asked.set()
        await released.wait()  # the request sits between "arrived" and "credentials read"
        return {"type": "http.request", "body": body, "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = post_scope(
        "/rest/api/2/myself",
        [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", str(len(body)).encode()),
        ],
    )
    try:
        request = asyncio.create_task(app(scope, receive, send))
        await asyncio.wait_for(asked.wait(), 10)
        services.reconfigure(after)
        released.set()
        await asyncio.wait_for(request, 10)
        start = next(m for m in sent if m["type"] == "http.response.start")
        # Authenticated under the configuration it arrived under: the route answers (POST on
        # myself is not allowed, 405), not the new configuration's 401.
        assert start["status"] == 405
        assert services.decisions.counts[(True, 200, "authenticated", "corp")] == 1

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL
        ) as client:
            later = await client.get("/rest/api/2/myself", headers=bearer(token))
        assert later.status_code == 401  # the next request is judged under the new one
    finally:
        await services.aclose()
