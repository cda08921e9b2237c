"""The one settings object: a TOML file, overridden by environment variables, validated once.

Every key can be overridden by an environment variable ``JIRAGUARD_<SECTION>__<KEY>``, for
example ``JIRAGUARD_SERVER__PORT=9090``. Provider entries are addressed by name or index:
``JIRAGUARD_PROVIDERS__CORP__CLIENT_SECRET=...`` sets ``client_secret`` of the provider named
``corp``. Values are read as JSON when they parse as JSON (numbers, booleans, lists), else
as plain strings. Unknown keys are rejected with their path, and all errors are reported at
once (:class:`ConfigError`).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from jiraguard.presets import PRESETS, PresetName, expand_preset

ENV_PREFIX = "JIRAGUARD_"
ENV_CONFIG_PATH = "JIRAGUARD_CONFIG"

Method = Literal["jwt", "introspection", "userinfo"]
Algorithm = Literal[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512",
]  # fmt: skip
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
Seconds = Annotated[float, Field(ge=0)]
Network = IPv4Network | IPv6Network
HttpMethod = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)\s*$")
_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}


def parse_rate(value: str) -> tuple[int, float]:
    """``"100/minute"`` → (100, 60.0): a count of requests per period in seconds."""
    match = _RATE.match(value)
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"{value!r} is not a rate like '100/minute' (second, minute, hour, day)")
    return int(match.group(1)), _PERIODS[match.group(2)]


def _check_rate(value: str | None) -> str | None:
    if value is not None:
        parse_rate(value)
    return value


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` lists every error as ``path: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))
        self.problems = problems


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    """Address to listen on."""
    port: int = Field(8080, ge=1, le=65535)
    """TCP port to listen on."""
    base_url: str | None = None
    """Public URL of this server, used in ``self`` links (default ``http://host:port``)."""
    max_body_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    """Largest request body accepted; larger ones get 413."""
    trusted_proxies: list[Network] = []
    """Peers whose ``X-Forwarded-For`` is believed (CIDR); from anyone else it is ignored."""

    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")


class StorageSettings(_Section):
    url: str = "sqlite:///jiraguard.db"
    """Database URL: ``sqlite:///path.db`` (default) or ``postgresql://user@host/db``."""

    @model_validator(mode="after")
    def _known_database(self) -> StorageSettings:
        if not self.url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("storage.url must start with sqlite:// or postgresql://")
        return self


class BasicExceptions(_Section):
    """Who may still use Basic authentication while it is blocked (break-glass, legacy tools).

    An exception applies when the request matches ANY entry: its user, a group of its user, a
    path glob, or a client network.
    """

    users: list[str] = []
    groups: list[str] = []
    paths: list[str] = []
    """Path globs (``fnmatch``), e.g. ``/rest/api/2/serverInfo``."""
    networks: list[Network] = []


class AuthSettings(_Section):
    realm: str = "jiraguard"
    """The realm named in ``WWW-Authenticate`` challenges."""
    block_basic: bool = True
    """Refuse HTTP Basic credentials (401 with a Bearer challenge)."""
    basic_report_only: bool = False
    """With block_basic: let Basic through, but log and count what would have been blocked."""
    basic_exceptions: BasicExceptions = BasicExceptions()
    default_policy: Literal["allow", "deny"] = "allow"
    """What happens to an authenticated request no rule matches."""
    create_users: bool = False
    """Create unknown users from the token's claims instead of rejecting them."""
    allow_query_token: bool = False
    """Accept ``?access_token=`` (RFC 6750 §2.3). Off: URLs end up in logs and histories."""
    allow_form_token: bool = False
    """Accept ``access_token`` in a form-encoded body (RFC 6750 §2.2)."""
    protected_paths: list[str] = ["/rest/"]
    """Path prefixes that require credentials."""
    cache_ttl: Seconds = 60.0
    """Longest time a validated token is trusted without asking again (never past its exp)."""
    negative_cache_ttl: Seconds = 5.0
    """How long a rejected token is remembered as rejected."""
    cache_size: int = Field(100_000, ge=1)
    """Most principals kept in the in-process cache (least recently used go first)."""
    provider_timeout: float = Field(5.0, gt=0, le=120)
    """Seconds for any one call to a provider (connect, read, write, pool)."""
    jwks_refresh_interval: Seconds = 3600.0
    """Keys are fetched again after this long (old keys stay in use if the fetch fails)."""
    jwks_min_refresh_interval: Seconds = 30.0
    """An unknown ``kid`` refetches the keys at most this often per provider."""


class ProviderSettings(_Section):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)
    """A short name for logs, errors and environment overrides."""
    preset: PresetName = "custom"
    """Fills endpoints and defaults for a known provider (see presets)."""
    enabled: bool = True
    method: Method = "jwt"
    """How tokens are checked: jwt (locally), introspection (RFC 7662) or userinfo."""
    issuer: str | None = None
    """Expected ``iss``, matched exactly; also where discovery is looked up."""
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
    token_type: str | None = None
    """Required JWT ``typ`` header, e.g. ``at+jwt`` for RFC 9068 access tokens."""
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
            if not self.issuer:
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
    def discovery_document_url(self) -> str | None:
        if self.discovery_url:
            return self.discovery_url
        if self.issuer:
            return self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        return None


