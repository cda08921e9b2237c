"""The sections of the configuration and the one :class:`Settings` object they make."""

from __future__ import annotations

import re
import ssl
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Literal

from pydantic import Field, FilePath, SecretStr, field_validator, model_validator

from jiraguard.oauth1 import OAuth1Error, load_rsa_private_key, load_rsa_public_key
from jiraguard.settings.common import (
    CABundle,
    DPoPAlgorithm,
    HttpMethod,
    Network,
    Seconds,
    Section,
    check_rate,
)
from jiraguard.settings.providers import ProviderSettings


class ServerSettings(Section):
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
    changes_poll_interval: float = Field(1.0, gt=0, le=60)
    """How often this process reads the change feed (configuration saved, users disabled)
    from the database. With Redis a change arrives at once by pub/sub; reading the feed
    still catches what a lost message missed."""
    workers: int = Field(1, ge=1, le=64)
    """Worker processes ``jiraguard serve`` starts on the one port; each has its own database
    pool and in-memory cache (share them through PostgreSQL and Redis)."""
    shutdown_timeout: int = Field(30, ge=1, le=3600)
    """On SIGTERM or SIGINT: seconds in-flight requests get to finish (no new ones are
    accepted) before they are cut off."""
    tls_cert: FilePath | None = None
    """PEM certificate (with its chain) to serve HTTPS with; unset = plain HTTP."""
    tls_key: FilePath | None = None
    """PEM private key of ``tls_cert``, when it is not in the same file."""
    tls_client_ca: CABundle | None = None
    """PEM file of the CAs whose client certificates are asked for during the TLS handshake
    (for certificate-bound tokens, RFC 8705)."""
    tls_client_auth: Literal["optional", "required"] = "optional"
    """With ``tls_client_ca``: whether a connection without a client certificate is refused
    at the handshake (``required``) or served (``optional``: only bound tokens need one)."""
    client_cert_header: str | None = None
    """Behind a proxy that terminates TLS: the header it puts the client certificate in, URL
    escaped PEM (nginx ``$ssl_client_escaped_cert``). Read only from ``trusted_proxies``."""

    @model_validator(mode="after")
    def _tls_complete(self) -> ServerSettings:
        if self.tls_key is not None and self.tls_cert is None:
            raise ValueError("tls_key needs tls_cert")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ValueError("tls_client_ca needs tls_cert (client certificates need TLS)")
        if self.tls_cert is not None:
            try:
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                key = str(self.tls_key) if self.tls_key is not None else None
                context.load_cert_chain(str(self.tls_cert), key)
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(
                    "tls_cert (with tls_key) is not a PEM certificate and its key"
                ) from exc
        return self

    @property
    def public_url(self) -> str:
        scheme = "https" if self.tls_cert is not None else "http"
        return (self.base_url or f"{scheme}://{self.host}:{self.port}").rstrip("/")


class StorageSettings(Section):
    url: str = "sqlite:///jiraguard.db"
    """Database URL: ``sqlite:///path.db`` (default) or ``postgresql://user@host/db``."""
    pool_size: int = Field(10, ge=1, le=1000)
    """PostgreSQL connections of each of this process's two pools (the issue reads and
    searches run in worker threads, everything else on the event loop): N processes use up
    to 2 x N x pool_size of the server's ``max_connections``."""
    prepared_statements: bool = True
    """PostgreSQL: let psycopg prepare the statements a connection runs often (PostgreSQL
    then stops planning them). Turn off behind a pooler in transaction mode that does not
    track prepared statements (PgBouncer before 1.21, or without ``max_prepared_statements``)."""

    @model_validator(mode="after")
    def _known_database(self) -> StorageSettings:
        if not self.url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("storage.url must start with sqlite:// or postgresql://")
        return self


class BasicExceptions(Section):
    """Who may still use Basic authentication while it is blocked (break-glass, legacy tools).

    An exception applies when the request matches ANY entry: its user, a group of its user, a
    path glob, or a client network.
    """

    users: list[str] = []
    groups: list[str] = []
    paths: list[str] = []
    """Path globs (``fnmatch``), e.g. ``/rest/api/2/serverInfo``."""
    networks: list[Network] = []


