"""Calls to identity providers, and the one place their failures become our errors.

Every call goes through the shared :class:`httpx.AsyncClient` (pooled, with timeouts on
connect, read, write and pool) and reads at most :data:`MAX_RESPONSE_BYTES`. Transport
failures, time-outs, oversized or non-JSON answers become :class:`ProviderUnavailable`: the
provider could not tell us, so nobody is told their token is bad.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from jiraguard.auth.errors import ProviderUnavailable
from jiraguard.settings import AuthSettings, ProviderSettings, safe_url
from jiraguard.untrusted import load_json

MAX_RESPONSE_BYTES = 1024 * 1024


def make_client(timeout: float, ca_bundle: Path | None = None) -> httpx.AsyncClient:
    """A client for provider calls: pooled, timeouts everywhere, no redirects; it trusts the
    CA certificates in ``ca_bundle`` instead of the system's when given one."""
    verify: ssl.SSLContext | bool = True
    if ca_bundle is not None:
        verify = ssl.create_default_context(cafile=str(ca_bundle))
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        follow_redirects=False,
        headers={"Accept": "application/json", "User-Agent": "jiraguard"},
        verify=verify,
    )


class ProviderClients:
    """The clients provider calls go through: one per CA bundle in use (the system's,
    ``auth.ca_bundle``, a provider's own ``ca_bundle``), each made once and shared."""

    def __init__(
        self, timeout: float, on_new: Callable[[httpx.AsyncClient], None] | None = None
    ) -> None:
        """``on_new`` is called with every client made (to attach telemetry hooks)."""
        self.timeout = timeout
        self.on_new = on_new
        self._clients: dict[Path | None, httpx.AsyncClient] = {}
        self.default = self.trusting(None)
        """The client trusting the system's CA certificates."""

    def trusting(self, ca_bundle: Path | None) -> httpx.AsyncClient:
        """The client that trusts ``ca_bundle`` (None: the system's certificates)."""
        client = self._clients.get(ca_bundle)
        if client is None:
            client = self._clients[ca_bundle] = make_client(self.timeout, ca_bundle)
            if self.on_new is not None:
                self.on_new(client)
        return client

    def for_provider(self, provider: ProviderSettings, auth: AuthSettings) -> httpx.AsyncClient:
        """The client for ``provider``: its own CA bundle, else ``auth.ca_bundle``."""
        return self.trusting(provider.ca_bundle or auth.ca_bundle)

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()


@dataclass(frozen=True, slots=True)
class ProviderResponse:
    status_code: int
    headers: httpx.Headers
    body: bytes
    url: str | None = None
    """Where the answer came from, fit for errors (:func:`~jiraguard.settings.safe_url`)."""

    def json_object(self, what: str) -> dict[str, Any]:
        """The body as a JSON object, or :class:`ProviderUnavailable` naming ``what``."""
        try:
            value = load_json(self.body)
        except ValueError as exc:  # not JSON, or past load_json's bounds
            raise self.unusable(f"{what} answered with something that is not JSON") from exc
        if not isinstance(value, dict):
            raise self.unusable(f"{what} answered with JSON that is not an object")
        return value

    def unusable(self, description: str) -> ProviderUnavailable:
        """The error for an answer that decides nothing, naming where it came from."""
        return ProviderUnavailable(description, url=self.url)


async def call(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    what: str,
    **kwargs: Any,
) -> ProviderResponse:
    """Send one request to a provider; ``what`` names the endpoint in errors and logs."""
    shown = safe_url(url)
    try:
        async with client.stream(method, url, **kwargs) as response:
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_RESPONSE_BYTES:
                    raise ProviderUnavailable(f"{what} answered with more than 1 MiB", url=shown)
            return ProviderResponse(response.status_code, response.headers, bytes(body), shown)
    except httpx.TimeoutException as exc:
        raise ProviderUnavailable(f"{what} ({shown}) did not answer in time", url=shown) from exc
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(
            f"{what} ({shown}) could not be reached: {type(exc).__name__}", url=shown
        ) from exc


async def get_json(client: httpx.AsyncClient, url: str, what: str) -> dict[str, Any]:
    """GET a JSON object that must come with 200 (discovery documents, key sets)."""
    response = await call(client, "GET", url, what)
    if response.status_code != 200:
        raise response.unusable(f"{what} answered HTTP {response.status_code}")
    return response.json_object(what)
