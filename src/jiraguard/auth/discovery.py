"""OpenID Connect Discovery 1.0: a provider's metadata, fetched once and kept."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from jiraguard.auth.errors import ProviderUnavailable
from jiraguard.auth.provider_http import get_json
from jiraguard.settings import ProviderSettings


class ProviderMetadata:
    """Endpoints of one provider: configured ones win, the rest come from discovery."""

    def __init__(self, provider: ProviderSettings, client: httpx.AsyncClient) -> None:
        self.provider = provider
        self.client = client
        self._document: dict[str, Any] | None = None
        self._lock = asyncio.Lock()

    async def endpoint(self, key: str) -> str:
        """``jwks_uri``, ``introspection_endpoint`` or ``userinfo_endpoint`` of the provider."""
        configured = getattr(self.provider, key, None)
        if configured:
            return str(configured)
        document = await self.document()
        value = document.get(key)
        if not isinstance(value, str) or not value.startswith(("https://", "http://")):
            raise ProviderUnavailable(f"the discovery document has no {key}")
        return value

    async def document(self) -> dict[str, Any]:
        if self._document is not None:
            return self._document
        async with self._lock:
            if self._document is None:
                url = self.provider.discovery_document_url
                if url is None:
                    raise ProviderUnavailable("no discovery URL is configured")
                document = await get_json(self.client, url, "the discovery document")
                # OIDC Discovery §4.3: the issuer in the document MUST be the one we expect.
                if self.provider.issuer and document.get("issuer") != self.provider.issuer:
                    raise ProviderUnavailable("the discovery document names another issuer")
                self._document = document
        return self._document