class AuthSettings(Section):
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
    protected_paths: tuple[str, ...] = ("/rest/",)
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
    ca_bundle: CABundle | None = None
    """PEM file of the CA certificates to trust for every provider (an internal CA), instead
    of the system's; a provider's own ``ca_bundle`` wins."""
    dpop_algorithms: list[DPoPAlgorithm] = ["ES256", "EdDSA", "PS256", "RS256"]
    """Signature algorithms accepted on DPoP proofs (RFC 9449 §4.2; asymmetric only), also
    announced in the ``DPoP algs`` challenge."""
    dpop_max_age: Seconds = Field(300.0, gt=0, le=3600)
    """A DPoP proof's ``iat`` may be this many seconds old at most (``leeway`` into the
    future); its ``jti`` is remembered as long, so a proof is accepted once."""
    dpop_leeway: Seconds = Field(5.0, le=300)
    """Clock skew allowed on a DPoP proof's ``iat``."""
    dpop_nonce: bool = False
    """Require a server nonce in DPoP proofs (RFC 9449 §9): a proof without a current one is
    refused with ``use_dpop_nonce`` and a fresh ``DPoP-Nonce`` header."""
    dpop_replay_cache_size: int = Field(100_000, ge=100)
    """Most proof ids remembered in this process without Redis (with Redis: shared there)."""


class RateLimits(Section):
    """Token-bucket limits, e.g. ``"600/minute"``; unset means unlimited."""

    per_user: str | None = None
    per_client: str | None = None
    """Per OAuth client id (``client_id``/``azp``)."""
    per_token: str | None = None

    _valid = field_validator("per_user", "per_client", "per_token")(check_rate)


class Rule(Section):
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
    require_sender_constrained: bool = False
    """Admit only sender-constrained tokens here (DPoP-bound with a valid proof, or bound to
    the connection's client certificate); others get 401 ``invalid_token``."""
    require_acr: list[str] = []
    """Step-up (RFC 9470): the token's ``acr`` must be one of these."""
    require_amr: list[str] = []
    """Step-up: the token's ``amr`` must contain all of these methods (e.g. ``mfa``)."""
    max_auth_age: Seconds | None = None
    """Step-up: the user must have authenticated (``auth_time``) at most this long ago."""
    rate_limit: str | None = None
    """A per-user limit for requests this rule admits, on top of the global ones."""

    _valid = field_validator("rate_limit")(check_rate)

    @model_validator(mode="after")
    def _public_needs_no_user(self) -> Rule:
        if self.action == "public" and (
            self.groups
            or self.require_groups
            or self.deny_groups
            or self.require_scopes
            or self.require_sender_constrained
            or self.require_acr
            or self.require_amr
            or self.max_auth_age is not None
        ):
            raise ValueError("a public rule cannot depend on the user (groups, scopes)")
        return self


