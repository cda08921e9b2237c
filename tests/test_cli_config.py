"""Every command finds the server's configuration the same way and composes it as the server
does: ``--config``, then ``$JIRAGUARD_CONFIG``, then ``./jiraguard.toml``; file < admin UI <
environment. Run as a user would: the installed script, from other directories."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

from jiraguard.config_store import ConfigStore
from jiraguard.store.db import Database
from tests.support.idp import RESOURCE, TestProvider
from tests.support.processes import JIRAGUARD


def jiraguard(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("JIRAGUARD_")}
    return subprocess.run(
        [JIRAGUARD, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=stdin,
        env={**environ, **(env or {})},
        timeout=60,
        check=False,
    )


def _site(tmp_path: Path) -> Path:
    """A directory with the server's jiraguard.toml, its database elsewhere."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "jiraguard.toml").write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/server.db"\n'
        '[[providers]]\nname = "file-corp"\nmethod = "jwt"\nissuer = "https://file.example"\n'
        'audience = ["jira"]\n'
    )
    return site


def _save_from_ui(tmp_path: Path, site: Path, idp: TestProvider) -> None:
    """What the admin UI's save does: a document with providers and rules in the database."""
    document = {
        "providers": [
            {
                "name": "ui-corp",
                "method": "jwt",
                "issuer": idp.issuer,
                "audience": [RESOURCE],
            }
        ],
        "rules": [
            {"name": "no-admin-api", "paths": ["/rest/api/2/admin/*"], "action": "deny"},
            {"name": "readers", "paths": ["/rest/*"], "action": "allow"},
        ],
    }

    async def save() -> None:
        db = Database(f"sqlite:///{tmp_path}/server.db")
        try:
            store = ConfigStore(db, {"storage": {"url": f"sqlite:///{tmp_path}/server.db"}}, {})
            await store.save(document, actor="root")
        finally:
            await db.close()

    asyncio.run(save())


