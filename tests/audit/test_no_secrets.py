"""Security regression: no token ever lands in the audit table or in a log line.

Personal access tokens and provider tokens (JWT and opaque) are created, used, refused and
revoked; then every column of every ``audit_events`` row and every captured log record (at
DEBUG, all loggers) is searched for the tokens and for their secret parts.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from jiraguard.store.models import AuditEvent
from tests.conftest import HarnessFactory, bearer, introspection_provider, jwt_provider
from tests.support.idp import TestProvider

pytestmark = pytest.mark.anyio

TOKENS = "/rest/pat/latest/tokens"


def _secret_parts(token: str) -> list[str]:
    """The token, and the pieces of it that are secret on their own."""
    parts = [token, token.split("_", 1)[-1]]
    if token.count(".") == 2:
        parts.append(token.rsplit(".", 1)[1])  # a JWT's signature
    return [p for p in parts if len(p) >= 16]


async def test_no_token_in_audit_rows_or_logs(
    idp: TestProvider,
    harness: HarnessFactory,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    h = await harness([jwt_provider(idp), introspection_provider(idp)], url=database_url)
    await h.add_user("alice")
    await h.add_user("root", admin=True)
    jwt = idp.jwt_token("alice")
    opaque = idp.user_token("alice")
    secrets = [jwt, opaque]

    first = (await h.client.post(TOKENS, json={"name": "a"}, headers=bearer(jwt))).json()
    second = (await h.client.post(TOKENS, json={"name": "b"}, headers=bearer(opaque))).json()
    pats = [first["rawToken"], second["rawToken"]]
    secrets += pats
    for token in [*secrets, "jgp_" + "x" * 43, "not-a-token-but-long-enough"]:
        await h.client.get("/rest/api/2/myself", headers=bearer(token))
    await h.client.get(TOKENS, headers=bearer(pats[0]))
    await h.client.delete(f"{TOKENS}/{first['id']}", headers=bearer(jwt))
    await h.client.delete(f"{TOKENS}/{second['id']}", headers=bearer(idp.jwt_token("root")))
    for token in pats:
        assert (await h.client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 401
    idp.revoke(opaque)
    assert h.services.audit is not None
    await h.services.audit.flush()
    await h.services.pats.wait_idle()

    async with h.services.db.session() as session:
        events = (await session.scalars(select(AuditEvent))).all()
    kinds = {e.kind for e in events}
    assert kinds == {"auth", "token"}
    assert len(events) > 10
    values = [
        str(getattr(event, column.key))
        for event in events
        for column in AuditEvent.__table__.columns
    ]
    logged = [record.getMessage() for record in caplog.records]
    logged.append(caplog.text)  # formatted records, tracebacks included
    assert any("allow GET /rest/api/2/myself" in line for line in logged)  # DEBUG was captured
    for secret in secrets:
        for part in _secret_parts(secret):
            assert not [v for v in values if part in v], "a token reached audit_events"
            assert not [line for line in logged if part in line], "a token reached the logs"
