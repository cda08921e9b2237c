"""jiraguard's gateway against Apache httpd + mod_auth_openidc, side by side in one run.

    .venv/bin/python -m bench.peer [--duration 5] [--rounds 3] [--connections 32]
                                   [--cases valid noauth bad log]

The peer a user would pick instead of jiraguard's gateway: Apache httpd with mod_proxy and
mod_auth_openidc as an OAuth 2.0 resource server (``AuthType oauth20``, JWTs verified
locally against a JWKS). Both sit in front of the same upstream, with the same keys and the
same tokens:

* the upstream is a stand-in for Jira (:func:`upstream`, uvicorn): every ``GET`` gets the
  same small JSON body (Jira's ``/rest/api/2/myself`` for alice, 171 bytes);
* a local CA (``trustme``) certifies 127.0.0.1, and a Starlette app in this process serves
  the JWKS over HTTPS; both servers are pointed at it and trust only that CA;
* tokens are RS256 JWTs signed here with PyJWT (``iss``, ``aud``, ``exp``, ``kid``,
  ``preferred_username``). Bad tokens carry the same header and claims with a random
  signature, every one distinct (``jti``);
* jiraguard: ``[upstream] url``, ``identity = "trusted_header"``, ``require_local_user =
  false``, one ``jwt`` provider (``issuer``, ``jwks_uri``, ``audience``, ``ca_bundle``);
  log level ``info`` with ``[logging] requests = false`` unless said otherwise, JSON to
  /dev/null;
* Apache: its own config in the temp directory (mpm_event, one child of 64 threads,
  keep-alive without a request limit, no access log), ``/rest/`` behind ``AuthType oauth20``
  with ``Require valid-user`` plus ``Require claim`` for ``iss`` and ``aud`` (jiraguard checks
  both), the user passed as ``X-Forwarded-User`` (``OIDCAuthNHeader``), claims not passed,
  ``Authorization`` removed before the upstream (jiraguard never forwards it either).

Cases, each measured for both servers in turn (who goes first alternates by round), several
rounds, medians; and, first in each round, the upstream alone (wrk straight at it, its own CPU
per request), the ceiling no server in front of it can pass:

1. a valid JWT, the same on every request (jiraguard answers from its cache after the first;
   mod_auth_openidc parses and verifies the JWT on every request and caches only the keys);
2. no authentication: a path outside ``auth.protected_paths`` on jiraguard, a ``Location``
   without auth on Apache (mod_proxy alone);
3. bad signature, a new token on every request (a wrk Lua script walks a file of distinct
   bad tokens; each server starts where its previous run stopped, so jiraguard's negative
   cache never sees a token twice while the file lasts);
4. jiraguard with the request log on ÷ off, valid cached JWT; also both servers loaded at
   once on one core, their CPU per request side by side (:mod:`bench.together`: the same
   stack twice, so the machine's drift between runs is left out of the ratio).

Per case and server: req/s at ``--connections`` (wrk, 1 thread), CPU µs per request of the
server's whole process tree (utime + stime from ``/proc``, over the requests wrk counted), and
p50/p99 at one connection. wrk and the server under test share core 0, the upstream has
core 1 (``taskset``), so both servers get the same CPU and the same upstream.

A third contender in cases 1-3: nginx in front with jiraguard as its forward-auth endpoint
(``deploy/nginx/jiraguard-forward-auth.conf`` as shipped, only its addresses replaced; one
nginx worker; jiraguard with ``[forward_auth] enabled`` and the same provider). nginx carries
the traffic; jiraguard only judges each ``/rest/`` request (and, for a refusal, is asked a
second time for its body, as the shipped configuration does). Its CPU is nginx's and that
jiraguard's together. Case 2 on it is nginx alone.

Not measured: token introspection (RFC 7662) on either side.

Needs wrk, nginx, Apache httpd and mod_auth_openidc: ``apt-get install wrk nginx apache2
libapache2-mod-auth-openidc`` (Debian; mod_auth_openidc 2.4.12). No Node.js.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bench.together import Load, paired, tree_cpu_seconds
from tests.gateway.upstreams import ThreadServer
from tests.support.idp import free_port
from tests.support.servers import wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
JIRAGUARD = str(Path(sys.executable).with_name("jiraguard"))
APACHE = "/usr/sbin/apache2"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_SITE = ROOT / "deploy" / "nginx" / "jiraguard-forward-auth.conf"
APACHE_MODULES = Path("/usr/lib/apache2/modules")
MODULES = {
    "mpm_event_module": "mod_mpm_event.so",
    "authn_core_module": "mod_authn_core.so",
    "authz_core_module": "mod_authz_core.so",
    "authz_user_module": "mod_authz_user.so",  # Require valid-user
    "proxy_module": "mod_proxy.so",
    "proxy_http_module": "mod_proxy_http.so",
    "headers_module": "mod_headers.so",
    "auth_openidc_module": "mod_auth_openidc.so",
}
SECRET = "bench-peer-shared-secret"
AUDIENCE = "https://jira.example.test/rest"
KID = "bench-peer-1"
PROTECTED = "/rest/api/2/myself"
OPEN = "/open/api/2/myself"
ECHO = "/rest/api/2/echo"
CASES = ("valid", "noauth", "bad", "log")
"""The four cases' names, in the order of the module docstring (``--cases``)."""
BAD_TOKENS = 50_000
NEGATIVE_CACHE_TTL = 5.0  # jiraguard's auth.negative_cache_ttl default
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}