class UpstreamSettings(Section):
    """Gateway mode: forward authenticated calls to an existing Jira at ``url``."""

    url: str | None = None
    """Base URL of the Jira to proxy to (with its context path); unset = embedded mode."""
    identity: Literal["trusted_header", "service_account", "oauth1_impersonation"] = (
        "trusted_header"
    )
    """How Jira learns who the caller is: a signed header, a service account's credentials
    with the real caller in an audit header (Jira then sees the service account), or
    two-legged OAuth 1.0a with user impersonation through an incoming Generic Application
    link (``oauth1_impersonation``: Jira sees the caller, no plugin needed)."""
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
    consumer_key: str | None = None
    """With oauth1_impersonation: the Consumer Key of the application link's incoming
    authentication in Jira."""
    private_key_file: Path | None = None
    """With oauth1_impersonation: PEM file of the RSA private key whose public key is the
    link's Public Key (unencrypted, PKCS#8 or PKCS#1). Set this or ``private_key``."""
    private_key: SecretStr | None = None
    """With oauth1_impersonation: that PEM key itself (``JIRAGUARD_UPSTREAM__PRIVATE_KEY``);
    never logged, shown or exported."""
    requestor_parameter: Literal["xoauth_requestor_id", "user_id"] = "xoauth_requestor_id"
    """With oauth1_impersonation: the query parameter naming the user Jira runs the request
    as. Jira reads ``xoauth_requestor_id``, then ``user_id``; a client's own are removed."""
    user_check_ttl: Seconds = 300.0
    """With oauth1_impersonation: seconds the gateway trusts that Jira knows a user (Jira
    runs a request for a name it does not know as anonymous instead of refusing it)."""
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
    pass_jira_credentials: bool = False
    """Let Jira's own credentials through: a bearer token no provider and no jiraguard token
    accounts for (a Jira personal access token), or a Basic login that ``auth`` exempts, is
    checked by asking Jira who it is (``GET /rest/api/2/myself``, cached like an
    introspection answer) and then forwarded with its own ``Authorization``, so Jira decides
    as it always did. Access rules, rate limits and the audit log apply as to everyone."""
    ca_bundle: CABundle | None = None
    """PEM file of the CA certificates that sign Jira's TLS certificate (an internal CA),
    instead of the system's."""
    client_cert: FilePath | None = None
    """PEM client certificate (with its chain) for mutual TLS to Jira."""
    client_key: FilePath | None = None
    """PEM private key of ``client_cert``, when it is not in the same file."""

    @field_validator("private_key_file")
    @classmethod
    def _private_key_file_loads(cls, path: Path | None) -> Path | None:
        if path is not None:
            _check_private_key(read_key_file(path))
        return path

    @field_validator("private_key")
    @classmethod
    def _private_key_loads(cls, key: SecretStr | None) -> SecretStr | None:
        if key is not None:
            _check_private_key(key.get_secret_value().encode("utf-8"))
        return key

    def private_key_pem(self) -> bytes | None:
        """The PEM of the OAuth 1.0a private key (read from its file when given as one)."""
        if self.private_key is not None:
            return self.private_key.get_secret_value().encode("utf-8")
        return read_key_file(self.private_key_file) if self.private_key_file else None

    @model_validator(mode="after")
    def _identity_complete(self) -> UpstreamSettings:
        if self.url is None:
            return self
        if not re.match(r"^https?://[^/?#]+(/[^?#]*)?$", self.url):
            raise ValueError("url must be http(s)://host[:port][/context-path], without a query")
        if self.client_key is not None and self.client_cert is None:
            raise ValueError("client_key needs client_cert")
        if self.client_cert is not None:
            try:
                context = ssl.create_default_context()
                key = str(self.client_key) if self.client_key is not None else None
                context.load_cert_chain(str(self.client_cert), key)
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(
                    "client_cert (with client_key) is not a PEM certificate and its key"
                ) from exc
        if self.identity == "trusted_header" and not self.shared_secret:
            raise ValueError("identity = trusted_header needs shared_secret")
        if self.identity == "service_account" and not (
            self.service_account_token
            or (self.service_account_user and self.service_account_password)
        ):
            raise ValueError(
                "identity = service_account needs service_account_token or user and password"
            )
        if self.identity == "oauth1_impersonation":
            if not self.consumer_key:
                raise ValueError("identity = oauth1_impersonation needs consumer_key")
            if (self.private_key_file is None) == (self.private_key is None):
                raise ValueError(
                    "identity = oauth1_impersonation needs exactly one of private_key_file "
                    "and private_key"
                )
        return self


def read_key_file(path: Path) -> bytes:
    """A key file's bytes; ValueError (naming the file, not its content) when unreadable."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror}") from None


def _check_private_key(pem: bytes) -> None:
    try:
        load_rsa_private_key(pem)
    except OAuth1Error as exc:
        raise ValueError(f"{exc} (an unencrypted PEM RSA private key is needed)") from None


def _check_public_key(pem: bytes) -> None:
    try:
        load_rsa_public_key(pem)
    except OAuth1Error as exc:
        raise ValueError(f"{exc} (a PEM RSA public key is needed)") from None


class OAuth1ConsumerSettings(Section):
    """One consumer allowed to call the embedded server with two-legged OAuth 1.0a, like an
    incoming Generic Application link in Jira."""

    consumer_key: str = Field(min_length=1)
    """The ``oauth_consumer_key`` it signs with."""
    name: str = Field(min_length=1)
    """A name for logs and the audit (the application link's name)."""
    public_key: str | None = None
    """Its RSA public key, PEM (``-----BEGIN PUBLIC KEY-----``). Set this or
    ``public_key_file``."""
    public_key_file: Path | None = None
    """PEM file of its RSA public key."""
    allow_two_legged: bool = True
    """Accept two-legged requests from it (Jira: "Allow 2-Legged OAuth")."""
    allow_impersonation: bool = False
    """Let it name the user a request runs as (``xoauth_requestor_id``; Jira: "Allow user
    impersonation through 2-Legged OAuth", off by default there too)."""

    @field_validator("public_key")
    @classmethod
    def _public_key_loads(cls, key: str | None) -> str | None:
        if key is not None:
            _check_public_key(key.encode("utf-8"))
        return key

    @field_validator("public_key_file")
    @classmethod
    def _public_key_file_loads(cls, path: Path | None) -> Path | None:
        if path is not None:
            _check_public_key(read_key_file(path))
        return path

    @model_validator(mode="after")
    def _one_key(self) -> OAuth1ConsumerSettings:
        if (self.public_key is None) == (self.public_key_file is None):
            raise ValueError("a consumer needs exactly one of public_key and public_key_file")
        return self

    def public_key_pem(self) -> bytes:
        """The PEM of the consumer's public key (read from its file when given as one)."""
        if self.public_key is not None:
            return self.public_key.encode("utf-8")
        assert self.public_key_file is not None  # validation ensures one of them
        return read_key_file(self.public_key_file)


class OAuth1Settings(Section):
    """Embedded mode: accept two-legged OAuth 1.0a (RSA-SHA1) requests from known consumers,
    with the rules of Jira's incoming application links."""

    enabled: bool = False
    max_age: Seconds = 300.0
    """Largest accepted difference between ``oauth_timestamp`` and now, either way; a nonce
    is remembered this long."""
    consumers: list[OAuth1ConsumerSettings] = []

    @model_validator(mode="after")
    def _unique_consumers(self) -> OAuth1Settings:
        keys = [c.consumer_key for c in self.consumers]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"consumer keys must be unique: {', '.join(duplicates)}")
        if self.enabled and not self.consumers:
            raise ValueError("oauth1 needs at least one consumer when enabled")
        return self


