"""Errors become answers in Jira's format at every layer: the router's 404 and 405, a route's
JiraError, and a bug's 500, with the request log and the metrics on or off."""

from __future__ import annotations

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.errors import not_found
from tests.conftest import BASE_URL, HarnessFactory
from tests.support.logs import Captured

pytestmark = pytest.mark.anyio

JIRA_TYPE = "application/json;charset=UTF-8"


async def _broken(request: Request) -> Response:
    raise RuntimeError("a bug with a secret in it")


async def _missing(request: Request) -> Response:
    raise not_found("No such thing")


@pytest.mark.parametrize("observed", [True, False], ids=["observed", "unobserved"])
async def test_every_layer_answers_in_jiras_format(
    harness: HarnessFactory, observed: bool, captured: Captured
) -> None:
    extra = {} if observed else {"logging": {"requests": False}, "metrics": {"enabled": False}}
    h = await harness(**extra)
    app = h.client._transport.app  # type: ignore[attr-defined]
    app.router.routes.insert(0, Route("/broken", _broken))
    app.router.routes.insert(0, Route("/missing", _missing, methods=["GET"]))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        nowhere = await client.get("/no/such/path")
        wrong_method = await client.post("/missing")
        missing = await client.get("/missing")
        broken = await client.get("/broken")
    assert nowhere.status_code == 404
    assert nowhere.json() == {
        "errorMessages": ["The requested resource does not exist."],
        "errors": {},
    }
    assert wrong_method.status_code == 405
    assert set(wrong_method.headers["allow"].split(", ")) == {"GET", "HEAD"}
    assert wrong_method.json()["errorMessages"] == ["The method is not allowed for this resource."]
    assert missing.status_code == 404
    assert missing.json() == {"errorMessages": ["No such thing"], "errors": {}}
    assert broken.status_code == 500
    assert broken.json() == {"errorMessages": ["Internal server error."], "errors": {}}
    assert "secret" not in broken.text
    for response in (nowhere, wrong_method, missing, broken):
        assert response.headers["content-type"] == JIRA_TYPE
        assert ("x-request-id" in response.headers) is observed
