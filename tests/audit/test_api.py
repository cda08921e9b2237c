"""``GET /rest/jiraguard/1/audit``: administrators only, filters, paging, Jira errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jiraguard.store.audit import AuditLog
from tests.conftest import Harness, HarnessFactory, bearer, jwt_provider
from tests.support.idp import TestProvider

pytestmark = pytest.mark.anyio

AUDIT = "/rest/jiraguard/1/audit"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _row(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "at": T0 + timedelta(minutes=n),
        "allowed": n % 2 == 0,
        "status": 200 if n % 2 == 0 else 401,
        "reason": f"event {n}",
        "method": "GET",
        "path": f"/rest/api/2/issue/{n}",
        "username": "alice" if n < 6 else "bob",
        **fields,
    }


async def _app(idp: TestProvider, harness: HarnessFactory, url: str | None = None) -> Harness:
    h = await harness([jwt_provider(idp)], url=url, audit={"record_allowed": False})
    await h.add_user("root", groups=["jira-administrators"])
    await h.add_user("flagged", admin=True)
    await h.add_user("alice")
    await AuditLog(h.services.db).insert_many(
        [_row(n) for n in range(10)] + [_row(10, kind="token", username="alice")]
    )
    return h


async def _get(h: Harness, idp: TestProvider, caller: str = "root", **params: Any) -> Any:
    return await h.client.get(AUDIT, params=params, headers=bearer(idp.jwt_token(caller)))


async def test_newest_first_with_paging(
    idp: TestProvider, harness: HarnessFactory, database_url: str
) -> None:
    h = await _app(idp, harness, database_url)
    page = await _get(h, idp, startAt=1, maxResults=3)
    assert page.status_code == 200
    body = page.json()
    assert (body["startAt"], body["maxResults"], body["total"]) == (1, 3, 11)
    assert [v["reason"] for v in body["values"]] == ["event 9", "event 8", "event 7"]
    first = body["values"][0]
    assert first["at"] == "2026-01-01T00:09:00.000Z"
    assert first["kind"] == "auth"
    assert first["allowed"] is False
    assert first["status"] == 401
    assert set(first) >= {
        "clientIp",
        "provider",
        "authMethod",
        "clientId",
        "tokenId",
        "fingerprint",
    }
    assert (await _get(h, idp, maxResults=5000)).json()["maxResults"] == 1000
    assert (await _get(h, idp)).json()["maxResults"] == 50


async def test_filters(idp: TestProvider, harness: HarnessFactory, database_url: str) -> None:
    h = await _app(idp, harness, database_url)

    async def reasons(**params: Any) -> list[str]:
        response = await _get(h, idp, **params)
        assert response.status_code == 200, response.text
        return [v["reason"] for v in response.json()["values"]]

    assert await reasons(user="bob") == ["event 9", "event 8", "event 7", "event 6"]
    assert await reasons(user="bob", decision="denied") == ["event 9", "event 7"]
    assert await reasons(decision="allowed", user="alice", kind="auth") == [
        "event 4",
        "event 2",
        "event 0",
    ]
    assert await reasons(kind="token") == ["event 10"]
    assert await reasons(**{"from": "2026-01-01T00:08:00Z"}) == ["event 10", "event 9", "event 8"]
    epoch_ms = int((T0 + timedelta(minutes=1)).timestamp() * 1000)
    assert await reasons(to=str(epoch_ms)) == ["event 1", "event 0"]
    assert await reasons(**{"from": "2026-01-01T01:02:00+01:00", "to": "2026-01-01T00:03:00"}) == [
        "event 3",
        "event 2",
    ]


async def test_administrators_only(idp: TestProvider, harness: HarnessFactory) -> None:
    h = await _app(idp, harness)
    refused = await _get(h, idp, caller="alice")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/json;charset=UTF-8"
    assert refused.json()["errorMessages"] == ["You must be a Jira administrator to do this."]
    assert (await _get(h, idp, caller="flagged")).status_code == 200  # the admin flag
    assert (await _get(h, idp, caller="root")).status_code == 200  # jira-administrators
    assert (await h.client.get(AUDIT)).status_code == 401


@pytest.mark.parametrize(
    "params",
    [{"decision": "maybe"}, {"kind": "nope"}, {"from": "yesterday"}, {"to": "2026-13-01"},
     {"startAt": "-1"}, {"maxResults": "ten"}, {"from": "2026-02-01", "to": "2026-01-01"},
     {"from": "0001-01-01T00:00:00+01:00"}, {"to": "9" * 40}],
)  # fmt: skip
async def test_bad_parameters_are_400(
    idp: TestProvider, harness: HarnessFactory, params: dict[str, str]
) -> None:
    h = await _app(idp, harness)
    response = await _get(h, idp, **params)
    assert response.status_code == 400
    assert response.json()["errorMessages"]
