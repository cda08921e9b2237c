"""The users page over HTTP: find, add, disable/enable, make an administrator; one user's
groups, tokens and decisions. The real app on a real SQLite database; changes go through the
directory code ``jiraguard user ...`` runs, so they reach the change feed the same way."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from jiraguard.auth.pat import CLI, CLI_ACTOR
from jiraguard.cli import app as cli_app
from jiraguard.store.models import Change
from tests.admin_ui.support import admin_options, csrf_of, login
from tests.conftest import Harness, HarnessFactory, bearer

pytestmark = pytest.mark.anyio


async def _admin(harness: HarnessFactory, **sections: object) -> tuple[Harness, httpx.AsyncClient]:
    made = await harness(audit={"flush_interval": 0.05}, **sections)
    await made.add_user("root", **admin_options())
    await made.add_user("alice", display_name="Alice Liddell", groups=["jira-users"])
    await made.add_user("bob", email="robert@example.org", groups=["jira-users", "qa"])
    assert (await login(made.client, "root")).status_code == 303
    return made, made.client


async def _csrf(client: httpx.AsyncClient) -> str:
    return csrf_of((await client.get("/admin/users")).text)


async def _audit(made: Harness) -> str:
    assert made.services.audit is not None
    await made.services.audit.flush()
    return (await made.client.get("/admin/audit.csv")).text


async def _changes(made: Harness) -> list[tuple[str, str | None]]:
    async with made.services.db.session() as session:
        rows = (await session.scalars(select(Change).order_by(Change.id))).all()
        return [(row.kind, row.subject) for row in rows]


async def test_users_are_listed_and_found_by_name_display_name_or_email(
    harness: HarnessFactory,
) -> None:
    _, client = await _admin(harness)
    everyone = await client.get("/admin/users")
    assert everyone.status_code == 200
    assert everyone.text.count("data-user=") == 3
    assert "3 users" in everyone.text
    assert "jira-users, qa" in everyone.text
    for query, expected in [("ALI", "alice"), ("liddell", "alice"), ("example.org", "bob")]:
        found = await client.get("/admin/users", params={"q": query})
        assert found.text.count("data-user=") == 1, query
        assert f'data-user="{expected}"' in found.text
    # LIKE wildcards are matched literally.
    for query in ("%", "_o_"):
        none = await client.get("/admin/users", params={"q": query})
        assert "data-user=" not in none.text
        assert "No user matches" in none.text


async def test_an_added_user_has_its_groups_and_the_addition_is_audited(
    harness: HarnessFactory,
) -> None:
    made, client = await _admin(harness)
    csrf = await _csrf(client)
    form = {"_csrf": csrf, "name": "carol", "display_name": "Carol C", "email": "carol@x.org",
            "groups": "jira-users, ops"}  # fmt: skip
    added = await client.post("/admin/users/add", data=form)
    assert added.status_code == 303
    assert added.headers["location"] == "/admin/users/detail?name=carol&saved=added"
    user = await made.services.users.get("carol")
    assert user is not None
    assert user.groups == {"jira-users", "ops"}
    assert user.display_name == "Carol C"
    assert not user.admin
    detail = await client.get(added.headers["location"])
    assert 'data-testid="user-groups">jira-users, ops<' in detail.text
    again = await client.post("/admin/users/add", data=form)
    assert again.status_code == 400
    assert "exists already" in again.text
    assert "added user carol by root" in await _audit(made)


@pytest.mark.parametrize("name", ["", "  ", "two words", "tab\there", "nul\x00", "x" * 256])
async def test_a_bad_user_name_is_refused_with_a_reason(harness: HarnessFactory, name: str) -> None:
    made, client = await _admin(harness)
    response = await client.post(
        "/admin/users/add", data={"_csrf": await _csrf(client), "name": name}
    )
    assert response.status_code == 400
    assert 'class="error"' in response.text
    assert len(await made.services.users.list()) == 3


async def test_disabling_a_user_refuses_their_token_at_once_like_the_cli(
    harness: HarnessFactory, sqlite_url: str, tmp_path: Path
) -> None:
    made, client = await _admin(harness)
    issued = await made.services.tokens.create("alice", "laptop", None, actor=CLI_ACTOR, origin=CLI)
    alice = bearer(issued.raw)
    assert (await client.get("/rest/api/2/myself", headers=alice)).status_code == 200
    csrf = await _csrf(client)
    before = await _changes(made)
    disabled = await client.post("/admin/users/active", data={"_csrf": csrf, "name": "alice"})
    assert disabled.status_code == 303
    assert "saved=disabled" in disabled.headers["location"]
    assert (await client.get("/rest/api/2/myself", headers=alice)).status_code == 401
    page = await client.get(disabled.headers["location"])
    assert "disabled: its tokens and passwords are refused" in page.text
    ui_change = (await _changes(made))[len(before) :]
    # The command line's disable, on the same database, records the same change.
    config = tmp_path / "jiraguard.toml"
    config.write_text(f'[storage]\nurl = "{sqlite_url}"\n')
    command = ["user", "disable", "bob", "--config", str(config)]
    result = await anyio.to_thread.run_sync(lambda: CliRunner().invoke(cli_app, command))
    assert result.exit_code == 0, result.output
    cli_change = (await _changes(made))[len(before) + len(ui_change) :]
    assert ui_change == [("user", "alice")]
    assert cli_change == [("user", "bob")]
    enabled = await client.post(
        "/admin/users/active", data={"_csrf": csrf, "name": "alice", "active": "on"}
    )
    assert enabled.status_code == 303
    assert (await client.get("/rest/api/2/myself", headers=alice)).status_code == 200
    audit = await _audit(made)
    assert "disabled user alice by root" in audit
    assert "enabled user alice by root" in audit


async def test_an_administrator_is_made_and_unmade_but_never_by_themselves(
    harness: HarnessFactory,
) -> None:
    made, client = await _admin(harness)
    await made.services.users.add("dora", **admin_options(admin=False))
    csrf = await _csrf(client)
    granted = await client.post(
        "/admin/users/admin", data={"_csrf": csrf, "name": "dora", "admin": "on"}
    )
    assert granted.status_code == 303
    other = httpx.AsyncClient(transport=made.client._transport, base_url=str(made.client.base_url))
    async with other:
        assert (await login(other, "dora")).status_code == 303
        assert (await other.get("/admin/users")).status_code == 200
        taken = await client.post("/admin/users/admin", data={"_csrf": csrf, "name": "dora"})
        assert taken.status_code == 303
        refused = await other.get("/admin/users")
        assert refused.status_code == 403
        assert "not an administrator" in refused.text
    for path in ("/admin/users/admin", "/admin/users/active"):
        myself = await client.post(path, data={"_csrf": csrf, "name": "ROOT"})
        assert myself.status_code == 400
        assert "your own account" in myself.text
    root = await made.services.users.get("root")
    assert root is not None
    assert (root.active, root.admin) == (True, True)
    audit = await _audit(made)
    assert "made dora an administrator by root" in audit
    assert "took the administrator flag from dora by root" in audit


async def test_a_user_page_shows_their_tokens_and_recent_decisions(
    harness: HarnessFactory,
) -> None:
    made, client = await _admin(harness)
    issued = await made.services.tokens.create("bob", "ci-bot", None, actor=CLI_ACTOR, origin=CLI)
    await client.get("/rest/api/2/issue/NOPE-1", headers=bearer(issued.raw))
    await _audit(made)
    page = await client.get("/admin/users/detail", params={"name": "BOB"})
    assert page.status_code == 200
    assert "<h1>User bob</h1>" in page.text
    assert "ci-bot" in page.text
    assert issued.raw not in page.text
    assert "GET /<wbr>rest/<wbr>api/<wbr>2/<wbr>issue/<wbr>NOPE-1" in page.text
    assert ">accepted<" in page.text
    assert ">token change<" in page.text
    assert "created personal access token" in page.text
    assert 'href="/admin/audit?user=bob"' in page.text
    missing = await client.get("/admin/users/detail", params={"name": "nobody"})
    assert missing.status_code == 404
    for name in ("", "x" * 5000, "%00", "%ED%A0%80", "%FF"):
        odd = await client.get(f"/admin/users/detail?name={name}")
        assert odd.status_code == 404