class RateLimits(_Section):
    """Token-bucket limits, e.g. ``"600/minute"``; unset means unlimited."""

    per_user: str | None = None
    per_client: str | None = None
    """Per OAuth client id (``client_id``/``azp``)."""
    per_token: str | None = None

    _valid = field_validator("per_user", "per_client", "per_token")(_check_rate)


class Rule(_Section):
    """One access rule. Rules are tried in order; the first whose conditions match decides.

    Conditions (all given ones must hold): ``methods``, ``paths`` (globs), ``networks``
    (client CIDRs), ``groups`` (the user is in any). Then ``action``: ``deny`` refuses;
    ``public`` serves without authentication (no ``groups`` condition then); ``allow`` admits
    the request if the requirements hold — ``require_groups`` (any of), ``deny_groups`` (none
    of), ``require_scopes`` (all of) — and refuses it (403) otherwise.
    """

    name: str
    methods: list[HttpMethod] = []
    paths: list[str] = []
    networks: list[Network] = []
    groups: list[str] = []
    action: Literal["allow", "deny", "public"] = "allow"
    require_groups: list[str] = []
    deny_groups: list[str] = []
    require_scopes: list[str] = []
    rate_limit: str | None = None
    """A per-user limit for requests this rule admits, on top of the global ones."""

    _valid = field_validator("rate_limit")(_check_rate)

    @model_validator(mode="after")
    def _public_needs_no_user(self) -> Rule:
        if self.action == "public" and (
            self.groups or self.require_groups or self.deny_groups or self.require_scopes
        ):
            raise ValueError("a public rule cannot depend on the user (groups, scopes)")
        return self


