"""Provider presets: the endpoints and username attribute of well-known providers.

A preset fills only the keys the configuration leaves out, so anything can be overridden.
Each preset names the parameters it needs (a tenant, a realm, a domain, ...); a missing one is
a configuration error that says which.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

PresetName = Literal[
    "azure", "keycloak", "okta", "google", "cognito", "github", "gitlab", "miniorange", "custom"
]

Preset = Callable[[dict[str, Any]], dict[str, Any]]


def _need(data: dict[str, Any], preset: str, *keys: str) -> list[str]:
    missing = [k for k in keys if not data.get(k)]
    if missing:
        raise ValueError(f"preset {preset!r} needs {', '.join(missing)}")
    return [str(data[k]).rstrip("/") for k in keys]


TENANT_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
MULTI_TENANT = ("common", "organizations")
AZURE_AUTHORITY = "https://login.microsoftonline.com"
AZURE_V1_ISSUER = "https://sts.windows.net/{}/"


def _azure(data: dict[str, Any]) -> dict[str, Any]:
    """Entra ID access tokens for your own API (audience: its application ID URI or id).

    Tokens carry the tenant *id* in ``iss``: a tenant given by id gives the issuer at once,
    one given by domain name is resolved through its discovery document. v1.0 tokens (the
    default for custom APIs unless the manifest sets ``accessTokenAcceptedVersion: 2``) are
    accepted with ``accept_v1_tokens``. ``common``/``organizations`` need ``allowed_tenants``.
    """
    (tenant,) = _need(data, "azure", "tenant")
    base = str(data.get("base_url") or AZURE_AUTHORITY).rstrip("/")
    v1 = bool(data.get("accept_v1_tokens"))
    filled: dict[str, Any] = {
        "method": "jwt",
        "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "username_attribute": ["preferred_username", "upn", "unique_name"],
    }
    if tenant.lower() in MULTI_TENANT:
        tenants = [str(t) for t in data.get("allowed_tenants") or []]
        if not tenants:
            raise ValueError(
                f"preset 'azure' with tenant = {tenant!r} needs allowed_tenants: the tenant "
                "ids (tid) whose tokens are accepted; otherwise any Entra ID tenant's are"
            )
        wrong = [t for t in tenants if not TENANT_ID.match(t)]
        if wrong:
            raise ValueError(f"preset 'azure': allowed_tenants are tenant ids (GUIDs): {wrong}")
        issuers = [f"{base}/{t}/v2.0" for t in tenants]
        if v1:
            issuers += [AZURE_V1_ISSUER.format(t) for t in tenants]
        filled.update(issuer=issuers[0], issuers=issuers[1:])
        filled["required_claim_values"] = {"tid": tenants}
    elif TENANT_ID.match(tenant):
        filled["issuer"] = f"{base}/{tenant}/v2.0"
        if v1:
            filled["issuers"] = [AZURE_V1_ISSUER.format(tenant)]
    else:  # a domain name: the discovery documents answer the tenant id issuers
        documents = [f"{base}/{tenant}/v2.0/.well-known/openid-configuration"]
        if v1:
            documents.append(f"{base}/{tenant}/.well-known/openid-configuration")
        filled["issuer_discovery"] = documents
    return filled


def _keycloak(data: dict[str, Any]) -> dict[str, Any]:
    base_url, realm = _need(data, "keycloak", "base_url", "realm")
    method = data.get("method", "jwt")
    if method == "jwt" and not data.get("audience") and data.get("verify_audience", True):
        # Accepting "account" would accept every client's tokens of the realm.
        raise ValueError(
            "preset 'keycloak' needs audience: without an audience mapper Keycloak's access "
            "tokens carry aud = account, as every client's do; add an audience mapper for "
            "your Jira client and set audience = [that client id]"
        )
    issuer = f"{base_url}/realms/{realm}"
    return {
        "method": "jwt",
        "issuer": issuer,
        "jwks_uri": f"{issuer}/protocol/openid-connect/certs",
        "introspection_endpoint": f"{issuer}/protocol/openid-connect/token/introspect",
        "userinfo_endpoint": f"{issuer}/protocol/openid-connect/userinfo",
        "username_attribute": ["preferred_username"],
    }


def _okta(data: dict[str, Any]) -> dict[str, Any]:
    (domain,) = _need(data, "okta", "domain")
    server = data.get("authorization_server") or "default"
    if server == "org":
        # The org authorization server's access tokens are for Okta's own APIs: they cannot
        # be checked locally, only introspected.
        return {
            "method": "introspection",
            "issuer": f"https://{domain}",
            "introspection_endpoint": f"https://{domain}/oauth2/v1/introspect",
            "userinfo_endpoint": f"https://{domain}/oauth2/v1/userinfo",
            "username_attribute": ["username", "sub"],
        }
    issuer = f"https://{domain}/oauth2/{server}"
    filled: dict[str, Any] = {
        "method": "jwt",
        "issuer": issuer,
        "jwks_uri": f"{issuer}/v1/keys",
        "introspection_endpoint": f"{issuer}/v1/introspect",
        "userinfo_endpoint": f"{issuer}/v1/userinfo",
        "username_attribute": ["sub"],  # Okta puts the user's login in sub
    }
    if server == "default":
        filled["audience"] = ["api://default"]
    return filled


GOOGLE_TOKENINFO = "https://oauth2.googleapis.com/tokeninfo"


def _clients(data: dict[str, Any]) -> bool:
    return bool(data.get("allowed_client_ids") or data.get("client_id"))


def _google(data: dict[str, Any]) -> dict[str, Any]:
    # Google access tokens are opaque: the userinfo endpoint is how they are checked, and
    # tokeninfo says which client one was issued to (azp/aud).
    filled: dict[str, Any] = {
        "method": "userinfo",
        "issuer": "https://accounts.google.com",
        "userinfo_endpoint": "https://openidconnect.googleapis.com/v1/userinfo",
        "username_attribute": ["email"],
    }
    if _clients(data):
        filled["client_binding"] = "google_tokeninfo"
        filled["token_info_endpoint"] = GOOGLE_TOKENINFO
    return filled


def _cognito(data: dict[str, Any]) -> dict[str, Any]:
    region, pool = _need(data, "cognito", "region", "user_pool_id")
    issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool}"
    filled: dict[str, Any] = {
        "method": "jwt",
        "issuer": issuer,
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        # Cognito access tokens carry client_id, not aud: pin the app clients instead.
        "verify_audience": not data.get("allowed_client_ids") and bool(data.get("audience")),
        # ID tokens are signed by the same keys: only access tokens call an API.
        "required_claim_values": {"token_use": ["access"]},
        "username_attribute": ["username", "cognito:username"],
    }
    if data.get("domain"):
        filled["userinfo_endpoint"] = f"https://{str(data['domain']).rstrip('/')}/oauth2/userInfo"
    return filled


def _github(data: dict[str, Any]) -> dict[str, Any]:
    base_url = str(data.get("base_url") or "").rstrip("/")
    api = f"{base_url}/api/v3" if base_url else "https://api.github.com"
    filled: dict[str, Any] = {
        "method": "userinfo",
        "userinfo_endpoint": f"{api}/user",
        "username_attribute": ["login"],
    }
    if data.get("client_id") and data.get("client_secret"):
        # The OAuth app's "check a token" API answers 200 for its own tokens only.
        filled["client_binding"] = "github_token_check"
        filled["token_info_endpoint"] = f"{api}/applications/{data['client_id']}/token"
    return filled


def _gitlab(data: dict[str, Any]) -> dict[str, Any]:
    base_url = str(data.get("base_url") or "https://gitlab.com").rstrip("/")
    filled: dict[str, Any] = {
        "method": "userinfo",
        "userinfo_endpoint": f"{base_url}/api/v4/user",
        "username_attribute": ["username"],
    }
    if _clients(data):
        filled["client_binding"] = "gitlab_token_info"
        filled["token_info_endpoint"] = f"{base_url}/oauth/token/info"
    return filled


def _miniorange(data: dict[str, Any]) -> dict[str, Any]:
    base_url = str(data.get("base_url") or "https://login.xecurify.com").rstrip("/")
    return {
        "method": "userinfo",
        "userinfo_endpoint": f"{base_url}/moas/rest/oauth/getuserinfo",
        "introspection_endpoint": f"{base_url}/moas/rest/oauth/introspect",
        "username_attribute": ["username", "email"],
    }


PRESETS: dict[str, Preset] = {
    "azure": _azure,
    "keycloak": _keycloak,
    "okta": _okta,
    "google": _google,
    "cognito": _cognito,
    "github": _github,
    "gitlab": _gitlab,
    "miniorange": _miniorange,
    "custom": lambda data: {},
}


PARAMETERS: dict[str, tuple[str, ...]] = {
    "azure": ("tenant",),
    "keycloak": ("base_url", "realm"),
    "okta": ("domain", "authorization_server"),
    "google": (),
    "cognito": ("region", "user_pool_id", "domain"),
    "github": ("base_url",),
    "gitlab": ("base_url",),
    "miniorange": ("base_url",),
    "custom": (),
}
"""The parameters each preset reads (the first ones it needs; optional ones after)."""

TITLES: dict[str, str] = {
    "azure": "Entra ID / Azure AD",
    "keycloak": "Keycloak",
    "okta": "Okta",
    "google": "Google",
    "cognito": "AWS Cognito",
    "github": "GitHub",
    "gitlab": "GitLab",
    "miniorange": "miniOrange",
    "custom": "Custom (any OAuth 2.0 / OIDC provider)",
}


def expand_preset(data: dict[str, Any]) -> dict[str, Any]:
    """Return ``data`` with its preset's defaults filled in where the user gave nothing."""
    preset = PRESETS.get(str(data.get("preset", "custom")))
    if preset is None:  # an unknown name is reported by the Literal check
        return data
    return {**preset(data), **data}
