"""The command line, run as a user would run it: as a subprocess of the installed script."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import httpx

from tests.conftest import bearer
from tests.support.idp import RESOURCE, TestProvider, free_port
from tests.support.processes import JIRAGUARD
from tests.support.servers import wait_until_serving


def _config(tmp_path: Path, idp: TestProvider | None, port: int = 8080) -> Path:
    path = tmp_path / "jiraguard.toml"
    text = f'[server]\nport = {port}\n[storage]\nurl = "sqlite:///{tmp_path}/jg.db"\n'
    if idp is not None:
        text += (
            f'[[providers]]\nname = "corp"\nmethod = "jwt"\nissuer = "{idp.issuer}"\n'
            f'audience = ["{RESOURCE}"]\n'
            f'[[providers]]\nname = "corp-opaque"\nmethod = "introspection"\n'
            f'issuer = "{idp.issuer}"\nclient_id = "jiraguard"\n'
            'client_secret = "jiraguard-secret"\n'
        )
    path.write_text(text)
    return path


def run(*args: str, config: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIRAGUARD_")}
    return subprocess.run(
        [JIRAGUARD, *args, "--config", str(config)],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        timeout=60,
        check=False,
    )


def test_user_add_list_disable(tmp_path: Path) -> None:
    config = _config(tmp_path, None)
    added = run(
        "user",
        "add",
        "alice",
        "--create-database",
        "--email",
        "a@example.com",
        "--group",
        "jira-users",
        "--display-name",
        "Alice A",
        config=config,
    )
    assert added.returncode == 0, added.stderr
    assert "added alice (JIRAUSER" in added.stdout
    again = run("user", "add", "ALICE", config=config)
    assert again.returncode == 1
    assert "exists already" in again.stderr
    assert run("user", "disable", "alice", config=config).returncode == 0
    listed = run("user", "list", config=config)
    header, row = listed.stdout.splitlines()
    assert header.split() == ["NAME", "KEY", "EMAIL", "GROUPS", "STATE"]
    assert row.split()[0] == "alice"
    assert row.split()[2:] == ["a@example.com", "jira-users", "disabled"]
    assert run("user", "disable", "nobody", config=config).returncode == 1


def test_user_add_password_from_stdin(tmp_path: Path) -> None:
    config = _config(tmp_path, None)
    result = run(
        "user", "add", "carol", "--password", "--create-database", config=config, stdin="s3cret\n"
    )
    assert result.returncode == 0, result.stderr


def test_config_check_reports_all_errors(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[server]\nport = "x"\nnope = 1\n')
    result = run("config", "check", config=config)
    assert result.returncode == 2
    assert "server.port" in result.stderr
    assert "server.nope: unknown key" in result.stderr


def test_config_show_masks_secrets(tmp_path: Path, idp: TestProvider) -> None:
    result = run("config", "show", config=_config(tmp_path, idp))
    assert result.returncode == 0
    assert "jiraguard-secret" not in result.stdout
    assert json.loads(result.stdout)["providers"][1]["client_secret"] == "**********"


def test_check_token_explains_without_printing_the_token(tmp_path: Path, idp: TestProvider) -> None:
    config = _config(tmp_path, idp)
    run("user", "add", "alice", "--create-database", config=config)
    token = idp.jwt_token("alice")
    accepted = run("check-token", "-", config=config, stdin=token + "\n")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    report = json.loads(accepted.stdout)
    assert report["outcome"] == "accepted"
    assert report["provider"] == "corp"
    assert report["user"]["name"] == "alice"
    assert report["attempts"][0]["claims"]["preferred_username"] == "alice"
    assert token not in accepted.stdout + accepted.stderr

    rejected = run("check-token", "opaque-garbage", config=config)
    assert rejected.returncode == 1
    report = json.loads(rejected.stdout)
    assert report["outcome"] == "rejected"
    assert [a["provider"] for a in report["attempts"]] == ["corp-opaque"]


def test_serve_answers_with_a_real_token(tmp_path: Path, idp: TestProvider) -> None:
    """The README's main command: start the server, call the API with a provider's token."""
    port = free_port()
    config = _config(tmp_path, idp, port)
    run("user", "add", "alice", "--create-database", config=config)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIRAGUARD_")}
    process = subprocess.Popen(
        [JIRAGUARD, "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url + "/healthz", process)
        token = idp.jwt_token("alice")
        me = httpx.get(url + "/rest/api/2/myself", headers=bearer(token), timeout=5)
        assert me.status_code == 200
        assert me.json()["name"] == "alice"
        assert me.json()["self"] == f"{url}/rest/api/2/user?username=alice"
        assert httpx.get(url + "/rest/api/2/serverInfo", timeout=5).status_code == 401
        query = httpx.get(url + "/rest/api/2/myself", params={"access_token": token}, timeout=5)
        assert query.status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    assert token not in output.decode()


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = subprocess.run([JIRAGUARD, "--help"], capture_output=True, text=True, check=False)
    for command in ("serve", "user", "check-token", "config"):
        assert command in result.stdout


def test_check_token_names_the_provider_that_cannot_be_reached(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}/introspect"
    config = tmp_path / "jiraguard.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/jg.db"\n'
        f'[[providers]]\nname = "node-intro"\nmethod = "introspection"\n'
        f'introspection_endpoint = "{dead}"\nclient_id = "c"\nclient_secret = "s"\n'
    )
    run("user", "add", "alice", "--create-database", config=config)
    undecided = run("check-token", "opaque-value", config=config)
    assert undecided.returncode == 3
    report = json.loads(undecided.stdout)
    assert report["outcome"] == "undecided"
    assert report["reason"] == (
        f"provider node-intro: the introspection endpoint ({dead}) could not be reached: "
        "ConnectError"
    )
    assert [(a["provider"], a["outcome"]) for a in report["attempts"]] == [
        ("node-intro", "unavailable")
    ]


def test_config_check_says_what_it_verified_per_provider(tmp_path: Path, idp: TestProvider) -> None:
    config = _config(tmp_path, idp)
    checked = run("config", "check", config=config)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    lines = checked.stdout.splitlines()
    assert lines[0] == "configuration OK; providers: corp (jwt), corp-opaque (introspection)"
    discovery = f"{idp.issuer}/.well-known/openid-configuration"
    assert lines[1:4] == [
        f"provider corp: discovery ok: reachable at {discovery}",
        f"provider corp: issuer ok: {idp.issuer} as the discovery document says",
        lines[3],
    ]
    assert re.fullmatch(r"provider corp: keys ok: [1-9]\d* signing key\(s\) in the JWKS", lines[3])
    assert (
        lines[6]
        == f"provider corp-opaque: introspection_endpoint ok: {idp.issuer}/token/introspection"
    )

    # A trailing slash is another issuer: the discovery document says which one it is.
    config.write_text(
        config.read_text().replace(f'issuer = "{idp.issuer}"', f'issuer = "{idp.issuer}/"', 1)
    )
    wrong = run("config", "check", config=config)
    assert wrong.returncode == 1
    assert (
        f"provider corp: issuer FAILED: the discovery document names '{idp.issuer}', "
        f"the configuration '{idp.issuer}/' (they must be equal)"
    ) in wrong.stdout

    dead = f"http://127.0.0.1:{free_port()}"
    config.write_text(config.read_text().replace(idp.issuer, dead))
    down = run("config", "check", config=config)
    assert down.returncode == 1
    assert (
        f"provider corp: discovery FAILED: the discovery document ({dead}/.well-known/"
        "openid-configuration) could not be reached: ConnectError"
    ) in down.stdout
    offline = run("config", "check", "--offline", config=config)
    assert offline.returncode == 0
    assert "provider corp" not in offline.stdout