def test_a_command_elsewhere_refuses_to_create_an_empty_database(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    refused = jiraguard("user", "add", "carol", cwd=elsewhere)
    assert refused.returncode == 1
    assert "this command would create a new empty one" in refused.stderr
    assert f"sqlite:///{elsewhere}/jiraguard.db does not exist" in refused.stderr
    assert "--create-database" in refused.stderr
    assert not (elsewhere / "jiraguard.db").exists()

    created = jiraguard("user", "add", "carol", "--create-database", cwd=elsewhere)
    assert created.returncode == 0, created.stderr
    assert (elsewhere / "jiraguard.db").exists()
    assert "configuration none (defaults and environment only)" in created.stderr
    assert f"storage sqlite:///{elsewhere}/jiraguard.db (new)" in created.stderr


def test_every_command_finds_the_same_file_and_says_which(tmp_path: Path) -> None:
    site = _site(tmp_path)
    added = jiraguard("user", "add", "alice", "--create-database", cwd=site)
    assert added.returncode == 0, added.stderr
    config = site / "jiraguard.toml"
    assert f"configuration {config} (./jiraguard.toml)" in added.stderr
    assert f"storage sqlite:///{tmp_path}/server.db" in added.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    by_env = jiraguard("user", "list", cwd=elsewhere, env={"JIRAGUARD_CONFIG": str(config)})
    assert by_env.returncode == 0, by_env.stderr
    assert f"configuration {config} (JIRAGUARD_CONFIG)" in by_env.stderr
    assert "alice" in by_env.stdout
    by_option = jiraguard("user", "list", "--config", str(config), cwd=elsewhere)
    assert f"configuration {config} (--config)" in by_option.stderr
    assert "alice" in by_option.stdout
    assert not (elsewhere / "jiraguard.db").exists()


def test_commands_see_what_the_admin_ui_saved(tmp_path: Path, idp: TestProvider) -> None:
    site = _site(tmp_path)
    assert jiraguard("user", "add", "alice", "--create-database", cwd=site).returncode == 0
    _save_from_ui(tmp_path, site, idp)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = str(site / "jiraguard.toml")
    env = {"JIRAGUARD_CONFIG": config, "JIRAGUARD_AUTH__CACHE_TTL": "30"}

    checked = jiraguard("config", "check", cwd=elsewhere, env=env)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines()[0] == "configuration OK; providers: ui-corp (jwt)"
    assert "admin UI's saved configuration, version 1 (providers, rules)" in checked.stderr

    shown = jiraguard("config", "show", cwd=elsewhere, env=env)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert [p["name"] for p in data["providers"]] == ["ui-corp"]
    assert [r["name"] for r in data["rules"]] == ["no-admin-api", "readers"]
    assert data["origins"]["providers"] == {"ui-corp": "ui"}
    assert data["origins"]["rules"] == "ui"
    assert data["origins"]["storage"] == "file"
    assert data["origins"]["auth"] == "environment"
    assert data["origins"]["server"] == "default"

    token = idp.jwt_token("alice")
    explained = jiraguard("check-token", "-", cwd=elsewhere, env=env, stdin=token + "\n")
    assert explained.returncode == 0, explained.stdout + explained.stderr
    report = json.loads(explained.stdout)
    assert report["provider"] == "ui-corp"
    assert [a["provider"] for a in report["attempts"]] == ["ui-corp"]


def test_an_environment_variable_naming_no_provider_is_refused(tmp_path: Path) -> None:
    site = _site(tmp_path)
    env = {"JIRAGUARD_PROVIDERS__NODE_INTRO__CLIENT_ID": "x"}
    refused = jiraguard("config", "check", cwd=site, env=env)
    assert refused.returncode == 2
    assert (
        "JIRAGUARD_PROVIDERS__NODE_INTRO__CLIENT_ID: no provider is named 'node_intro' "
        "(providers: file-corp)" in refused.stderr
    )
    whole = jiraguard("config", "check", cwd=site, env={"JIRAGUARD_PROVIDERS": "corp"})
    assert whole.returncode == 2
    assert "JIRAGUARD_PROVIDERS: must be a JSON array of providers tables" in whole.stderr


def test_version_and_help_without_type_placeholders(tmp_path: Path) -> None:
    version = jiraguard("--version", cwd=tmp_path)
    assert version.returncode == 0
    assert version.stdout.startswith("jiraguard ")
    helped = jiraguard("user", "add", "--help", cwd=tmp_path)
    assert "<bool>" not in helped.stdout
    assert "{name}" not in helped.stdout
    assert "Usage: jiraguard user add [OPTIONS] NAME" in helped.stdout


def test_the_environment_cannot_pin_a_provider_only_the_admin_ui_has(
    tmp_path: Path, idp: TestProvider
) -> None:
    """The UI may rename or delete its providers: a pin on one would break every process."""
    site = _site(tmp_path)
    assert jiraguard("user", "add", "alice", "--create-database", cwd=site).returncode == 0
    _save_from_ui(tmp_path, site, idp)
    env = {"JIRAGUARD_PROVIDERS__UI_CORP__LEEWAY": "5"}
    expected = (
        "JIRAGUARD_PROVIDERS__UI_CORP__LEEWAY: provider 'ui-corp' is defined only in the admin "
        "UI's saved configuration; the environment overrides providers of the configuration "
        "file only (define 'ui-corp' in the file, or set the value in the admin UI)"
    )
    for command in (("config", "check", "--offline"), ("serve", "--port", "1")):
        refused = jiraguard(*command, cwd=site, env=env)
        assert refused.returncode == 2, refused.stderr
        assert expected in refused.stderr, refused.stderr


def test_the_file_and_environment_are_valid_without_the_admin_ui_document(
    tmp_path: Path, idp: TestProvider
) -> None:
    """The server must start if the saved document is gone: what the file and the
    environment get wrong is refused even when the UI's document would hide it."""
    site = _site(tmp_path)
    assert jiraguard("user", "add", "alice", "--create-database", cwd=site).returncode == 0
    _save_from_ui(tmp_path, site, idp)  # replaces the file's providers
    env = {"JIRAGUARD_PROVIDERS__FILE_CORP__AUDIENCE": "[]"}
    refused = jiraguard("config", "check", "--offline", cwd=site, env=env)
    assert refused.returncode == 2
    assert "(in the file and environment alone)" in refused.stderr
    assert "providers[file-corp]" in refused.stderr
