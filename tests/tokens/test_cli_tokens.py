"""``jiraguard token create|list|revoke`` and ``check-token`` with a PAT, as subprocesses."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from jiraguard.settings import load_settings
from jiraguard.store.audit import AuditFilter, AuditLog
from jiraguard.store.db import Database
from tests.test_cli import _config, run


def _audit_rows(config: Path) -> list[dict[str, object]]:
    settings = load_settings(config, environ={})

    async def read() -> list[dict[str, object]]:
        db = Database(settings.storage.url)
        try:
            _, events = await AuditLog(db).search(
                AuditFilter(kind="token"), start_at=0, max_results=50
            )
            return [
                {"reason": e.reason, "username": e.username, "token_id": e.token_id} for e in events
            ]
        finally:
            await db.close()

    return asyncio.run(read())


def test_token_create_list_revoke(tmp_path: Path) -> None:
    config = _config(tmp_path, None)
    assert run("user", "add", "svc-ci", "--create-database", config=config).returncode == 0
    created = run("token", "create", "svc-ci", "--name", "deploy", "--days", "10", config=config)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("jgp_")
    assert "\n" not in token
    assert "created token 1 'deploy' for svc-ci" in created.stderr
    assert token not in created.stderr

    listed = run("token", "list", config=config)
    assert listed.returncode == 0
    header, row = listed.stdout.strip().splitlines()
    assert header.split()[:3] == ["ID", "USER", "NAME"]
    fields = row.split()
    assert fields[:3] == ["1", "svc-ci", "deploy"]
    assert fields[-1] == "active"
    assert token not in listed.stdout
    assert run("token", "list", "--user", "nobody", config=config).stdout == ""

    checked = run("check-token", "-", config=config, stdin=token + "\n")
    assert checked.returncode == 0, checked.stdout
    assert json.loads(checked.stdout)["user"]["name"] == "svc-ci"
    assert token not in checked.stdout

    revoked = run("token", "revoke", "1", config=config)
    assert revoked.returncode == 0
    assert run("token", "revoke", "1", config=config).returncode == 1
    assert run("token", "list", config=config).stdout == ""
    rejected = run("check-token", "-", config=config, stdin=token + "\n")
    assert rejected.returncode == 1
    assert "revoked" in json.loads(rejected.stdout)["reason"]

    rows = _audit_rows(config)
    assert [r["reason"] for r in rows] == [
        "revoked personal access token 1 of svc-ci by the command line",
        "created personal access token 1 'deploy' for svc-ci by the command line",
    ]
    assert {r["username"] for r in rows} == {"svc-ci"}
    assert {r["token_id"] for r in rows} == {"1"}


def test_token_create_refusals(tmp_path: Path) -> None:
    config = _config(tmp_path, None)
    assert (
        run(
            "token", "create", "ghost", "--name", "x", "--create-database", config=config
        ).returncode
        == 1
    )
    run("user", "add", "alice", config=config)
    too_long = run("token", "create", "alice", "--name", "x", "--days", "9999", config=config)
    assert too_long.returncode == 2
    assert "365 days" in too_long.stderr
    assert too_long.stdout == ""