MYSELF = json.dumps(
    {
        "self": "http://jira.example.test/rest/api/2/user?username=alice",
        "name": "alice",
        "emailAddress": "alice@example.com",
        "displayName": "Alice A",
        "active": True,
        "timeZone": "UTC",
    },
    separators=(",", ":"),
).encode()


async def upstream(scope: Scope, receive: Receive, send: Send) -> None:
    """The stand-in for Jira: :data:`MYSELF` for every request; :data:`ECHO` answers the
    request headers instead (for the setup check, not measured)."""
    if scope["type"] != "http":
        return
    body = MYSELF
    if scope["path"] == ECHO:
        body = json.dumps({k.decode(): v.decode() for k, v in scope["headers"]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def missing() -> list[str]:
    """What this benchmark needs and does not find, each with the package to install."""
    problems = []
    if shutil.which("wrk") is None:
        problems.append("wrk: apt-get install wrk")
    if not os.access(NGINX, os.X_OK):
        problems.append("nginx: apt-get install nginx")
    if not os.access(APACHE, os.X_OK):
        problems.append(f"{APACHE}: apt-get install apache2")
    for name in MODULES.values():
        if not (APACHE_MODULES / name).exists():
            package = "libapache2-mod-auth-openidc" if "openidc" in name else "apache2"
            problems.append(f"{APACHE_MODULES / name}: apt-get install {package}")
    return problems


# --- keys, tokens, the JWKS over HTTPS ---------------------------------------------------


@dataclass
class Keys:
    ca: Path
    cert: Path
    key: Path
    jwks: dict[str, Any]
    private: rsa.RSAPrivateKey
    fetches: list[str] = field(default_factory=list)


def _keys(workdir: Path) -> Keys:
    authority = trustme.CA()
    leaf = authority.issue_cert("127.0.0.1", "localhost")
    ca, cert, key = workdir / "ca.pem", workdir / "jwks-cert.pem", workdir / "jwks-key.pem"
    authority.cert_pem.write_to_path(str(ca))
    leaf.private_key_pem.write_to_path(str(key))
    with cert.open("wb") as out:
        for blob in leaf.cert_chain_pems:
            out.write(blob.bytes())
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    public.update(kid=KID, use="sig", alg="RS256")
    return Keys(ca, cert, key, {"keys": [public]}, private)


def _jwks_app(keys: Keys) -> Starlette:
    async def jwks(request: Request) -> JSONResponse:
        keys.fetches.append(request.headers.get("user-agent", "?"))
        return JSONResponse(keys.jwks)

    return Starlette(routes=[Route("/jwks", jwks)])


def _claims(issuer: str, jti: str) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": "alice-0001",
        "preferred_username": "alice",
        "iat": now,
        "exp": now + 4 * 3600,
        "jti": jti,
    }


def _valid_token(keys: Keys, issuer: str) -> str:
    pem = keys.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return jwt.encode(_claims(issuer, "valid"), pem, algorithm="RS256", headers={"kid": KID})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _bad_tokens(issuer: str, path: Path, count: int) -> None:
    """``count`` distinct JWTs, well formed and unexpired, each with a random signature."""
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": KID}).encode())
    with path.open("w") as out:
        for i in range(count):
            payload = _b64(json.dumps(_claims(issuer, f"bad-{i}")).encode())
            # Below the 2048-bit modulus (top bit clear), as any real signature is: the
            # verifier does the whole RSA operation and fails on the padding, not earlier
            # on the size.
            signature = bytes([os.urandom(1)[0] & 0x7F]) + os.urandom(255)
            out.write(f"{header}.{payload}.{_b64(signature)}\n")


WALK_TOKENS = """
local tokens, i = {}, 0
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  i = tonumber(args[2]) % #tokens
end
function request()
  i = i % #tokens + 1
  return wrk.format(nil, nil, {["Authorization"] = "Bearer " .. tokens[i]})
end
"""


# --- the servers ----------------------------------------------------------------------------


def _pinned(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") else []


def _jiraguard_config(
    workdir: Path,
    name: str,
    port: int,
    upstream_url: str,
    issuer: str,
    jwks: str,
    ca: Path,
    requests_log: bool,
    forward_auth: bool = False,
) -> Path:
    """The built-in gateway, or (``forward_auth``) the judge of an engine in front."""
    config = workdir / f"{name}.toml"
    where = (
        '[forward_auth]\nenabled = true\ntrusted_peers = ["127.0.0.1/32"]\n[upstream]\n'
        if forward_auth
        else f'[upstream]\nurl = "{upstream_url}"\n'
    )
    config.write_text(
        f'[server]\nport = {port}\ntrusted_proxies = ["127.0.0.1/32"]\n'
        f'[storage]\nurl = "sqlite:///{workdir}/{name}.db"\n'
        f'[tokens]\nbootstrap_token_file = "{workdir}/{name}-admin"\n'
        f'[logging]\nformat = "json"\nlevel = "info"\nrequests = {str(requests_log).lower()}\n'
        f'{where}identity = "trusted_header"\n'
        f'shared_secret = "{SECRET}"\nrequire_local_user = false\n'
        f'[[providers]]\nname = "corp"\nmethod = "jwt"\nissuer = "{issuer}"\n'
        f'jwks_uri = "{jwks}"\naudience = ["{AUDIENCE}"]\nca_bundle = "{ca}"\n'
    )
    return config


def _apache_config(
    workdir: Path, port: int, upstream_url: str, issuer: str, jwks: str, ca: Path
) -> Path:
    """An httpd config of its own: nothing from /etc/apache2 is read."""
    root = workdir / "apache"
    root.mkdir()
    modules = "\n".join(
        f"LoadModule {module} {APACHE_MODULES / name}" for module, name in MODULES.items()
    )
    user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
    config = root / "httpd.conf"
    config.write_text(f"""\
ServerRoot "{root}"
DefaultRuntimeDir "{root}"
PidFile "{root}/httpd.pid"
ErrorLog "{root}/error.log"
LogLevel warn
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
{user}{modules}

StartServers 1
ServerLimit 1
ThreadsPerChild 64
ThreadLimit 64
MaxRequestWorkers 64
MinSpareThreads 1
MaxSpareThreads 64
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30

OIDCCryptoPassphrase bench-peer-passphrase
OIDCCABundlePath "{ca}"
OIDCOAuthSSLValidateServer On
OIDCOAuthVerifyJwksUri "{jwks}"
OIDCOAuthRemoteUserClaim preferred_username
OIDCOAuthTokenExpiryClaim exp absolute mandatory
OIDCPassClaimsAs none

ProxyPass "/" "{upstream_url}/"
RequestHeader unset Authorization

<Location "/rest/">
    AuthType oauth20
    OIDCAuthNHeader X-Forwarded-User
    <RequireAll>
        Require valid-user
        Require claim "iss:{issuer}"
        Require claim "aud:{AUDIENCE}"
    </RequireAll>
</Location>
""")
    return config


def _nginx_config(workdir: Path, port: int, upstream_port: int, judge_port: int) -> Path:
    """The shipped forward-auth site with this run's addresses, in a minimal nginx.conf."""
    root = workdir / "nginx"
    root.mkdir()
    site = NGINX_SITE.read_text()
    for old, new in (
        ("server jira.internal:8080;", f"server 127.0.0.1:{upstream_port};"),
        ("server 127.0.0.1:8081;", f"server 127.0.0.1:{judge_port};"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
    ):
        if old not in site:
            raise RuntimeError(f"{NGINX_SITE} no longer has {old!r}")
        site = site.replace(old, new)
    (root / "site.conf").write_text(site)
    temp = "".join(
        f"{kind}_temp_path {root}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    config = root / "nginx.conf"
    config.write_text(
        f"worker_processes 1;\ndaemon off;\nerror_log {root}/error.log warn;\n"
        f"pid {root}/nginx.pid;\nevents {{ worker_connections 1024; }}\n"
        f"http {{\naccess_log off;\nkeepalive_requests 1000000;\n{temp}"
        f"include {root}/site.conf;\n}}\n"
    )
    return config


def _start(command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Variant:
    case: str
    server: str  # "jiraguard", "apache", "jiraguard, log on"
    pids: tuple[int, ...]  # whose CPU counts (with their children)
    url: str
    token: str | None = None  # the same token on every request
    walk: bool = False  # a new bad token on every request
    expect: int = 200
    offset: int = 0  # where the walk through the bad tokens goes on
    runs: list[dict[str, float]] = field(default_factory=list)
    latency: list[dict[str, float]] = field(default_factory=list)


def _wrk(
    variant: Variant, duration: int, connections: int, script: Path, tokens: Path
) -> dict[str, float]:
    """One wrk run: req/s, requests, p50/p99 (ms); checks every answer had the expected
    status class and the connections held."""
    command = [*_pinned(0), "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    if variant.token is not None:
        command += ["-H", f"Authorization: Bearer {variant.token}"]
    if variant.walk:
        command += ["-s", str(script), variant.url, "--", str(tokens), str(variant.offset)]
    else:
        command.append(variant.url)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rps is None or total is None:
        raise RuntimeError(output)
    if "Socket errors" in output:
        raise RuntimeError(f"{variant.server}, {variant.case}: wrk saw socket errors:\n{output}")
    refused = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    not_ok = int(refused.group(1)) if refused else 0
    wanted = 0 if variant.expect < 300 else int(total.group(1))
    if not_ok != wanted:
        raise RuntimeError(f"{variant.server}, {variant.case}: {not_ok} non-2xx:\n{output}")
    result = {"rps": float(rps.group(1)), "requests": float(total.group(1))}
    for percentile in ("50", "99"):
        match = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if match is None:
            raise RuntimeError(output)
        result[f"p{percentile}"] = float(match.group(1)) * _UNITS[match.group(2)]
    if variant.walk:
        variant.offset += int(total.group(1))
    return result


def _measure(
    variant: Variant, duration: int, connections: int, script: Path, tokens: Path
) -> dict[str, float]:
    before = sum(tree_cpu_seconds(pid) for pid in variant.pids)
    result = _wrk(variant, duration, connections, script, tokens)
    used = sum(tree_cpu_seconds(pid) for pid in variant.pids) - before
    result["cpu_us"] = used / result["requests"] * 1e6
    return result


def _check(variants: list[Variant], echo: dict[str, str], token: str) -> None:
    """Before measuring: every variant answers as intended, once, with httpx."""
    for v in variants:
        if v.walk:
            continue
        headers = {"Authorization": f"Bearer {v.token}"} if v.token else {}
        answer = httpx.get(v.url, headers=headers, timeout=10)
        assert answer.status_code == v.expect, (v.server, v.case, answer.status_code, answer.text)
        if v.expect == 200:
            assert answer.content == MYSELF, (v.server, v.case, answer.content)
    for server, url in echo.items():
        headers = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
        assert headers.get("x-forwarded-user") == "alice", (server, headers)
        assert "authorization" not in headers, (server, headers)
        refused = httpx.get(url, timeout=10)
        assert refused.status_code == 401, (server, refused.status_code)


def run(
    workdir: Path, duration: int, rounds: int, connections: int, only: tuple[str, ...] = CASES
) -> dict[str, Any]:
    keys = _keys(workdir)
    workdir.chmod(0o755)  # Apache's child runs as www-data and reads the CA bundle
    for path in workdir.iterdir():
        path.chmod(0o644)
    jwks_port, upstream_port = free_port(), free_port()
    names = ("jiraguard", "jiraguard_log", "judge", "nginx", "apache")
    ports = {name: free_port() for name in names}
    ports["upstream"] = upstream_port
    issuer = "https://idp.example.test/realms/bench"
    jwks_url = f"https://127.0.0.1:{jwks_port}/jwks"
    upstream_url = f"http://127.0.0.1:{upstream_port}"
    token = _valid_token(keys, issuer)
    tokens, script = workdir / "bad-tokens.txt", workdir / "walk.lua"
    _bad_tokens(issuer, tokens, BAD_TOKENS)
    script.write_text(WALK_TOKENS)
    tokens.chmod(0o644)

    configs = {
        name: _jiraguard_config(
            workdir,
            name,
            ports[name],
            upstream_url,
            issuer,
            jwks_url,
            keys.ca,
            requests_log=name == "jiraguard_log",
            forward_auth=name == "judge",
        )
        for name in ("jiraguard", "jiraguard_log", "judge")
    }
    nginx_config = _nginx_config(workdir, ports["nginx"], upstream_port, ports["judge"])
    apache_config = _apache_config(
        workdir, ports["apache"], upstream_url, issuer, jwks_url, keys.ca
    )
    check = subprocess.run(
        [APACHE, "-t", "-f", str(apache_config)], capture_output=True, text=True, check=False
    )
    if check.returncode != 0:
        raise RuntimeError(f"httpd refuses its config:\n{check.stderr}")

    tls = {"ssl_certfile": str(keys.cert), "ssl_keyfile": str(keys.key)}
    processes: dict[str, subprocess.Popen[bytes]] = {}
    with ThreadServer(_jwks_app(keys), jwks_port, **tls):
        try:
            processes["upstream"] = _start(
                [
                    *_pinned(1),
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "bench.peer:upstream",
                    "--app-dir",
                    str(ROOT),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(upstream_port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                    "--lifespan",
                    "off",
                ]
            )
            for name, config in configs.items():
                processes[name] = _start([*_pinned(0), JIRAGUARD, "serve", "--config", str(config)])
            processes["apache"] = _start(
                [*_pinned(0), APACHE, "-f", str(apache_config), "-DFOREGROUND"]
            )
            processes["nginx"] = _start(
                [*_pinned(0), NGINX, "-p", f"{nginx_config.parent}/", "-c", str(nginx_config)]
            )
            wait_until_serving(f"{upstream_url}/", processes["upstream"])
            for name in configs:
                wait_until_serving(f"http://127.0.0.1:{ports[name]}/healthz", processes[name])
            for name in ("apache", "nginx"):
                wait_until_serving(f"http://127.0.0.1:{ports[name]}{OPEN}", processes[name])
            return _rounds(
                processes, ports, token, tokens, script, keys, duration, rounds, connections, only
            )
        finally:
            for process in reversed(processes.values()):
                _stop(process)
            error_log = workdir / "apache" / "error.log"
            if error_log.exists():
                lines = error_log.read_text(errors="replace").splitlines()
                # Each refused token is two auth_openidc:error lines; anything else that
                # bad is worth seeing.
                worst = (":error]", ":crit]", ":alert]", ":emerg]")
                errors = [
                    line
                    for line in lines
                    if any(level in line for level in worst) and "[auth_openidc:error]" not in line
                ]
                if errors:
                    print("httpd error log (other than token refusals):", *errors[-5:], sep="\n")
            nginx_log = workdir / "nginx" / "error.log"
            if nginx_log.exists() and nginx_log.stat().st_size:
                lines = nginx_log.read_text(errors="replace").splitlines()
                print(f"nginx error log ({len(lines)} lines), the last:", *lines[-5:], sep="\n")


def _rounds(
    processes: dict[str, subprocess.Popen[bytes]],
    ports: dict[str, int],
    token: str,
    tokens: Path,
    script: Path,
    keys: Keys,
    duration: int,
    rounds: int,
    connections: int,
    only: tuple[str, ...],
) -> dict[str, Any]:
    def url(name: str, path: str) -> str:
        return f"http://127.0.0.1:{ports[name]}{path}"

    pid = {name: processes[name].pid for name in processes}
    jg, ap, jl = (pid["jiraguard"],), (pid["apache"],), (pid["jiraguard_log"],)
    fa, ng = (pid["nginx"], pid["judge"]), (pid["nginx"],)
    fa_name, ap_name = "nginx + jiraguard forward-auth", "Apache + mod_auth_openidc"
    # Each case: its contenders, the one the others are divided by last.
    cases = [
        (
            Variant("valid JWT", "jiraguard", jg, url("jiraguard", PROTECTED), token),
            Variant("valid JWT", fa_name, fa, url("nginx", PROTECTED), token),
            Variant("valid JWT", ap_name, ap, url("apache", PROTECTED), token),
        ),
        (
            Variant("no auth", "jiraguard", jg, url("jiraguard", OPEN)),
            Variant("no auth", "nginx", ng, url("nginx", OPEN)),
            Variant("no auth", "Apache mod_proxy", ap, url("apache", OPEN)),
        ),
        (
            Variant(
                "bad signature", "jiraguard", jg, url("jiraguard", PROTECTED), walk=True, expect=401
            ),
            Variant("bad signature", fa_name, fa, url("nginx", PROTECTED), walk=True, expect=401),
            Variant("bad signature", ap_name, ap, url("apache", PROTECTED), walk=True, expect=401),
        ),
        (
            Variant("request log", "jiraguard, log on", jl, url("jiraguard_log", PROTECTED), token),
            Variant("request log", "jiraguard, log off", jg, url("jiraguard", PROTECTED), token),
        ),
    ]
    cases = [group for name, group in zip(CASES, cases, strict=True) if name in only]
    upstream = (pid["upstream"],)
    direct = Variant("upstream alone", "no server in front", upstream, url("upstream", OPEN))
    variants = [direct, *(v for group in cases for v in group)]
    echo = {name: url(name, ECHO) for name in ("jiraguard", "nginx", "apache")}
    _check(variants, echo, token)
    fetches_after_check = len(keys.fetches)
    load_before = os.getloadavg()
    for v in variants:
        _wrk(v, 1, connections, script, tokens)  # warm-up
    for index in range(rounds):
        for group in [(direct,), *cases]:
            ordered = group if index % 2 == 0 else group[::-1]  # who goes first alternates
            for v in ordered:
                v.runs.append(_measure(v, duration, connections, script, tokens))
            for v in ordered:
                v.latency.append(_wrk(v, duration, 1, script, tokens))
    together = None
    if "log" in only:  # the same stack twice: also loaded at once, for the CPU ratio
        auth = {"Authorization": f"Bearer {token}"}
        together = paired(
            Load("log off", pid["jiraguard"], url("jiraguard", PROTECTED), auth),
            Load("log on", pid["jiraguard_log"], url("jiraguard_log", PROTECTED), auth),
            duration,
            connections,
            0,
            rounds,
        )
    for v in variants:
        if v.walk and v.offset > BAD_TOKENS:
            peak = max(r["rps"] for r in v.runs)
            if peak * NEGATIVE_CACHE_TTL > BAD_TOKENS:
                print(
                    f"warning: {v.server} walked past {BAD_TOKENS} bad tokens at {peak:.0f}"
                    " req/s: some came round again within the negative cache's 5 s"
                )
    return {
        "direct": direct,
        "cases": cases,
        "together": together,
        "load": (load_before, os.getloadavg()),
        "jwks_fetches": (fetches_after_check, len(keys.fetches)),
    }


# --- the table ------------------------------------------------------------------------------


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _row(v: Variant) -> str:
    rounds = " / ".join(f"{r['rps']:,.0f}" for r in v.runs)
    return (
        f"| {v.case} | {v.server} | {_median(v.runs, 'rps'):,.0f} "
        f"| {_median(v.runs, 'cpu_us'):,.0f} "
        f"| {_median(v.latency, 'p50'):.2f} / {_median(v.latency, 'p99'):.2f} "
        f"| {rounds} |"
    )


def table(direct: Variant, cases: list[tuple[Variant, ...]], connections: int) -> str:
    lines = [
        f"| case | server | req/s ({connections} conn.) | CPU µs/request | p50 / p99 ms (1 conn.)"
        " | rounds req/s |",
        "|---|---|---:|---:|---:|---|",
        _row(direct),
    ]
    ratios = ["", "| case | req/s ratio | CPU/request ratio | p50 ratio |", "|---|---:|---:|---:|"]
    for group in cases:
        lines += [_row(v) for v in group]
        reference = group[-1]
        for v in group[:-1]:
            ratios.append(
                f"| {v.case}: {v.server} ÷ {reference.server} "
                f"| {_median(v.runs, 'rps') / _median(reference.runs, 'rps'):.2f} "
                f"| {_median(v.runs, 'cpu_us') / _median(reference.runs, 'cpu_us'):.2f} "
                f"| {_median(v.latency, 'p50') / _median(reference.latency, 'p50'):.2f} |"
            )
    return "\n".join(lines + ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--cases", nargs="+", choices=CASES, default=list(CASES), help="the cases to measure"
    )
    args = parser.parse_args()
    problems = missing()
    if problems:
        sys.exit("bench.peer needs:\n  " + "\n  ".join(problems))
    with tempfile.TemporaryDirectory() as tmp:
        result = run(Path(tmp), args.duration, args.rounds, args.connections, tuple(args.cases))
    (before, after) = result["load"]
    print(f"GET {PROTECTED} (cases 1, 3, 4) and {OPEN} (case 2), medians of {args.rounds}")
    print(f"rounds of {args.duration} s; load average {before[0]:.1f} before, {after[0]:.1f} after")
    checked, total = result["jwks_fetches"]
    print(f"JWKS fetches: {checked} during the setup check, {total - checked} while measuring")
    print()
    print(table(result["direct"], result["cases"], args.connections))
    together = result["together"]
    if together is not None:
        rounds = " / ".join(f"{r:.3f}" for r in together["ratio"])
        print(
            "\nrequest log, both servers loaded at once on one core (bench.together), CPU µs per"
            f" request: log off {statistics.median(together['log off']):.0f}, log on"
            f" {statistics.median(together['log on']):.0f}; off ÷ on"
            f" {statistics.median(together['ratio']):.3f} (rounds {rounds})"
        )


if __name__ == "__main__":
    main()
