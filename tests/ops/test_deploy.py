"""The deployment examples in deploy/: checked by the real tools, and against the settings."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jiraguard.settings import Settings, apply_environment, read_config_file, validate_settings
from tests.support.services import missing
from tests.test_cli import JIRAGUARD

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = DEPLOY / "nginx"
UNIT = DEPLOY / "systemd" / "jiraguard.service"
DEFAULT_SHUTDOWN_TIMEOUT = validate_settings({}).server.shutdown_timeout

WRAPPER = """\
events {}
http {
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    include jiraguard.conf;
}
"""


def _self_signed(directory: Path) -> None:
    """``tls/jiraguard.crt`` and ``.key`` for the example's placeholders."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jira.example.com")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    directory.mkdir()
    (directory / "jiraguard.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "jiraguard.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def _nginx_test(prefix: Path, example: str) -> subprocess.CompletedProcess[str]:
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if nginx is None:
        missing("nginx", "install it (apt-get install nginx) to check deploy/nginx")
    (prefix / "tmp").mkdir(exist_ok=True)
    (prefix / "logs").mkdir(exist_ok=True)
    if not (prefix / "tls").exists():
        _self_signed(prefix / "tls")
    shutil.copy(NGINX / "jiraguard-upstream.conf", prefix / "jiraguard-upstream.conf")
    # The one root path in the example (its access log) goes to the test's directory.
    assert "/var/log/nginx/" in example
    (prefix / "jiraguard.conf").write_text(example.replace("/var/log/nginx/", f"{prefix}/logs/"))
    (prefix / "nginx.conf").write_text(WRAPPER)
    return subprocess.run(
        [
            nginx,
            "-t",
            "-e",
            "stderr",
            "-p",
            f"{prefix}/",
            "-c",
            str(prefix / "nginx.conf"),
            "-g",
            f"pid {prefix}/nginx.pid;",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_nginx_example_passes_nginx_t(tmp_path: Path) -> None:
    checked = _nginx_test(tmp_path, (NGINX / "jiraguard.conf").read_text())
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_nginx_t_would_catch_a_broken_example(tmp_path: Path) -> None:
    broken = (NGINX / "jiraguard.conf").read_text().replace("keepalive 32;", "keepalive;")
    checked = _nginx_test(tmp_path, broken)
    assert checked.returncode != 0
    assert "keepalive" in checked.stderr


def _directives(text: str) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def test_nginx_retries_idempotent_requests_only() -> None:
    directives = _directives((NGINX / "jiraguard.conf").read_text())
    assert "proxy_next_upstream error timeout;" in directives
    assert not any("non_idempotent" in line for line in directives)  # never a POST twice
    assert "proxy_set_header X-Request-Id $jiraguard_request_id;" in directives
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in directives
    # Behind the proxy every client is a loopback peer, which /metrics lets in.
    assert "location = /metrics {" in directives


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:  # optional: the unit is an example, systemd is not a test service
        pytest.skip("systemd-analyze is not installed")
    text = UNIT.read_text()
    assert "/opt/jiraguard/venv/bin/jiraguard" in text
    # verify checks that the command exists: point it at the installed one.
    unit = tmp_path / "jiraguard.service"
    unit.write_text(text.replace("/opt/jiraguard/venv/bin/jiraguard", JIRAGUARD))
    checked = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stderr
    # Unknown keys and bad values are only warnings: none may name the unit.
    assert "jiraguard.service" not in checked.stderr, checked.stderr


def test_systemd_waits_longer_than_the_graceful_shutdown() -> None:
    values = dict(re.findall(r"^(\w+)=(.*)$", UNIT.read_text(), re.MULTILINE))
    assert int(values["TimeoutStopSec"]) > DEFAULT_SHUTDOWN_TIMEOUT
    assert values["KillSignal"] == "SIGTERM"
    assert values["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert values["NoNewPrivileges"] == "yes"
    assert values["ProtectSystem"] == "strict"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def _interpolated(value: str) -> str:
    """Compose's ``${NAME:?message}`` and ``${NAME:-default}``, with a stand-in value."""
    return re.sub(r"\$\{(\w+)(?::[-?]([^}]*))?\}", lambda m: f"x{m.group(1).lower()}", value)


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """A service's bind mounts: target in the container → source beside the compose file."""
    return {
        volume.split(":")[1]: volume.split(":")[0]
        for volume in service.get("volumes", [])
        if volume.startswith("./")
    }


def _compose_settings(service: dict[str, Any], environment: dict[str, str]) -> Settings:
    """A jiraguard service's settings: its mounted configuration file, then its environment."""
    source = _mounts(service)[environment["JIRAGUARD_CONFIG"]]
    return validate_settings(apply_environment(read_config_file(DEPLOY / source), environment))


def _servers(upstream: Path) -> list[str]:
    """The ``server host:port ...;`` lines nginx balances over (comments left out)."""
    return re.findall(r"^server ([^\s;]+)", upstream.read_text(), re.MULTILINE)


def test_the_host_upstream_list_is_the_systemd_units_address() -> None:
    """One line per `jiraguard serve`, whatever its workers: the unit's one address."""
    values = dict(re.findall(r"^(\w+)=(.*)$", UNIT.read_text(), re.MULTILINE))
    command = values["ExecStart"].split()
    option = {command[i]: command[i + 1] for i in range(len(command) - 1)}
    assert command[1:3] == ["serve", "--workers"]
    assert _servers(NGINX / "jiraguard-upstream.conf") == [f"{option['--host']}:{option['--port']}"]


def test_the_compose_upstream_list_is_its_jiraguard_services() -> None:
    compose = _compose()
    services = {n: s for n, s in compose["services"].items() if n.startswith("jiraguard-")}
    expected = []
    for name, service in services.items():
        environment = {k: _interpolated(str(v)) for k, v in service["environment"].items()}
        dockerfile = (DEPLOY / "Dockerfile").read_text()
        port = (
            environment.get("JIRAGUARD_SERVER__PORT")
            or re.findall(r"JIRAGUARD_SERVER__PORT=(\d+)", dockerfile)[0]
        )
        expected.append(f"{name}:{port}")
    assert _servers(NGINX / "jiraguard-upstream.compose.conf") == expected
    mounted = _mounts(compose["services"]["nginx"])
    assert (
        mounted["/etc/nginx/jiraguard-upstream.conf"] == "./nginx/jiraguard-upstream.compose.conf"
    )


def test_compose_shows_where_the_providers_go() -> None:
    """The providers are in the configuration file both services mount, validated as the
    server validates it with the compose environment."""
    for name in ("jiraguard-1", "jiraguard-2"):
        service = _compose()["services"][name]
        environment = {k: _interpolated(str(v)) for k, v in service["environment"].items()}
        settings = _compose_settings(service, environment)
        assert [(p.name, p.preset, p.method) for p in settings.providers] == [
            ("corp", "keycloak", "jwt")
        ]
        assert settings.providers[0].client_secret is None  # secrets: deploy/.env only


def test_compose_services_and_their_settings() -> None:
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "jiraguard-1", "jiraguard-2", "nginx"}
    proxy = services["nginx"]["networks"]["backend"]["ipv4_address"]
    for name in ("jiraguard-1", "jiraguard-2"):
        service = services[name]
        environment = {k: _interpolated(str(v)) for k, v in service["environment"].items()}
        assert all(key.startswith("JIRAGUARD_") for key in environment)
        settings = _compose_settings(service, environment)  # no unknown key
        assert settings.storage.url.startswith("postgresql://")
        assert settings.redis.url == "redis://redis:6379/0"
        assert any(ip_address(proxy) in network for network in settings.server.trusted_proxies)
        grace = int(service["stop_grace_period"].removesuffix("s"))
        assert grace > settings.server.shutdown_timeout
        assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
        for dependency in service["depends_on"]:
            assert dependency in services
    for volume in services["nginx"]["volumes"]:
        source = volume.split(":")[0]
        if source != "./tls":  # the operator's certificate
            assert (DEPLOY / source).is_file(), source


def test_dockerfile_runs_unprivileged_with_a_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    instructions = dict(re.findall(r"^([A-Z]+) (.*)$", text, re.MULTILINE))
    assert instructions["FROM"].startswith("python:3.11-slim")
    assert instructions["USER"] not in ("root", "0")
    assert instructions["EXPOSE"] == "8080"
    assert "JIRAGUARD_SERVER__PORT=8080" in text
    assert "/healthz" in text.split("HEALTHCHECK", 1)[1]
    assert instructions["CMD"] == '["jiraguard", "serve", "--workers", "2"]'
