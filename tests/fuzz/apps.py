"""What the fuzz properties that drive the app share: one app per property, reused by every
example (building one per example would cost most of the run), and a call that must answer
below 500 within the time bound."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.conftest import Harness, HarnessFactory
from tests.fuzz.support import bounded

App = tuple[Harness, dict[str, str]]
"""The app and the headers its examples send."""


def shared_app(
    build: Callable[[HarnessFactory], Awaitable[App]],
) -> Callable[[HarnessFactory], Awaitable[App]]:
    """``build`` run once per test (per ``harness`` fixture), its app reused by every example."""
    kept: list[tuple[HarnessFactory, App]] = []

    async def get(harness: HarnessFactory) -> App:
        if not kept or kept[0][0] is not harness:
            kept[:] = [(harness, await build(harness))]
        return kept[0][1]

    return get


async def answered(h: Harness, method: str, path: str, **kw: Any) -> httpx.Response:
    """The app's answer, asserted below 500 and within ``support.MAX_SECONDS``."""
    with bounded((method, path[:200])):
        response = await h.client.request(method, path, **kw)
    assert response.status_code < 500, (method, path[:200], response.text[:500])
    return response
