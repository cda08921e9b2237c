"""Which OAuth client a userinfo-checked token was issued to.

A 200 from a userinfo (or user API) endpoint proves whose token it is, not which application
it was issued to: any access token of that user with the right scope, issued to any
application the user ever authorised, would call Jira as the user (token substitution, a
confused deputy). Where the provider can say which client a token belongs to, the answer is
checked against ``allowed_client_ids`` (or ``client_id``):

* ``google_tokeninfo`` — Google's tokeninfo endpoint, POST ``access_token``: ``azp``/``aud``.
* ``github_token_check`` — GitHub's "check a token" API for an OAuth app, POST
  ``/applications/{client_id}/token`` authenticated as the app: 200 only for its own tokens.
* ``gitlab_token_info`` — GitLab's ``/oauth/token/info`` with the token: ``application.uid``.

Other userinfo providers cannot bind a token to a client; ``jiraguard config check`` says so.
"""

from __future__ import annotations

import httpx

from jiraguard.auth.errors import InvalidToken
from jiraguard.auth.provider_http import ProviderResponse, call
from jiraguard.settings import ProviderSettings

NOT_ALLOWED = "The access token was issued to a client that is not allowed"


def allowed_clients(provider: ProviderSettings) -> frozenset[str]:
    """The clients a bound token may belong to: ``allowed_client_ids``, else ``client_id``."""
    if provider.allowed_client_ids:
        return frozenset(provider.allowed_client_ids)
    return frozenset([provider.client_id]) if provider.client_id else frozenset()


async def bound_client(provider: ProviderSettings, client: httpx.AsyncClient, token: str) -> str:
    """The allowed client ``token`` was issued to; :class:`InvalidToken` when it was issued to
    another, :class:`ProviderUnavailable` when the provider cannot tell now."""
    endpoint = provider.token_info_endpoint
    assert endpoint is not None  # the settings check makes sure
    allowed = allowed_clients(provider)
    what = "the token information endpoint"
    if provider.client_binding == "google_tokeninfo":
        response = await call(client, "POST", endpoint, what, data={"access_token": token})
        if response.status_code == 400:  # Google's answer for an unknown or expired token
            raise InvalidToken("The provider does not accept the access token")
        _ok(response, what)
        info = response.json_object(what)
        found = [info.get("azp"), info.get("aud")]
    elif provider.client_binding == "github_token_check":
        assert provider.client_id is not None
        assert provider.client_secret is not None
        response = await call(
            client,
            "POST",
            endpoint,
            what,
            json={"access_token": token},
            auth=(provider.client_id, provider.client_secret.get_secret_value()),
            headers={"Accept": "application/vnd.github+json"},
        )
        if response.status_code in (404, 422):  # not a token of this OAuth app
            raise InvalidToken(NOT_ALLOWED)
        _ok(response, what)
        found = [provider.client_id]
    else:  # gitlab_token_info
        response = await call(
            client, "GET", endpoint, what, headers={"Authorization": f"Bearer {token}"}
        )
        if response.status_code in (401, 403):
            raise InvalidToken("The provider does not accept the access token")
        _ok(response, what)
        application = response.json_object(what).get("application")
        found = [application.get("uid") if isinstance(application, dict) else None]
    for candidate in found:
        if isinstance(candidate, str) and candidate in allowed:
            return candidate
    raise InvalidToken(NOT_ALLOWED)


def _ok(response: ProviderResponse, what: str) -> None:
    if response.status_code != 200:
        raise response.unusable(f"{what} answered HTTP {response.status_code}")
