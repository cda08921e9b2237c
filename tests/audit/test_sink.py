"""The audit log in the store: decisions reach ``audit_events`` in batches, with the fields
that matter and never a token; retention keeps the table bounded."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from jiraguard.app import create_app
from jiraguard.auth.audit import Decision
from jiraguard.auth.audit_sink import StoreAuditSink
from jiraguard.auth.principal import fingerprint
from jiraguard.settings import AuditSettings
from jiraguard.store.audit import AuditFilter, AuditLog
from jiraguard.store.db import Database
from jiraguard.store.models import AuditEvent
from tests.conftest import HarnessFactory, bearer, jwt_provider
from tests.support.idp import TestProvider

pytestmark = pytest.mark.anyio


async def _events(db: Database) -> list[AuditEvent]:
    """Every event, oldest first."""
    _, events = await AuditLog(db).search(AuditFilter(), start_at=0, max_results=2000)
    return list(reversed(events))


async def test_allowed_and_denied_decisions_are_stored(
    idp: TestProvider, harness: HarnessFactory, database_url: str
) -> None:
    h = await harness([jwt_provider(idp)], url=database_url)
    await h.add_user("alice")
    token = idp.jwt_token("alice")
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200
    assert (await h.client.get("/rest/api/2/myself", headers=bearer("garbage"))).status_code == 401
    assert (await h.client.get("/rest/api/2/serverInfo")).status_code == 401
    assert h.services.audit is not None
    assert await h.services.audit.flush() == 3
    allowed, bad_token, anonymous = await _events(h.services.db)

    assert allowed.kind == "auth"
    assert allowed.allowed
    assert allowed.status == 200
    assert (allowed.method, allowed.path) == ("GET", "/rest/api/2/myself")
    assert allowed.username == "alice"
    assert allowed.provider == "corp"
    assert allowed.auth_method == "jwt"
    assert allowed.fingerprint == fingerprint(token)[:16]
    assert allowed.client_ip == "127.0.0.1"
    assert allowed.at.replace(tzinfo=UTC) > datetime.now(UTC) - timedelta(minutes=1)

    assert not bad_token.allowed
    assert bad_token.status == 401
    assert bad_token.fingerprint == fingerprint("garbage")[:16]
    assert bad_token.reason
    assert not anonymous.allowed
    assert anonymous.fingerprint is None
    assert anonymous.path == "/rest/api/2/serverInfo"


async def test_pat_decisions_carry_the_token_id(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await harness([jwt_provider(idp)])
    await h.add_user("alice")
    created = await h.client.post(
        "/rest/pat/latest/tokens", json={"name": "ci"}, headers=bearer(idp.jwt_token("alice"))
    )
    body = created.json()
    assert (await h.client.get("/rest/api/2/myself", headers=bearer(body["rawToken"]))).is_success
    assert h.services.audit is not None
    await h.services.audit.flush()
    events = await _events(h.services.db)
    change = next(e for e in events if e.kind == "token")
    assert change.reason == f"created personal access token {body['id']} 'ci' for alice by alice"
    assert change.username == "alice"
    assert change.token_id == str(body["id"])
    assert change.status == 201
    assert change.path == "/rest/pat/latest/tokens"
    used = events[-1]
    assert used.auth_method == "pat"
    assert used.token_id == str(body["id"])
    assert used.provider is None
    assert used.fingerprint == fingerprint(body["rawToken"])[:16]


async def test_record_allowed_false_keeps_only_refusals(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await harness([jwt_provider(idp)], audit={"record_allowed": False})
    await h.add_user("alice")
    await h.client.get("/rest/api/2/myself", headers=bearer(idp.jwt_token("alice")))
    await h.client.get("/rest/api/2/myself")
    assert h.services.audit is not None
    await h.services.audit.flush()
    assert [e.allowed for e in await _events(h.services.db)] == [False]


async def test_audit_disabled_has_no_sink(harness: HarnessFactory) -> None:
    h = await harness(audit={"enabled": False})
    assert h.services.audit is None
    assert (await h.client.get("/rest/api/2/myself")).status_code == 401


def _decision(**fields: object) -> Decision:
    base: dict[str, object] = {
        "allowed": False,
        "reason": "r",
        "status": 401,
        "method": "GET",
        "path": "/rest/x",
        "client": None,
    }
    return Decision(**{**base, **fields})  # type: ignore[arg-type]


async def test_full_queue_drops_the_oldest_and_warns(
    harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    h = await harness()
    sink = StoreAuditSink(h.services.db, AuditSettings(batch_size=2), queue_size=3)
    with caplog.at_level(logging.WARNING, logger="jiraguard.auth.audit_sink"):
        for n in range(5):
            sink.submit(_decision(path=f"/rest/{n}"))
    assert sink.dropped == 2
    assert len([r for r in caplog.records if "audit queue full" in r.message]) == 1
    assert await sink.flush() == 3
    assert [e.path for e in await _events(h.services.db)] == ["/rest/2", "/rest/3", "/rest/4"]


async def test_odd_values_never_break_a_batch(harness: HarnessFactory, database_url: str) -> None:
    """A NUL byte or an endless path is the client's input; the batch must still be written."""
    h = await harness(url=database_url)
    sink = StoreAuditSink(h.services.db, AuditSettings())
    sink.submit(_decision(path="/rest/\x00" + "a" * 5000, method="X" * 100, reason="é" * 2000))
    assert await sink.flush() == 1
    [event] = await _events(h.services.db)
    assert "\x00" not in event.path
    assert len(event.path) == 2048


