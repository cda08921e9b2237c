"""First start: an empty directory gets an administrator and one token, shown once."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import stat
import subprocess
from pathlib import Path

import httpx
import pytest

from jiraguard.bootstrap import BootstrapError, bootstrap_admin
from jiraguard.store.db import Database, run_migrations
from jiraguard.store.users import UserDirectory
from tests.conftest import HarnessFactory, bearer
from tests.support.idp import free_port
from tests.support.servers import wait_until_serving
from tests.test_cli import JIRAGUARD

pytestmark = pytest.mark.anyio


def _token_in(text: str) -> str:
    [token] = [w for line in text.splitlines() for w in line.split() if w.startswith("jgp_")]
    return token


async def test_empty_directory_gets_an_admin_and_a_working_token(
    harness: HarnessFactory, database_url: str
) -> None:
    h = await harness(url=database_url)
    out = io.StringIO()
    made = await bootstrap_admin(h.settings, h.services.db, out=out)
    assert made is not None
    assert made.username == "admin"
    assert "first start: administrator 'admin' created" in out.getvalue()
    token = _token_in(out.getvalue())
    admin = await h.services.users.get("admin")
    assert admin is not None
    assert admin.admin
    assert "jira-administrators" in admin.groups
    me = await h.client.get("/rest/api/2/myself", headers=bearer(token))
    assert me.status_code == 200
    assert me.json()["name"] == "admin"
    # Second start: users exist, nothing is created, nothing printed.
    again = io.StringIO()
    assert await bootstrap_admin(h.settings, h.services.db, out=again) is None
    assert again.getvalue() == ""


async def test_directory_with_users_is_left_alone(harness: HarnessFactory) -> None:
    h = await harness()
    await h.add_user("alice")
    out = io.StringIO()
    assert await bootstrap_admin(h.settings, h.services.db, out=out) is None
    assert await h.services.users.get("admin") is None


async def test_concurrent_first_starts_create_one_admin(
    harness: HarnessFactory, database_url: str
) -> None:
    h = await harness(url=database_url)
    outs = [io.StringIO() for _ in range(4)]
    databases = [Database(database_url) for _ in outs]
    try:
        results = await asyncio.gather(
            *(bootstrap_admin(h.settings, db, out=o) for db, o in zip(databases, outs, strict=True))
        )
    finally:
        for db in databases:
            await db.close()
    assert len([r for r in results if r is not None]) == 1
    assert len([o for o in outs if "jgp_" in o.getvalue()]) == 1
    assert [u.name for u in await UserDirectory(h.services.db).list()] == ["admin"]
    assert len(await h.services.tokens.list("admin")) == 1


async def test_token_file_is_private_and_never_overwritten(
    harness: HarnessFactory, tmp_path: Path
) -> None:
    path = tmp_path / "admin-token"
    h = await harness(tokens={"bootstrap_token_file": str(path)})
    out = io.StringIO()
    assert await bootstrap_admin(h.settings, h.services.db, out=out) is not None
    token = path.read_text().strip()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert str(path) in out.getvalue()
    assert token not in out.getvalue()
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200

    other = await harness(
        url=f"sqlite:///{tmp_path / 'other.db'}", tokens={"bootstrap_token_file": str(path)}
    )
    run_migrations(other.settings.storage.url)
    with pytest.raises(BootstrapError, match="exists already"):
        await bootstrap_admin(other.settings, other.services.db, out=io.StringIO())
    assert path.read_text().strip() == token
    assert await other.services.users.get("admin") is None


def test_serve_prints_the_bootstrap_token_once_and_it_works(tmp_path: Path) -> None:
    """The README quick start: start on an empty store, call /myself with the printed token."""
    port = free_port()
    config = tmp_path / "jiraguard.toml"
    config.write_text(f'[server]\nport = {port}\n[storage]\nurl = "sqlite:///{tmp_path}/jg.db"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIRAGUARD_")}
    process = subprocess.Popen(
        [JIRAGUARD, "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url + "/healthz", process)
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=20)
    text = stderr.decode()
    assert "first start: administrator 'admin' created" in text
    token = _token_in(text)
    assert text.count(token) == 1
    assert token not in stdout.decode()
    # Second start on the same store: the token works, and nothing new is printed.
    process = subprocess.Popen(
        [JIRAGUARD, "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        wait_until_serving(url + "/healthz", process)
        me = httpx.get(url + "/rest/api/2/myself", headers=bearer(token), timeout=5)
        assert me.status_code == 200
        assert me.json()["name"] == "admin"
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    assert "jgp_" not in stderr.decode()
