"""Validation by the provider's userinfo endpoint (OIDC Core §5.3) or user API.

This is how tokens that cannot be checked locally or introspected are accepted: GitHub's
``/user``, GitLab's ``/api/v4/user``, Google's userinfo. A 200 with a JSON object accepts the
token; 401 and 403 reject it (RFC 6750 §3.1); anything else, including a rate-limit answer,
means the provider could not tell us (503). With ``client_binding`` the token must also
have been issued to an allowed client (see :mod:`.client_binding`).
"""

from __future__ import annotations

import httpx

from jiraguard.auth.discovery import ProviderMetadata
from jiraguard.auth.errors import InvalidToken
from jiraguard.auth.provider_http import call
from jiraguard.auth.validators.base import KeySet, ValidatedToken
from jiraguard.auth.validators.client_binding import bound_client
from jiraguard.settings import ProviderSettings


class UserinfoValidator:
    """Calls the userinfo (or user) endpoint with the token itself."""

    method = "userinfo"

    def __init__(
        self, provider: ProviderSettings, metadata: ProviderMetadata, client: httpx.AsyncClient
    ) -> None:
        self.provider = provider
        self.metadata = metadata
        self.client = client

    def key_set(self) -> KeySet | None:
        return None  # the provider is asked about every token

    async def validate(self, token: str) -> ValidatedToken:
        url = await self.metadata.endpoint("userinfo_endpoint")
        response = await call(
            self.client,
            "GET",
            url,
            "the userinfo endpoint",
            headers={"Authorization": f"Bearer {token}"},
        )
        status = response.status_code
        rate_limited = status == 429 or response.headers.get("x-ratelimit-remaining") == "0"
        if status in (401, 403) and not rate_limited:
            raise InvalidToken("The provider does not accept the access token")
        if status != 200:
            raise response.unusable(f"the userinfo endpoint answered HTTP {status}")
        claims = response.json_object("the userinfo endpoint")
        if self.provider.client_binding != "none":
            # Whose token it is, above; which application it was issued to, here.
            client = await bound_client(self.provider, self.client, token)
            claims = {**claims, "client_id": client}
        return ValidatedToken(self.provider, self.method, claims)
