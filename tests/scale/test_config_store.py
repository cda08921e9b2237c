"""The configuration's three sources (file < admin UI < environment) and saving the UI's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from jiraguard.config_store import ConfigStore
from jiraguard.settings import ConfigError
from jiraguard.store.audit import AuditFilter, AuditLog
from jiraguard.store.db import Database
from jiraguard.store.models import Change

pytestmark = pytest.mark.anyio

FILE = {
    "auth": {"cache_ttl": 60, "negative_cache_ttl": 7},
    "rules": [{"name": "from-file", "paths": ["/rest/api/2/a*"], "action": "deny"}],
}
RULE = {"name": "from-ui", "paths": ["/rest/api/2/b*"], "action": "deny"}


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.close()


def store(db: Database, environ: dict[str, str] | None = None) -> ConfigStore:
    return ConfigStore(db, {"storage": {"url": "sqlite://"}, **FILE}, environ or {})


async def test_the_ui_wins_over_the_file_and_the_environment_over_both(db: Database) -> None:
    overlay = {"auth": {"cache_ttl": 30}, "rules": [RULE]}
    settings = store(db).compose(overlay)
    assert settings.auth.cache_ttl == 30
    assert settings.auth.negative_cache_ttl == 7  # a table is merged key by key
    assert [r.name for r in settings.rules] == ["from-ui"]  # a list replaces the file's
    pinned = store(db, {"JIRAGUARD_AUTH__CACHE_TTL": "10"}).compose(overlay)
    assert pinned.auth.cache_ttl == 10


async def test_nothing_saved_means_the_file(db: Database) -> None:
    config = store(db)
    assert await config.overlay() == {}
    settings = await config.current()
    assert [r.name for r in settings.rules] == ["from-file"]
    assert config.version == 0


async def test_an_invalid_document_is_refused_with_every_problem_and_not_stored(
    db: Database,
) -> None:
    config = store(db)
    bad = {
        "auth": {"cache_ttl": -1},
        "rules": [{"name": "x", "action": "explode"}],
        "server": {"port": 1},
    }
    with pytest.raises(ConfigError) as caught:
        await config.save(bad, actor="admin")
    assert any(p.startswith("server:") for p in caught.value.problems)
    with pytest.raises(ConfigError) as caught:
        await config.save({k: v for k, v in bad.items() if k != "server"}, actor="admin")
    problems = "\n".join(caught.value.problems)
    assert "auth.cache_ttl" in problems
    assert "rules[0].action" in problems
    assert await config.overlay() == {}
    async with db.session() as session:
        assert (await session.scalars(select(Change))).all() == []


async def test_saving_stores_audits_and_records_a_change(db: Database) -> None:
    config = store(db)
    settings = await config.save({"rules": [RULE]}, actor="alice", client="192.0.2.7")
    assert [r.name for r in settings.rules] == ["from-ui"]
    await config.save({"rules": [RULE], "auth": {"cache_ttl": 5}}, actor="bob")
    assert await config.overlay() == {"rules": [RULE], "auth": {"cache_ttl": 5}}
    assert (await config.current()).auth.cache_ttl == 5
    assert config.version == 2
    _, events = await AuditLog(db).search(AuditFilter(kind="config"), start_at=0, max_results=10)
    reasons = sorted(e.reason for e in events)
    assert reasons == [
        "configuration version 1 saved by alice; changed: rules",
        "configuration version 2 saved by bob; changed: auth",
    ]
    assert {e.client_ip for e in events} == {"192.0.2.7", None}
    async with db.session() as session:
        feed = (await session.scalars(select(Change).order_by(Change.id))).all()
    assert [(c.kind, c.subject) for c in feed] == [("config", "1"), ("config", "2")]
