"""Fixtures for gateway mode: stand-in upstreams on loopback and gateways in front of them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Harness, HarnessFactory, jwt_provider
from tests.gateway.upstreams import ThreadServer, app
from tests.support.idp import TestProvider, free_port

SECRET = "gateway-test-shared-secret"
"""The secret gateway and upstream share in these tests."""


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """The stand-in upstream (see :mod:`tests.gateway.upstreams`), shared by a module."""
    with ThreadServer(app, free_port()) as server:
        yield server.url


async def gateway(
    harness: HarnessFactory, idp: TestProvider, url: str, **sections: dict[str, Any]
) -> Harness:
    """A gateway in front of ``url``, driven in-process; its upstream hop is real TCP."""
    upstream = {"url": url, "shared_secret": SECRET, **sections.pop("upstream", {})}
    return await harness(providers=[jwt_provider(idp)], upstream=upstream, **sections)
