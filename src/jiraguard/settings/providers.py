"""``[[providers]]``: one identity provider and how its tokens become Jira users."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator

from jiraguard.presets import PresetName, expand_preset
from jiraguard.settings.common import (
    HMAC_ALGORITHMS,
    Algorithm,
    CABundle,
    Method,
    Seconds,
    Section,
)

ClientBinding = Literal["none", "google_tokeninfo", "github_token_check", "gitlab_token_info"]
DPoPMode = Literal["off", "allowed", "required"]


class ProviderSettings(Section):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)
    """A short name for logs, errors and environment overrides."""
    preset: PresetName = "custom"
    """Fills endpoints and defaults for a known provider (see presets)."""
    enabled: bool = True
    method: Method = "jwt"
    """How tokens are checked: jwt (locally), introspection (RFC 7662) or userinfo."""
    issuer: str | None = None
    """Expected ``iss``, matched exactly; also where discovery is looked up."""
    issuers: list[str] = []
    """Further accepted ``iss`` values (Entra ID's v1.0 ``https://sts.windows.net/{tid}/``)."""
    issuer_discovery: list[str] = []
    """Discovery documents whose ``issuer`` is accepted too, read the first time a token
    names an issuer not known yet (Entra ID's tenant given by domain name: the document
    answers the tenant id issuer)."""
    discovery_url: str | None = None
    jwks_uri: str | None = None
    audience: list[str] = []
    """Accepted ``aud`` values; a JWT must name at least one."""
    verify_audience: bool = True
    """Set false to accept a JWT for any audience (then name ``allowed_client_ids``)."""
    allowed_client_ids: list[str] = []
    """When set, the token's ``client_id``/``azp`` must be one of these."""
    algorithms: list[Algorithm] = ["RS256"]
    """JWT algorithms accepted; the token's ``alg`` header never widens this list."""
    leeway: Seconds = 30.0
    """Clock skew allowed on ``exp``, ``nbf`` and ``iat``."""
    required_claims: list[str] = ["exp"]
    """Claims a JWT must carry."""
    required_claim_values: dict[str, list[str]] = {}
    """Claim → accepted values: the JWT's claim must be one of them (Cognito's
    ``token_use = access``, Entra ID's ``tid`` for multi-tenant apps)."""
    token_type: str | None = None
    """Required JWT ``typ`` header, e.g. ``at+jwt`` for RFC 9068 access tokens."""
    ca_bundle: CABundle | None = None
    """PEM file of the CA certificates that sign this provider's TLS certificate (an internal
    CA), instead of ``auth.ca_bundle`` or the system's."""
    public_key: str | None = None
    """A PEM public key to verify JWTs with, instead of a JWKS."""
    hmac_secret: SecretStr | None = None
    """Shared secret for HS256/384/512; only used when those algorithms are listed."""
    introspection_endpoint: str | None = None
    userinfo_endpoint: str | None = None
    client_id: str | None = None
    """Client that authenticates to the introspection endpoint."""
    client_secret: SecretStr | None = None
    client_auth: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    client_binding: ClientBinding = "none"
    """userinfo only: how to learn which OAuth client a token was issued to, checked against
    ``allowed_client_ids`` (else ``client_id``). The google, github and gitlab presets set it
    when the client is configured; see ``auth/validators/client_binding.py``."""
    token_info_endpoint: str | None = None
    """Where ``client_binding`` asks (filled by the presets)."""
    dpop: DPoPMode = "off"
    """DPoP (RFC 9449): ``off`` refuses ``Authorization: DPoP``; ``allowed`` accepts DPoP-bound
    tokens with a valid proof beside plain bearer tokens; ``required`` accepts only DPoP-bound
    ones. A token bound to a key (``cnf.jkt``) is never accepted as a plain bearer token."""
    username_attribute: list[str] = ["preferred_username"]
    """Dotted path(s) into the claims or provider response; the first present one wins."""
    username_transforms: list[Literal["lowercase", "strip_domain"]] = []
    """Applied in order: ``lowercase``; ``strip_domain`` (``alice@corp.com`` → ``alice``)."""
    username_pattern: str | None = None
    """A regular expression the username must match; its first group (or the group named
    ``username``) becomes the username. Applied after the transforms."""
    lookup: Literal["username", "email"] = "username"
    """Find the Jira user by user name, or by e-mail address (several matches are refused)."""
    groups_attribute: list[str] = []
    """Dotted path(s) to the token's groups: a list, or a space- or comma-separated string."""
    group_mapping: dict[str, str] = {}
    """Provider group → Jira group."""
    group_passthrough: bool = False
    """Use provider groups that ``group_mapping`` does not name under their own names."""
    sync_user: bool = False
    """On each authentication, update the user's display name, e-mail and mapped groups."""
    client_users: dict[str, str] = {}
    """Client id → Jira service user, for tokens with no user (client credentials)."""
    # Preset parameters: each preset names the ones it needs.
    tenant: str | None = None
    realm: str | None = None
    domain: str | None = None
    authorization_server: str | None = None
    region: str | None = None
    user_pool_id: str | None = None
    base_url: str | None = None
    allowed_tenants: list[str] = []
    """azure, tenant ``common`` or ``organizations``: the tenant ids (``tid``) accepted."""
    accept_v1_tokens: bool = False
    """azure: accept v1.0 access tokens too (issuer ``https://sts.windows.net/{tid}/``)."""

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in ("username_attribute", "groups_attribute"):
                if isinstance(data.get(key), str):
                    data = {**data, key: [data[key]]}
            return expand_preset(data)
        return data

    @model_validator(mode="after")
    def _consistent(self) -> ProviderSettings:
        problems: list[str] = []
        hmac = [a for a in self.algorithms if a in HMAC_ALGORITHMS]
        if self.method == "jwt":
            if not self.algorithms:
                problems.append("algorithms must name at least one algorithm")
            if hmac and len(hmac) != len(self.algorithms):
                problems.append("HMAC algorithms cannot be mixed with public-key algorithms")
            if hmac and not self.hmac_secret:
                problems.append(f"{hmac[0]} needs hmac_secret")
            if self.hmac_secret and not hmac:
                problems.append("hmac_secret is set but no HS* algorithm is listed")
            if not (hmac or self.public_key or self.jwks_uri or self.issuer or self.discovery_url):
                problems.append("jwt needs jwks_uri, discovery_url, issuer or public_key")
            if not (self.issuer or self.issuer_discovery):
                problems.append("jwt needs issuer (matched exactly against iss)")
            if self.verify_audience and not self.audience:
                problems.append("jwt needs audience (or verify_audience = false)")
            if not self.verify_audience and not self.allowed_client_ids:
                problems.append("with verify_audience = false, name allowed_client_ids")
        elif self.method == "introspection":
            if not (self.introspection_endpoint or self.issuer or self.discovery_url):
                problems.append("introspection needs introspection_endpoint or issuer")
            if not (self.client_id and self.client_secret):
                problems.append("introspection needs client_id and client_secret")
        elif not (self.userinfo_endpoint or self.issuer or self.discovery_url):
            problems.append("userinfo needs userinfo_endpoint or issuer")
        if self.client_binding != "none":
            if self.method != "userinfo":
                problems.append("client_binding is for method = userinfo")
            if not self.token_info_endpoint:
                problems.append("client_binding needs token_info_endpoint")
            if not (self.allowed_client_ids or self.client_id):
                problems.append("client_binding needs allowed_client_ids or client_id")
            if self.client_binding == "github_token_check" and not (
                self.client_id and self.client_secret
            ):
                problems.append("github_token_check needs the OAuth app's client_id and secret")
        if not self.username_attribute:
            problems.append("username_attribute must name at least one attribute")
        if self.username_pattern is not None:
            try:
                re.compile(self.username_pattern)
            except re.error as exc:
                problems.append(f"username_pattern is not a regular expression: {exc}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def warnings(self) -> list[str]:
        """What is allowed but weaker than it looks (``jiraguard config check`` prints it)."""
        found: list[str] = []
        if self.method == "userinfo" and self.client_binding == "none":
            found.append(
                f"provider {self.name!r} (userinfo) cannot tell which application a token "
                "was issued to: any access token of the user with the needed scope, issued "
                "to any application the user authorised, is accepted"
                + (
                    "; set allowed_client_ids (or client_id) and the preset checks it"
                    if self.preset in ("google", "gitlab")
                    else "; set client_id and client_secret of the OAuth app and the preset "
                    "checks it"
                    if self.preset == "github"
                    else ""
                )
            )
        return found

    @property
    def discovery_document_url(self) -> str | None:
        if self.discovery_url:
            return self.discovery_url
        if self.issuer:
            return self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        return None
