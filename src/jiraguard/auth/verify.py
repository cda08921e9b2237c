"""What ``jiraguard config check`` can verify about each provider from here.

Per provider, in order, each step saying what it found: the discovery document reachable
and naming the configured issuer (OIDC Discovery 1.0 §4.3), the issuers of
``issuer_discovery`` documents, the signing keys present in the JWKS, and the endpoint the
method needs known. Nothing here validates a token; a step that cannot run says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from jiraguard.auth.discovery import ProviderMetadata
from jiraguard.auth.errors import ProviderUnavailable
from jiraguard.auth.provider_http import get_json
from jiraguard.auth.validators.jwks import JWKSKeys
from jiraguard.auth.validators.jwt import discovered_issuer
from jiraguard.settings import AuthSettings, ProviderSettings, safe_url

ENDPOINTS = {"introspection": "introspection_endpoint", "userinfo": "userinfo_endpoint"}


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    """``discovery``, ``issuer``, ``keys``, or the endpoint's name."""
    ok: bool
    detail: str

    def line(self, provider: str) -> str:
        return f"provider {provider}: {self.check} {'ok' if self.ok else 'FAILED'}: {self.detail}"


async def _discovery(provider: ProviderSettings, client: httpx.AsyncClient) -> list[Finding]:
    url = provider.discovery_document_url
    if url is None:
        return []
    try:
        document: dict[str, Any] = await get_json(client, url, "the discovery document")
    except ProviderUnavailable as exc:
        return [Finding("discovery", False, exc.description)]
    found = [Finding("discovery", True, f"reachable at {safe_url(url)}")]
    named = document.get("issuer")
    if provider.issuer and named != provider.issuer:
        found.append(
            Finding(
                "issuer",
                False,
                f"the discovery document names {named!r}, "
                f"the configuration {provider.issuer!r} (they must be equal)",
            )
        )
    elif provider.issuer:
        found.append(Finding("issuer", True, f"{provider.issuer} as the discovery document says"))
    return found


async def verify(
    provider: ProviderSettings, auth: AuthSettings, client: httpx.AsyncClient
) -> list[Finding]:
    """Every check that applies to ``provider``; provider calls through ``client``."""
    found = await _discovery(provider, client)
    metadata = ProviderMetadata(provider, client)
    if provider.method == "jwt":
        for url in provider.issuer_discovery:
            try:
                issuer = await discovered_issuer(client, url)
            except ProviderUnavailable as exc:
                found.append(Finding("issuer", False, exc.description))
            else:
                found.append(Finding("issuer", True, f"{issuer}, from {safe_url(url)}"))
        if provider.public_key or provider.hmac_secret:
            found.append(Finding("keys", True, "configured (public_key or hmac_secret)"))
            return found
        keys = JWKSKeys(
            metadata,
            client,
            refresh_interval=auth.jwks_refresh_interval,
            min_refresh_interval=auth.jwks_min_refresh_interval,
        )
        try:
            count = await keys.load()
        except ProviderUnavailable as exc:
            found.append(Finding("keys", False, exc.description))
        else:
            found.append(Finding("keys", True, f"{count} signing key(s) in the JWKS"))
        return found
    key = ENDPOINTS[provider.method]
    try:
        url = await metadata.endpoint(key)
    except ProviderUnavailable as exc:
        found.append(Finding(key, False, exc.description))
    else:
        found.append(Finding(key, True, safe_url(url)))
    return found
