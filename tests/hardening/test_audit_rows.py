"""One record the database cannot hold must never cost the others in its batch: the writer
cleans what it can, drops only what the database still refuses, and counts it."""

from __future__ import annotations

import pytest

from jiraguard.auth.audit_sink import StoreAuditSink
from jiraguard.auth.principal import Principal
from jiraguard.settings import AuditSettings
from jiraguard.store.audit import AuditFilter, AuditLog
from jiraguard.store.models import AuditEvent
from tests.audit.test_sink import _decision
from tests.conftest import HarnessFactory, bearer
from tests.support.tokens import claims_for, hmac_provider, signed

pytestmark = pytest.mark.anyio

SURROGATE = "\ud800"


async def _events(h: object) -> list[AuditEvent]:
    services = h.services  # type: ignore[attr-defined]
    _, events = await AuditLog(services.db).search(AuditFilter(), start_at=0, max_results=5000)
    return list(reversed(events))


async def test_a_lone_surrogate_client_id_does_not_hide_other_callers(
    harness: HarnessFactory, database_url: str
) -> None:
    """Audit evasion: a crafted token's client_id/azp must not drop the whole window."""
    h = await harness([hmac_provider()], url=database_url)
    for name in ("alice", "bob", "mallory"):
        await h.add_user(name)
    alice = signed(claims_for("alice", client_id="app"))
    bob = signed(claims_for("bob", azp="app"))
    evil = [
        signed(claims_for("mallory", client_id=f"x{SURROGATE}y")),
        signed(claims_for("mallory", azp=SURROGATE * 300)),
    ]
    for token in (alice, *evil, bob):
        response = await h.client.get("/rest/api/2/myself", headers=bearer(token))
        assert response.status_code in (200, 401)
    assert h.services.audit is not None
    assert await h.services.audit.flush() == 4
    events = await _events(h)
    assert {"alice", "bob"} <= {e.username for e in events if e.allowed}
    assert sum(e.count for e in events) == 4  # mallory's two refusals may share a row
    assert h.services.audit.dropped == 0


async def test_unencodable_text_in_any_field_is_cleaned_not_lost(
    harness: HarnessFactory, database_url: str
) -> None:
    h = await harness(url=database_url)
    sink = StoreAuditSink(h.services.db, AuditSettings())
    principal = Principal(
        username=f"eve{SURROGATE}",
        key="JIRAUSER1",
        display_name="Eve",
        email="eve@example.com",
        provider="corp",
        client_id=f"{SURROGATE}\x00" + "c" * 1000,
        fingerprint="0123456789abcdef",
    )
    sink.submit(_decision(path="/rest/before"))
    sink.accepted(principal, "GET", f"/rest/{SURROGATE}", f"10.0.0.1{SURROGATE}")
    sink.submit(_decision(reason=SURROGATE * 3000, username=SURROGATE, method=SURROGATE))
    sink.submit(_decision(path="/rest/after"))
    assert await sink.flush() == 4
    assert (sink.dropped, sink.rejected) == (0, 0)
    events = await _events(h)
    assert len(events) == 4
    cleaned = next(e for e in events if e.allowed)
    assert cleaned.client_id is not None
    assert cleaned.client_id.startswith("\ufffd")
    assert len(cleaned.client_id) == 255
    assert cleaned.username == "eve\ufffd"
    assert cleaned.path == "/rest/\ufffd"


async def test_a_row_the_database_refuses_is_dropped_alone_and_counted(
    harness: HarnessFactory, database_url: str
) -> None:
    """Whatever cleaning misses, the database's refusal of one row spares the rest."""
    h = await harness(url=database_url)
    sink = StoreAuditSink(h.services.db, AuditSettings(batch_size=10))
    for n in range(25):
        # status past 64 bits: no database takes it, and no cleaning knows a better value
        sink.submit(_decision(path=f"/rest/{n}", status=2**70 if n in (3, 17) else 401))
    assert await sink.flush() == 23
    assert (sink.rejected, sink.dropped) == (2, 2)
    paths = [e.path for e in await _events(h)]
    assert paths == [f"/rest/{n}" for n in range(25) if n not in (3, 17)]
