"""Drive the test OpenID provider (``tests/idp/server.mjs``, built on the npm ``oidc-provider``).

The provider runs as a ``node`` subprocess on 127.0.0.1 and keeps everything in memory. A
:class:`TestProvider` writes its JSON config (including the signing JWKS, generated here so a
restart can keep or rotate the keys), starts the process, waits for the discovery document and
offers helpers to mint tokens:

* ``user_token`` / ``jwt_token`` use the custom grant ``urn:jiraguard:test:user-token``: a user
  access token without any browser interaction. With ``resource=RESOURCE`` it is a JWT
  (``typ: at+jwt``, RS256, ``aud`` = ``RESOURCE``), otherwise opaque.
* ``client_credentials_token`` uses the standard ``client_credentials`` grant.

User access tokens carry the account's ``preferred_username``, ``email``, ``name`` and ``groups``
(JWT claims, or members of the introspection response for opaque tokens). Opaque tokens with the
``openid`` scope work at the userinfo endpoint; JWTs are refused there (401) and at introspection
(400 ``unsupported_token_type``).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import uuid
import weakref
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Self
from urllib.parse import quote

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.support.dpop import DPoPKey

IDP_DIR = Path(__file__).resolve().parent.parent / "idp"
"""The folder with ``server.mjs``, ``package.json`` and ``package-lock.json``."""

RESOURCE = "https://jira.example.test/rest"
"""The resource server whose access tokens are JWTs (their ``aud``)."""

USER_TOKEN_GRANT = "urn:jiraguard:test:user-token"
"""The custom grant type that issues a user access token for any account."""

DEFAULT_CLIENT = ("jiraguard", "jiraguard-secret")
"""The product's own client; also the one allowed to call introspection."""

SERVICE_CLIENT = ("service-bot", "service-bot-secret")
"""A second client, for tokens issued to someone other than the product."""

MTLS_CLIENT = ("mtls-bot", "mtls-bot-secret")
"""A client whose tokens are bound to the certificate of its token request (RFC 8705 §3);
the certificate goes to the provider as ``user_token(client_cert=...)``."""

ADMIN_LOGIN_CLIENT = ("jiraguard-admin", "jiraguard-admin-secret")
"""The client of the admin UI's browser login (authorization code + PKCE, loopback redirect)."""

DEFAULT_ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {
        "preferred_username": "alice",
        "email": "alice@example.com",
        "name": "Alice A",
        "groups": ["jira-users"],
    },
    "bob": {
        "preferred_username": "bob",
        "email": "bob@example.com",
        "name": "Bob B",
        "groups": ["jira-users", "jira-administrators"],
    },
}
"""Accounts known by default. Any other account id gets ``preferred_username=<id>``,
``email=<id>@example.com``, ``name=<id>`` and no ``groups``."""

NPM_CI_TIMEOUT = 300.0
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
HTTP_TIMEOUT = 10.0
DISCOVERY_PATH = "/.well-known/openid-configuration"


class ProviderError(RuntimeError):
    """The test provider could not be installed, started or did not answer as expected."""


class NodeUnavailableError(ProviderError):
    """``node`` or ``npm`` is not on PATH."""