async def test_retention_deletes_old_rows_and_rows_past_max(
    harness: HarnessFactory, database_url: str
) -> None:
    h = await harness(url=database_url)
    now = datetime.now(UTC).timestamp()
    sink = StoreAuditSink(h.services.db, AuditSettings(retention_days=1, max_rows=1000))
    for n in range(3):
        sink.submit(_decision(path=f"/old/{n}", at=now - 2 * 86400))
    for n in range(1005):
        sink.submit(_decision(path=f"/new/{n}", at=now - 60 + n * 0.001))
    await sink.flush()
    assert await sink.prune() == 3 + 5
    async with h.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEvent)) == 1000
        oldest = await session.scalar(select(AuditEvent.path).order_by(AuditEvent.id).limit(1))
    assert oldest == "/new/5"


async def test_the_writer_runs_with_the_app_lifespan(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    h = await harness([jwt_provider(idp)], audit={"flush_interval": 0.05})
    app = create_app(h.settings, h.services)
    async with app.router.lifespan_context(app):
        await h.client.get("/rest/api/2/myself")
        for _ in range(100):
            if await _events(h.services.db):
                break
            await asyncio.sleep(0.05)
        assert len(await _events(h.services.db)) == 1
    # Shutdown closed the services; the harness closing them once more is harmless.


async def test_identical_accepted_requests_share_one_counted_row(
    idp: TestProvider, harness: HarnessFactory
) -> None:
    """A busy client's accepted requests cost one row per flush window, not one each."""
    h = await harness([jwt_provider(idp)])
    await h.add_user("alice")
    token = idp.jwt_token("alice")
    for _ in range(25):
        await h.client.get("/rest/api/2/myself", headers=bearer(token))
    await h.client.get("/rest/api/2/serverInfo", headers=bearer(token))
    for _ in range(3):
        await h.client.get("/rest/api/2/myself", headers=bearer("garbage"))
    assert h.services.audit is not None
    assert await h.services.audit.flush() == 29
    events = await _events(h.services.db)
    by_path = {(e.allowed, e.path): e for e in events if e.allowed}
    myself = by_path[(True, "/rest/api/2/myself")]
    assert myself.count == 25
    assert myself.last_at is not None
    assert myself.last_at >= myself.at
    assert by_path[(True, "/rest/api/2/serverInfo")].count == 1
    refusals = [e for e in events if not e.allowed]
    assert [e.count for e in refusals] == [3]  # refusals are aggregated too (next test)
    assert len(events) == 3


async def test_a_flood_of_distinct_bad_tokens_is_one_row_per_window(
    harness: HarnessFactory,
) -> None:
    """A flood of refusals must not become a flood of writes: the same reason, client and
    path make one row per flush window, with the first and the last token's fingerprint."""
    h = await harness()
    tokens = [f"bad-token-{n}" for n in range(40)]
    for token in tokens:
        response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
        assert response.status_code == 401
    await h.client.get("/rest/api/2/serverInfo", headers=bearer("bad-token-0"))
    assert h.services.audit is not None
    assert await h.services.audit.flush() == 41
    events = await _events(h.services.db)
    by_path = {e.path: e for e in events}
    flood = by_path["/rest/api/2/myself"]
    assert (flood.allowed, flood.count, flood.status) == (False, 40, 401)
    assert flood.fingerprint == fingerprint(tokens[0])[:16]
    assert flood.last_fingerprint == fingerprint(tokens[-1])[:16]
    assert flood.last_at is not None
    assert flood.last_at >= flood.at
    single = by_path["/rest/api/2/serverInfo"]
    assert (single.count, single.last_fingerprint) == (1, None)
    assert len(events) == 2