class ForwardAuthSettings(Section):
    """Forward authentication: an engine in front of Jira (nginx ``auth_request``, Caddy
    ``forward_auth``, Traefik ``ForwardAuth``, Envoy ``ext_authz``) asks jiraguard about each
    request and copies the identity headers of a 2xx answer into the request to Jira. The
    identity is the one ``[upstream]`` describes (``trusted_header`` or ``service_account``)."""

    enabled: bool = False
    path: str = Field("/_jiraguard/auth", pattern=r"^/[A-Za-z0-9._~/-]*[A-Za-z0-9._~-]$")
    """Where the engine asks. Envoy appends the original path to it
    (``/_jiraguard/auth/rest/api/2/myself``); the others send it in headers."""
    trusted_peers: list[Network] = [IPv4Network("127.0.0.0/8"), IPv6Network("::1/128")]
    """Only these peers (the engines' addresses) may ask: they say which request is judged."""
    refusal_ttl: Seconds = 10.0
    """Seconds a refusal is kept by request id (``X-Request-Id``), for an engine configured
    to fetch its body and headers a second time (``X-Jiraguard-Refusal: fetch-again``, an
    earlier nginx arrangement) without the request being judged twice."""


class SignedIdentitySettings(Section):
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


class TokenSettings(Section):
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


class AuditSettings(Section):
    """The audit log of authentication decisions and configuration/token changes."""

    enabled: bool = True
    record_allowed: bool = True
    """Record accepted requests too, not only refusals."""
    retention_days: int = Field(90, ge=1)
    max_rows: int = Field(1_000_000, ge=1000)
    flush_interval: Seconds = 1.0
    """Records are written in batches at most this far apart (never on the request path)."""
    batch_size: int = Field(500, ge=1)


class RedisSettings(Section):
    """Shared state for N processes: the principal cache and rate-limit counters."""

    url: str | None = None
    """``redis://host:port/db`` (or ``rediss://``); unset = no Redis, everything in memory."""
    key_prefix: str = "jiraguard:"
    """Prepended to every key, so several deployments can share one Redis."""
    socket_timeout: float = Field(0.5, gt=0, le=30)
    """Seconds for any one Redis call (connect included); past it Redis counts as down."""
    cache_key: SecretStr | None = None
    """Authenticates the shared principal cache's entries (HMAC-SHA256), the same in every
    process; unset, a key is derived from ``storage.url`` (secret only if the URL is)."""

    @field_validator("url")
    @classmethod
    def _redis_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return url


class MetricsSettings(Section):
    """Prometheus metrics at ``path``.

    With ``token`` set, a scrape needs ``Authorization: Bearer <token>``; without one,
    ``/metrics`` answers loopback clients (127.0.0.0/8, ::1) only, so counters are never
    public by accident.
    """

    enabled: bool = True
    path: str = Field("/metrics", pattern=r"^/[A-Za-z0-9_./-]*$")
    """Where the metrics are served (outside ``/rest/``, so not behind authentication)."""
    token: SecretStr | None = None
    """Bearer token a scraper must send; unset = loopback clients only."""