def ensure_node_modules(timeout: float = NPM_CI_TIMEOUT) -> None:
    """Install the provider's npm dependencies from the lock file unless they are present.

    Runs ``npm ci --no-audit --no-fund`` in :data:`IDP_DIR` when ``node_modules`` lacks
    ``oidc-provider``. Raises :class:`NodeUnavailableError` when ``node`` or ``npm`` is missing
    and :class:`ProviderError` when the install fails or takes longer than ``timeout`` seconds.
    """
    if shutil.which("node") is None:
        raise NodeUnavailableError("`node` is not on PATH; install Node.js 20 or later")
    if (IDP_DIR / "node_modules" / "oidc-provider" / "package.json").is_file():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise NodeUnavailableError("`npm` is not on PATH; it is needed to install oidc-provider")
    try:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=IDP_DIR,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ProviderError(f"`npm ci` in {IDP_DIR} did not finish within {timeout:g} s") from exc
    if result.returncode != 0:
        raise ProviderError(
            f"`npm ci` in {IDP_DIR} failed with exit code {result.returncode}:\n"
            f"{result.stdout}{result.stderr}"
        )


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def generate_jwks() -> dict[str, Any]:
    """Return a JWKS with one fresh private RS256 signing key (with a random ``kid``)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
    jwk.update(kid=uuid.uuid4().hex, use="sig", alg="RS256")
    return {"keys": [jwk]}


def _shutdown(process: subprocess.Popen[bytes], log: IO[bytes], http: httpx.Client) -> None:
    """Terminate ``process`` (kill it if SIGTERM is not enough), reap it, close its log and
    the HTTP client talking to it."""
    http.close()
    try:
        if process.stdin is not None:
            process.stdin.close()  # the server exits on EOF; SIGTERM below in case it did not
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        log.close()


if TYPE_CHECKING:  # weakref.finalize is generic only for type checkers
    _Finalizer = weakref.finalize[
        [subprocess.Popen[bytes], IO[bytes], httpx.Client], "TestProvider"
    ]


class TestProvider:
    """One test OpenID provider process on ``http://127.0.0.1:<port>``.

    Use as a context manager (``with TestProvider(workdir=tmp_path) as idp: ...``) or call
    :meth:`start` and :meth:`stop`. The process is also stopped when the object is garbage
    collected or the interpreter exits. Config and log files go to ``workdir``
    (``idp-<port>.json``, ``idp-<port>.log``).

    ``accounts`` maps account ids to claims and replaces :data:`DEFAULT_ACCOUNTS`.
    Clients are the server defaults: :data:`DEFAULT_CLIENT` (``client_secret_basic``) and
    :data:`SERVICE_CLIENT` (``client_secret_post``); oidc-provider accepts either secret method
    for both, and this driver always uses HTTP Basic.
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(
        self,
        *,
        issuer_port: int | None = None,
        access_token_ttl: int = 300,
        accounts: dict[str, dict[str, Any]] | None = None,
        workdir: Path,
    ) -> None:
        self.port = issuer_port if issuer_port is not None else free_port()
        self.access_token_ttl = access_token_ttl
        self.accounts = dict(DEFAULT_ACCOUNTS if accounts is None else accounts)
        self.workdir = Path(workdir)
        self.jwks = generate_jwks()
        self._process: subprocess.Popen[bytes] | None = None
        self._finalizer: _Finalizer | None = None
        self._http: httpx.Client | None = None
        self._discovery: dict[str, Any] | None = None
        self._log_offset = 0

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def config_path(self) -> Path:
        """The JSON config file handed to ``server.mjs``."""
        return self.workdir / f"idp-{self.port}.json"

    @property
    def log_path(self) -> Path:
        """The file collecting the provider's stdout and stderr."""
        return self.workdir / f"idp-{self.port}.log"

    @property
    def running(self) -> bool:
        """Whether the provider process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Write the config, start ``node server.mjs`` and wait for the discovery document.

        Installs the npm dependencies first if needed. Raises :class:`ProviderError` (with the
        process output) when the process exits or does not answer within 20 s. Request counts
        (:meth:`stats`) start at zero once this returns.
        """
        if self._process is not None:
            raise ProviderError("the test provider is already started")
        ensure_node_modules()
        node = shutil.which("node")
        if node is None:
            raise NodeUnavailableError("`node` is not on PATH; install Node.js 20 or later")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(json.dumps(self._config(), indent=2), encoding="utf-8")

        log = self.log_path.open("ab")
        self._log_offset = log.tell()
        try:
            process = subprocess.Popen(
                [node, str(IDP_DIR / "server.mjs"), str(self.config_path)],
                cwd=IDP_DIR,
                stdin=subprocess.PIPE,  # the server exits when this pipe closes
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        except BaseException:
            log.close()
            raise
        self._process = process
        self._http = httpx.Client(timeout=HTTP_TIMEOUT, trust_env=False)
        self._finalizer = weakref.finalize(self, _shutdown, process, log, self._http)
        try:
            self._discovery = self._wait_for_discovery(process)
            self.reset_stats()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the provider (closes its stdin, then SIGTERM, SIGKILL after 5 s). Safe to repeat."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._http = None
        self._process = None
        self._discovery = None

    def restart(self, rotate_keys: bool = True) -> None:
        """Stop and start again on the same port and issuer, forgetting every token.

        With ``rotate_keys`` a new signing key (new ``kid``) replaces the old one; otherwise
        the same JWKS is reused, so earlier JWTs still verify against the new ``jwks_uri``.
        """
        self.stop()
        if rotate_keys:
            self.jwks = generate_jwks()
        self.start()

    def __enter__(self) -> Self:
        if self._process is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- endpoints ---------------------------------------------------------------------------

    @property
    def issuer(self) -> str:
        """The issuer identifier, ``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def discovery_url(self) -> str:
        """The OpenID discovery document URL."""
        return self.issuer + DISCOVERY_PATH

    @property
    def discovery(self) -> dict[str, Any]:
        """The discovery document fetched at start."""
        if self._discovery is None:
            raise ProviderError("the test provider is not started")
        return self._discovery

    @property
    def jwks_uri(self) -> str:
        """``jwks_uri`` from discovery (``/jwks``)."""
        return str(self.discovery["jwks_uri"])

    @property
    def token_endpoint(self) -> str:
        """``token_endpoint`` from discovery (``/token``)."""
        return str(self.discovery["token_endpoint"])

    @property
    def introspection_endpoint(self) -> str:
        """``introspection_endpoint`` from discovery (``/token/introspection``)."""
        return str(self.discovery["introspection_endpoint"])

    @property
    def revocation_endpoint(self) -> str:
        """``revocation_endpoint`` from discovery (``/token/revocation``)."""
        return str(self.discovery["revocation_endpoint"])

    @property
    def userinfo_endpoint(self) -> str:
        """``userinfo_endpoint`` from discovery (``/me``)."""
        return str(self.discovery["userinfo_endpoint"])

    # -- tokens ------------------------------------------------------------------------------

    def user_token(
        self,
        account: str,
        *,
        scope: str = "openid profile email",
        resource: str | None = None,
        client: tuple[str, str] = DEFAULT_CLIENT,
        dpop: DPoPKey | None = None,
        client_cert: str | None = None,
        sign_in: dict[str, str] | None = None,
    ) -> str:
        """Issue a user access token for ``account`` to ``client`` (no interaction).

        Opaque unless ``resource`` is :data:`RESOURCE`, in which case it is a JWT. Any other
        ``resource`` is refused by the provider (``invalid_target``). With ``dpop`` the token
        request carries a proof of that key and the token is DPoP-bound (``cnf.jkt``); with
        ``client_cert`` (PEM, for :data:`MTLS_CLIENT`) it is bound to that certificate
        (``cnf.x5t#S256``). ``sign_in`` sets ``acr``, ``amr`` (space-separated) and
        ``auth_time`` claims.
        """
        data = {"grant_type": USER_TOKEN_GRANT, "account": account, "scope": scope}
        data.update(sign_in or {})
        if resource is not None:
            data["resource"] = resource
        headers = {}
        if dpop is not None:
            headers["DPoP"] = dpop.proof("POST", self.token_endpoint)
        if client_cert is not None:
            headers["X-Test-Client-Cert"] = quote(client_cert, safe="")
        return self._token_request(data, client, headers)

    def jwt_token(self, account: str, scope: str = "openid profile email jira:read") -> str:
        """Issue a JWT user access token for ``account`` with ``aud`` = :data:`RESOURCE`."""
        return self.user_token(account, scope=scope, resource=RESOURCE)

    def client_credentials_token(
        self,
        client_id: str,
        client_secret: str,
        *,
        scope: str = "jira:read",
        resource: str | None = None,
    ) -> str:
        """Issue a ``client_credentials`` access token (JWT when ``resource`` is given).

        It has no user: ``sub`` and ``client_id`` are the client id. Scopes the provider does
        not know are silently dropped.
        """
        data = {"grant_type": "client_credentials", "scope": scope}
        if resource is not None:
            data["resource"] = resource
        return self._token_request(data, (client_id, client_secret))

    def revoke(self, token: str, client: tuple[str, str] = DEFAULT_CLIENT) -> None:
        """Revoke an opaque access token (any client may revoke any client's token)."""
        response = self._client.post(
            self.revocation_endpoint, data={"token": token}, auth=httpx.BasicAuth(*client)
        )
        self._check(response)

    # -- request counts ----------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        """Requests per path that reached oidc-provider since start or :meth:`reset_stats`.

        Keys are request paths without query, e.g. ``/token``, ``/token/introspection``,
        ``/token/revocation``, ``/me``, ``/jwks``, ``/.well-known/openid-configuration``.
        """
        response = self._client.get(f"{self.issuer}/test/stats")
        self._check(response)
        counts: dict[str, int] = response.json()
        return counts

    def reset_stats(self) -> None:
        """Set every request count back to zero."""
        self._check(self._client.post(f"{self.issuer}/test/stats/reset"))

    # -- internals ---------------------------------------------------------------------------

    @property
    def _client(self) -> httpx.Client:
        if self._http is None:
            raise ProviderError("the test provider is not started")
        return self._http

    def _config(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "issuer": self.issuer,
            "jwks": self.jwks,
            "accessTokenTTL": self.access_token_ttl,
            "clockTolerance": 0,
            "resource": RESOURCE,
            "accounts": self.accounts,
            "exitWithStdin": True,
        }

    def _output(self) -> str:
        """What the current process wrote so far (the log is shared across restarts)."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                return log.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def _wait_for_discovery(self, process: subprocess.Popen[bytes]) -> dict[str, Any]:
        deadline = time.monotonic() + START_TIMEOUT
        last_error = "no answer yet"
        ready_line = f"ready {self.issuer}\n"
        while True:
            code = process.poll()
            if code is not None:
                raise ProviderError(
                    f"the test provider exited with code {code} while starting:\n{self._output()}"
                )
            # The "ready" line proves that this process (not another one on the same port)
            # is listening; only then is the discovery document worth asking for.
            if ready_line in self._output():
                try:
                    response = self._client.get(self.discovery_url, timeout=1.0)
                except httpx.TransportError as exc:
                    last_error = repr(exc)
                else:
                    if response.status_code == httpx.codes.OK:
                        document: dict[str, Any] = response.json()
                        return document
                    last_error = f"HTTP {response.status_code}"
            if time.monotonic() > deadline:
                raise ProviderError(
                    f"the test provider did not answer {self.discovery_url} within "
                    f"{START_TIMEOUT:g} s ({last_error}):\n{self._output()}"
                )
            time.sleep(0.05)

    def _token_request(
        self, data: dict[str, str], client: tuple[str, str], headers: dict[str, str] | None = None
    ) -> str:
        response = self._client.post(
            self.token_endpoint, data=data, auth=httpx.BasicAuth(*client), headers=headers
        )
        self._check(response)
        token: str = response.json()["access_token"]
        return token

    @staticmethod
    def _check(response: httpx.Response) -> None:
        if response.is_success:
            return
        raise ProviderError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}: {response.text}"
        )


__all__ = [
    "DEFAULT_ACCOUNTS",
    "DEFAULT_CLIENT",
    "IDP_DIR",
    "MTLS_CLIENT",
    "RESOURCE",
    "SERVICE_CLIENT",
    "USER_TOKEN_GRANT",
    "NodeUnavailableError",
    "ProviderError",
    "TestProvider",
    "ensure_node_modules",
    "free_port",
    "generate_jwks",
]
