"""``jiraguard audit``, run as a subprocess like a user would."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jiraguard.settings import load_settings
from jiraguard.store.audit import AuditLog
from jiraguard.store.db import Database
from tests.test_cli import _config, run


def _insert_denial(config: Path, username: str, at: datetime) -> None:
    settings = load_settings(config, environ={})

    async def insert() -> None:
        db = Database(settings.storage.url)
        try:
            row = {
                "at": at,
                "allowed": False,
                "status": 401,
                "reason": "The access token expired",
                "method": "GET",
                "path": "/rest/api/2/myself",
                "client_ip": "10.0.0.7",
                "username": username,
                "fingerprint": "0123456789abcdef",
            }
            await AuditLog(db).insert_many([row])
        finally:
            await db.close()

    asyncio.run(insert())


def test_audit_lines_json_and_filters(tmp_path: Path) -> None:
    config = _config(tmp_path, None)
    assert run("user", "add", "alice", "--create-database", config=config).returncode == 0
    assert run("token", "create", "alice", "--name", "ci", config=config).returncode == 0
    _insert_denial(config, "alice", datetime.now(UTC) - timedelta(minutes=5))
    _insert_denial(config, "bob", datetime.now(UTC) - timedelta(days=2))

    lines = run("audit", config=config)
    assert lines.returncode == 0, lines.stderr
    first, second, third = lines.stdout.splitlines()
    assert " token allow 201 CLI jiraguard token user=alice" in first
    assert "created personal access token 1 'ci' for alice" in first
    assert "deny  401 GET /rest/api/2/myself user=alice" in second
    assert "token=0123456789abcdef client=10.0.0.7 The access token expired" in second
    assert "user=bob" in third

    denied = json.loads(run("audit", "--denied", "--json", config=config).stdout)
    assert [e["username"] for e in denied] == ["alice", "bob"]
    assert denied[0]["clientIp"] == "10.0.0.7"
    recent = json.loads(run("audit", "--denied", "--since", "1h", "--json", config=config).stdout)
    assert [e["username"] for e in recent] == ["alice"]
    bob = json.loads(run("audit", "--user", "bob", "--json", config=config).stdout)
    assert len(bob) == 1
    limited = run("audit", "--limit", "1", config=config)
    assert len(limited.stdout.splitlines()) == 1
    tokens = json.loads(run("audit", "--kind", "token", "--json", config=config).stdout)
    assert [e["kind"] for e in tokens] == ["token"]

    assert run("audit", "--since", "lately", config=config).returncode == 2
    assert run("audit", "--kind", "nope", config=config).returncode == 2