class UpstreamSettings(_Section):
    """Gateway mode: forward authenticated calls to an existing Jira at ``url``."""

    url: str | None = None
    """Base URL of the Jira to proxy to (with its context path); unset = embedded mode."""
    identity: Literal["trusted_header", "service_account"] = "trusted_header"
    """How Jira learns who the caller is: a signed header, or a service account's credentials
    with the real caller in an audit header (Jira then sees the service account)."""
    user_header: str = "X-Forwarded-User"
    signature_header: str = "X-Jiraguard-Signature"
    """HMAC-SHA256 over user, method, path and timestamp, with ``shared_secret``."""
    timestamp_header: str = "X-Jiraguard-Timestamp"
    shared_secret: SecretStr | None = None
    service_account_token: SecretStr | None = None
    """A Jira personal access token for the service account (sent as Bearer)."""
    service_account_user: str | None = None
    service_account_password: SecretStr | None = None
    audit_header: str = "X-Jiraguard-User"
    """With a service account: the real caller's username, for Jira's access logs."""
    require_local_user: bool = False
    """Map tokens only to users in jiraguard's own directory (default: forward the username
    and let Jira decide)."""
    connect_timeout: float = Field(5.0, gt=0)
    """Seconds to wait for a connection to the upstream (then 504)."""
    read_timeout: float = Field(60.0, gt=0)
    """Seconds to wait for the upstream's response (then 504)."""
    max_request_bytes: int = Field(1024 * 1024 * 1024, ge=1024)
    """Largest request body forwarded: 413 up front when Content-Length says more, else the
    upload is cut off (413) once it passes this."""
    max_response_bytes: int = Field(4 * 1024 * 1024 * 1024, ge=1024)
    """Largest response body relayed: 502 up front when Content-Length says more, else the
    connection is closed once it passes this."""
    max_connections: int = Field(256, ge=1)
    """Most connections open to the upstream at once (all kept alive between requests)."""

    @model_validator(mode="after")
    def _identity_complete(self) -> UpstreamSettings:
        if self.url is None:
            return self
        if not re.match(r"^https?://[^/?#]+(/[^?#]*)?$", self.url):
            raise ValueError("url must be http(s)://host[:port][/context-path], without a query")
        if self.identity == "trusted_header" and not self.shared_secret:
            raise ValueError("identity = trusted_header needs shared_secret")
        if self.identity == "service_account" and not (
            self.service_account_token
            or (self.service_account_user and self.service_account_password)
        ):
            raise ValueError(
                "identity = service_account needs service_account_token or user and password"
            )
        return self


class SignedIdentitySettings(_Section):
    """Embedded mode as a gateway's upstream: accept the gateway's signed identity header."""

    enabled: bool = False
    shared_secret: SecretStr | None = None
    trusted_peers: list[Network] = []
    """Only these peers may send a signed identity (the gateway's addresses)."""
    max_age: Seconds = 60.0
    """Largest accepted difference between the signature's timestamp and now."""
    user_cache_ttl: Seconds = 10.0
    """Seconds a signed user's directory record is reused without asking the database again
    (a disabled user is refused at most this long after being disabled); 0 looks it up on
    every request."""
    user_header: str = "X-Forwarded-User"
    signature_header: str = "X-Jiraguard-Signature"
    timestamp_header: str = "X-Jiraguard-Timestamp"

    @model_validator(mode="after")
    def _complete(self) -> SignedIdentitySettings:
        if self.enabled and not (self.shared_secret and self.trusted_peers):
            raise ValueError("signed identity needs shared_secret and trusted_peers")
        return self


class TokenSettings(_Section):
    """Personal access tokens (Jira Data Center compatible ``/rest/pat/latest/tokens``)."""

    enabled: bool = True
    """Accept personal access tokens beside provider tokens."""
    prefix: str = Field("jgp_", pattern=r"^[a-z]{2,8}_$")
    """Prefix of every token, so they are recognisable (and never sent to a provider)."""
    max_per_user: int = Field(10, ge=1)
    default_lifetime_days: int = Field(90, ge=1)
    """Lifetime of a token created without ``expirationDuration``."""
    max_lifetime_days: int = Field(365, ge=1)
    last_used_resolution: Seconds = 300.0
    """``lastAccessedAt`` is written at most this often per token (no write per request)."""
    bootstrap_admin: str = "admin"
    """Administrator created on first start with an empty directory."""
    bootstrap_token_file: str | None = None
    """Write the bootstrap administrator's token to this file (mode 0600) instead of the log."""


class AuditSettings(_Section):
    """The audit log of authentication decisions and configuration/token changes."""

    enabled: bool = True
    record_allowed: bool = True
    """Record accepted requests too, not only refusals."""
    retention_days: int = Field(90, ge=1)
    max_rows: int = Field(1_000_000, ge=1000)
    flush_interval: Seconds = 1.0
    """Records are written in batches at most this far apart (never on the request path)."""
    batch_size: int = Field(500, ge=1)


