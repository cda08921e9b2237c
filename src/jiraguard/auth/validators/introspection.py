"""OAuth 2.0 Token Introspection (RFC 7662).

The token is POSTed with ``token_type_hint=access_token`` and the client's credentials
(§2.1). ``"active": true`` — the JSON boolean, nothing else — means the token is good (§2.2);
an answer other than 200 or a body that is not a JSON object means the provider could not tell
us, which is a 503, never a 401.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx

from jiraguard.auth.discovery import ProviderMetadata
from jiraguard.auth.errors import InvalidToken
from jiraguard.auth.provider_http import call
from jiraguard.auth.validators.base import KeySet, ValidatedToken
from jiraguard.settings import ProviderSettings


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class IntrospectionValidator:
    """Asks the provider's introspection endpoint about each token."""

    method = "introspection"

    def __init__(
        self, provider: ProviderSettings, metadata: ProviderMetadata, client: httpx.AsyncClient
    ) -> None:
        self.provider = provider
        self.metadata = metadata
        self.client = client
        self._audience = frozenset(provider.audience)
        self._client_ids = frozenset(provider.allowed_client_ids)

    def _request(self, token: str) -> dict[str, Any]:
        data = {"token": token, "token_type_hint": "access_token"}
        client_id = self.provider.client_id or ""
        configured = self.provider.client_secret
        secret = configured.get_secret_value() if configured else ""
        if self.provider.client_auth == "client_secret_post":
            return {"data": {**data, "client_id": client_id, "client_secret": secret}}
        # RFC 6749 §2.3.1: form-urlencode the id and secret before Basic encoding them.
        return {"data": data, "auth": (quote(client_id, safe=""), quote(secret, safe=""))}

    def key_set(self) -> KeySet | None:
        return None  # the provider is asked about every token

    async def validate(self, token: str) -> ValidatedToken:
        url = await self.metadata.endpoint("introspection_endpoint")
        response = await call(
            self.client, "POST", url, "the introspection endpoint", **self._request(token)
        )
        if response.status_code != 200:
            raise response.unusable(
                f"the introspection endpoint answered HTTP {response.status_code}"
            )
        answer = response.json_object("the introspection endpoint")
        if answer.get("active") is not True:
            raise InvalidToken("The access token is not active (expired or revoked)")
        now = time.time()
        leeway = self.provider.leeway
        exp = _number(answer.get("exp"))
        if exp is not None and exp + leeway <= now:
            raise InvalidToken("The access token expired")
        nbf = _number(answer.get("nbf"))
        if nbf is not None and nbf - leeway > now:
            raise InvalidToken("The access token is not valid yet")
        if str(answer.get("token_type", "")).lower() == "refresh_token":
            raise InvalidToken("A refresh token is not an access token")
        if self.provider.issuer and "iss" in answer and answer["iss"] != self.provider.issuer:
            raise InvalidToken("The access token comes from an unexpected issuer")
        if self._audience and "aud" in answer:
            aud = answer["aud"]
            audiences = (
                {aud} if isinstance(aud, str) else set(aud) if isinstance(aud, list) else set()
            )
            if self._audience.isdisjoint(audiences):
                raise InvalidToken("The access token is not meant for this service (audience)")
        if self._client_ids and answer.get("client_id") not in self._client_ids:
            raise InvalidToken("The access token was issued to a client that is not allowed")
        return ValidatedToken(self.provider, self.method, answer, expires_at=exp)