class LoggingSettings(Section):
    """Log records on stderr: uvicorn's, the libraries' and ours, one format for all."""

    format: Literal["auto", "json", "text"] = "auto"
    """``json`` (one object per line), ``text`` (for people), or ``auto``: text when stderr is
    a terminal, JSON otherwise."""
    level: Literal["debug", "info", "warning", "error"] = "info"
    requests: bool = True
    """One line per request at INFO: request id, method, route, user, provider, decision,
    status and latency (never a token, header value or query string)."""


class AdminSettings(Section):
    """The admin web UI at ``/admin``: who may use it and how its sessions behave."""

    enabled: bool = True
    """Serve the admin UI (off: ``/admin`` is 404)."""
    groups: list[str] = ["jira-administrators"]
    """Members of any of these groups may use the UI; users with the ``admin`` flag also may."""
    session_lifetime: Seconds = Field(8 * 3600.0, gt=0)
    """Seconds a login lasts; the session is kept in the database, so every process shares it."""
    cookie_secure: Literal["auto", "always", "never"] = "auto"
    """``auto``: the session cookie is ``Secure`` when the request came over HTTPS or
    ``server.base_url`` is https."""
    login_provider: str | None = None
    """Name of the provider administrators log in with in the browser (authorization code +
    PKCE, OpenID Connect); unset = local passwords only."""
    client_id: str | None = None
    """The OAuth client registered at that provider for the admin UI; its redirect URI is
    ``<server.base_url>/admin/login/callback``."""
    client_secret: SecretStr | None = None
    """That client's secret (unset: a public client, PKCE only)."""
    scopes: list[str] = ["openid", "profile", "email"]
    """Scopes asked for at login (``openid`` is always included)."""
    bootstrap_reachable_by_tokens: bool = False
    """Whether a provider token whose username is the bootstrap administrator's
    (``tokens.bootstrap_admin``, ``admin``) may act as it. Off: an identity-provider account
    that happens to be named ``admin`` does not become jiraguard's first administrator."""

    @model_validator(mode="after")
    def _login_client(self) -> AdminSettings:
        if self.login_provider and not self.client_id:
            raise ValueError("login_provider needs client_id")
        return self


def _forward_auth_identity(upstream: UpstreamSettings) -> None:
    """What forward authentication can answer: an identity the engine copies as headers."""
    if upstream.identity == "oauth1_impersonation":
        raise ValueError(
            "forward_auth cannot express upstream.identity = oauth1_impersonation (the query "
            "and the signature change per request): use the built-in gateway for it"
        )
    if upstream.identity == "trusted_header" and not upstream.shared_secret:
        raise ValueError("forward_auth with identity = trusted_header needs upstream.shared_secret")
    if upstream.identity == "service_account" and not (
        upstream.service_account_token
        or (upstream.service_account_user and upstream.service_account_password)
    ):
        raise ValueError("forward_auth with identity = service_account needs its credentials")


class Settings(Section):
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
    oauth1: OAuth1Settings = OAuth1Settings()
    forward_auth: ForwardAuthSettings = ForwardAuthSettings()
    redis: RedisSettings = RedisSettings()
    metrics: MetricsSettings = MetricsSettings()
    logging: LoggingSettings = LoggingSettings()
    admin: AdminSettings = AdminSettings()

    @model_validator(mode="after")
    def _unique_providers(self) -> Settings:
        names = [p.name.lower() for p in self.providers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"provider names must be unique: {', '.join(duplicates)}")
        issuers = [
            issuer
            for p in self.providers
            if p.enabled and p.method == "jwt"
            for issuer in dict.fromkeys((p.issuer, *p.issuers))
        ]
        shared = sorted({i for i in issuers if i is not None and issuers.count(i) > 1})
        if shared:
            raise ValueError(f"two jwt providers share the issuer {shared[0]}")
        if self.forward_auth.enabled:
            _forward_auth_identity(self.upstream)
        login = self.admin.login_provider
        if login is not None:
            chosen = next((p for p in self.providers if p.name.lower() == login.lower()), None)
            if chosen is None or not (chosen.issuer or chosen.discovery_url):
                raise ValueError(
                    f"admin.login_provider {login!r} must name a provider with an issuer"
                )
        return self