class Settings(_Section):
    """Everything jiraguard reads from its configuration."""

    server: ServerSettings = ServerSettings()
    storage: StorageSettings = StorageSettings()
    auth: AuthSettings = AuthSettings()
    providers: list[ProviderSettings] = []
    tokens: TokenSettings = TokenSettings()
    audit: AuditSettings = AuditSettings()
    rules: list[Rule] = []
    rate_limits: RateLimits = RateLimits()
    upstream: UpstreamSettings = UpstreamSettings()
    signed_identity: SignedIdentitySettings = SignedIdentitySettings()

    @model_validator(mode="after")
    def _unique_providers(self) -> Settings:
        names = [p.name.lower() for p in self.providers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"provider names must be unique: {', '.join(duplicates)}")
        issuers = [p.issuer for p in self.providers if p.enabled and p.method == "jwt"]
        shared = sorted({i for i in issuers if i is not None and issuers.count(i) > 1})
        if shared:
            raise ValueError(f"two jwt providers share the issuer {shared[0]}")
        return self


def _env_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _named(entry: dict[str, Any], name: str) -> bool:
    return str(entry.get("name", "")).lower() == name


def _set_path(data: dict[str, Any], path: list[str], value: Any) -> None:
    """Set ``value`` at ``path``, where a provider entry is addressed by name or index."""
    head, rest = path[0], path[1:]
    if head == "providers" and rest and len(rest) > 1:
        providers = data.setdefault("providers", [])
        if not isinstance(providers, list):
            return
        selector = rest[0]
        entry = next(
            (
                p
                for p in providers
                if isinstance(p, dict) and str(p.get("name", "")).lower() == selector
            ),
            None,
        )
        if entry is None and selector.isdigit() and int(selector) < len(providers):
            entry = providers[int(selector)]
        if entry is None:
            entry = {"name": selector}
            providers.append(entry)
        _set_path(entry, rest[1:], value)
        return
    if not rest:
        data[head] = value
        return
    child = data.setdefault(head, {})
    if isinstance(child, dict):
        _set_path(child, rest, value)


def apply_environment(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Overlay ``JIRAGUARD_SECTION__KEY`` variables onto the file's data.

    Only names with a ``__`` separator are configuration; other ``JIRAGUARD_*`` variables
    (``JIRAGUARD_CONFIG``, a test flag) are not keys and are left alone.
    """
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__") if part]
        if path:
            _set_path(data, path, _env_value(environ[name]))
    return data


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not part.startswith(("function-", "model-")):
            out += f".{part}" if out else part
    return out or "(top level)"


def validate_settings(data: Mapping[str, Any]) -> Settings:
    """Validate a configuration mapping, reporting every problem at once."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False, include_input=False):
            message = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key"
            problems.append(f"{_location(error['loc'])}: {message}")
        raise ConfigError(problems) from exc


def load_settings(
    path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the TOML file (``path`` or ``$JIRAGUARD_CONFIG``; none means defaults) and the
    environment, and validate the result."""
    env = os.environ if environ is None else environ
    chosen = path if path is not None else env.get(ENV_CONFIG_PATH)
    data: dict[str, Any] = {}
    if chosen:
        try:
            with open(chosen, "rb") as handle:
                data = tomllib.load(handle)
        except OSError as exc:
            raise ConfigError([f"{chosen}: cannot read: {exc.strerror}"]) from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"{chosen}: not valid TOML: {exc}"]) from exc
    return validate_settings(apply_environment(data, env))


__all__ = [
    "PRESETS",
    "AuthSettings",
    "ConfigError",
    "ProviderSettings",
    "ServerSettings",
    "Settings",
    "StorageSettings",
    "load_settings",
    "validate_settings",
]
