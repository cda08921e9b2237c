"""Fixtures for the embedded Jira API: an app on a real database, real users, real tokens."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from jiraguard.store.db import run_migrations
from tests.conftest import Harness, HarnessFactory, bearer, jwt_provider
from tests.support.idp import TestProvider
from tests.support.live import live_server
from tests.support.services import missing

LIVE_USERS = {
    "alice": {"display_name": "Alice A", "email": "alice@example.com", "admin": True},
    "bob": {"display_name": "Bob B", "email": "bob@example.com", "groups": ["jira-users"]},
}
"""The users of :func:`live_jira`: alice administers, bob is a plain jira-users member."""


@contextmanager
def live_jira(idp: TestProvider, directory: Path) -> Iterator[str]:
    """jiraguard on a loopback port over a fresh SQLite database in ``directory``, with
    :data:`LIVE_USERS`, for the synchronous real clients; yields its base URL."""
    url = f"sqlite:///{directory / 'jiraguard.db'}"
    run_migrations(url)
    with live_server(
        {"storage": {"url": url}, "providers": [jwt_provider(idp)]}, LIVE_USERS
    ) as base:
        yield base


@pytest.fixture(scope="module")
def live_base(idp: TestProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One :func:`live_jira` server per test module: its base URL."""
    with live_jira(idp, tmp_path_factory.mktemp("live")) as base:
        yield base


JS_CLIENT_DIR = Path(__file__).parents[1] / "jsclient"
JS_FLOW_TIMEOUT = 120


def run_js_flow(idp: TestProvider, directory: Path, script: str) -> dict[str, Any]:
    """Run ``script`` (in tests/jsclient, with the npm ``jira-client``) against
    :func:`live_jira` with alice's and bob's tokens; what it printed, as JSON."""
    node = shutil.which("node")
    if node is None:
        missing("Node.js", "the npm jira-client runs on Node")
    if not (JS_CLIENT_DIR / "node_modules" / "jira-client" / "package.json").is_file():
        missing("jira-client", f"run `npm ci` in {JS_CLIENT_DIR} (scripts/test does)")
    with live_jira(idp, directory) as base:
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "JIRA_URL": base,
            "ALICE_TOKEN": idp.jwt_token("alice"),
            "BOB_TOKEN": idp.jwt_token("bob"),
        }
        result = subprocess.run(
            [node, script],
            cwd=JS_CLIENT_DIR,
            env=environment,
            capture_output=True,
            text=True,
            timeout=JS_FLOW_TIMEOUT,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    seen: dict[str, Any] = json.loads(result.stdout)
    return seen


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database migrated once per session, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "jiraguard.db"
    run_migrations(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(migrated_sqlite: Path, tmp_path: Path) -> str:
    """A fresh migrated SQLite database (a copy of the template: migrating costs ~0.2 s)."""
    target = tmp_path / "jiraguard.db"
    with sqlite3.connect(migrated_sqlite) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def tokens(idp: TestProvider) -> Callable[[str], dict[str, str]]:
    """``tokens("alice")``: Authorization headers with a real JWT, minted once per user and
    again when half its lifetime has passed (a long run outlives the provider's 300 s)."""
    minted: dict[str, tuple[float, dict[str, str]]] = {}

    def headers(account: str) -> dict[str, str]:
        now = time.monotonic()
        if account not in minted or now - minted[account][0] > idp.access_token_ttl / 2:
            minted[account] = (now, bearer(idp.jwt_token(account)))
        return minted[account][1]

    return headers


@dataclass
class JiraApi:
    """The app plus helpers that act as one of the test users."""

    harness: Harness
    tokens: Callable[[str], dict[str, str]]

    async def call(self, method: str, path: str, user: str = "alice", **kw: Any) -> httpx.Response:
        headers = {**self.tokens(user), **kw.pop("headers", {})}
        return await self.harness.client.request(
            method, f"/rest/api/2{path}", headers=headers, **kw
        )

    async def project(self, key: str = "TEST", name: str = "Test project") -> dict[str, Any]:
        response = await self.call("POST", "/project", json={"key": key, "name": name})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def issue(self, summary: str, project: str = "TEST", **fields: Any) -> dict[str, Any]:
        body = {"fields": {"project": {"key": project}, "issuetype": {"name": "Task"}}}
        body["fields"].update(summary=summary, **fields)
        response = await self.call("POST", "/issue", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created


async def build_api(
    harness: HarnessFactory,
    idp: TestProvider,
    tokens: Callable[[str], dict[str, str]],
    url: str | None = None,
    **sections: dict[str, Any],
) -> JiraApi:
    """An app with alice (admin), bob (in jira-administrators), carol and dave (plain)."""
    made = await harness(providers=[jwt_provider(idp)], url=url, **sections)
    await made.add_user("alice", display_name="Alice A", admin=True, groups=["jira-users"])
    await made.add_user("bob", display_name="Bob B", groups=["jira-users", "jira-administrators"])
    await made.add_user("carol", display_name="Carol C", groups=["jira-users", "developers"])
    await made.add_user("dave", display_name="Dave D")
    return JiraApi(made, tokens)


@pytest.fixture
async def api(
    harness: HarnessFactory,
    idp: TestProvider,
    tokens: Callable[[str], dict[str, str]],
    database_url: str,
) -> JiraApi:
    """The API with the four users, on each database: the whole suite runs on SQLite and on
    PostgreSQL."""
    return await build_api(harness, idp, tokens, url=database_url)
