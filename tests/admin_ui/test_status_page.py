"""The status page's last hour: decisions per minute from the audit log (SQLite and
PostgreSQL), the cache hit ratio and provider latency from this process's samples, counts in
words. Real requests against the real app, the real test provider and real databases."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import httpx
import pytest

from jiraguard.admin.ui.charts import decisions_chart
from jiraguard.store.audit import AuditLog, MinuteCount
from tests.admin_ui.support import admin_options, login
from tests.conftest import Harness, HarnessFactory, bearer, jwt_provider
from tests.support.idp import TestProvider

pytestmark = pytest.mark.anyio


async def _admin(harness: HarnessFactory, **sections: object) -> tuple[Harness, httpx.AsyncClient]:
    made = await harness(audit={"flush_interval": 0.05}, **sections)
    await made.add_user("root", **admin_options())
    await made.add_user("alice")
    assert (await login(made.client, "root")).status_code == 303
    return made, made.client


def _row(at: float, allowed: bool, status: int, reason: str, count: int = 1) -> dict[str, object]:
    return {"at": datetime.fromtimestamp(at, UTC), "kind": "auth", "allowed": allowed,
            "status": status, "reason": reason, "method": "GET", "path": "/rest/api/2/myself",
            "count": count}  # fmt: skip


async def test_minutes_are_counted_by_the_database(database_url: str) -> None:
    from jiraguard.store.db import Database

    db = Database(database_url)
    try:
        log = AuditLog(db)
        now = time.time()
        minute = int(now // 60)
        await log.insert_many(
            [
                _row(minute * 60 + 1, True, 200, "authenticated", count=40),
                _row(minute * 60 + 50, True, 200, "authenticated", count=2),
                _row(minute * 60 + 2, False, 401, "The token has expired", count=3),
                _row((minute - 5) * 60 + 30, False, 401, "The token has expired"),
                _row(now - 7200, True, 200, "authenticated", count=99),  # before the hour
            ]
        )
        counts = await log.per_minute(datetime.fromtimestamp(now - 3600, UTC))
    finally:
        await db.close()
    assert sorted(counts, key=lambda c: (c.minute, c.allowed)) == [
        MinuteCount(minute - 5, False, 401, "The token has expired", 1),
        MinuteCount(minute, False, 401, "The token has expired", 3),
        MinuteCount(minute, True, 200, "authenticated", 42),
    ]


def test_refusal_reasons_past_the_fifth_are_one_other_series() -> None:
    now = 60 * 1_000_000 + 30
    minute = int(now // 60)
    counts = [MinuteCount(minute, False, 401, f"reason {n}", 10 - n) for n in range(7)]
    chart = decisions_chart(counts, now)
    assert [s.label for s in chart.series] == [
        "accepted",
        *(f"refused: not authenticated (401) — reason {n}" for n in range(5)),
        "refused for another reason",
    ]
    assert [s.total for s in chart.series] == [0, 10, 9, 8, 7, 6, 9]
    assert chart.peak == sum(10 - n for n in range(7))
    # One stacked bar: its pieces fill the chart's height exactly once.
    assert round(sum(b.height for b in chart.bars), 6) == 160


async def test_the_decisions_chart_shows_real_requests_in_words(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    made, client = await _admin(harness, providers=[jwt_provider(idp)])
    token = idp.jwt_token("alice")
    for _ in range(3):
        assert (await client.get("/rest/api/2/myself", headers=bearer(token))).status_code == 200
    for _ in range(2):
        await client.get("/rest/api/2/myself", headers=bearer("not-a-token"))
    assert made.services.audit is not None
    await made.services.audit.flush()
    page = await client.get("/admin/status")
    legend = page.text.split('data-testid="decisions-legend"', 1)[1].split("</ul>", 1)[0]
    assert "4 requests accepted" in legend  # the three and root's login to the admin UI
    assert re.search(r"2 requests refused: not authenticated \(401\) — ", legend)
    chart = page.text.split('data-testid="decisions-chart"', 1)[1].split("</svg>", 1)[0]
    assert chart.count("<rect ") >= 2  # accepted and refused (two minutes: four)
    assert "requests accepted</title>" in chart
    assert "6 requests decided in the last 60 minutes" in page.text
    since_start = page.text.split('data-testid="since-start"', 1)[1].split("</ul>", 1)[0]
    assert "4 requests accepted" in since_start  # root's login among them, whatever its status
    assert "2 requests refused: not authenticated (401)" in since_start
    assert not re.search(r"(allowed|denied) \d", page.text)  # never "allowed 303"


async def test_cache_ratio_and_provider_latency_come_from_the_samples(
    harness: HarnessFactory, idp: TestProvider
) -> None:
    made, client = await _admin(harness, providers=[jwt_provider(idp)])
    sampler = made.services.sampler
    assert sampler is not None
    sampler.sample()
    empty = await client.get("/admin/status")
    assert "no token was looked up in the cache" in empty.text
    assert "No request was sent to a provider in the last hour" in empty.text
    token = idp.jwt_token("alice")
    for _ in range(4):  # one check at the provider (discovery, keys), then three cache hits
        await client.get("/rest/api/2/myself", headers=bearer(token))
    sampler.sample()
    page = await client.get("/admin/status")
    assert "75 % of 4 lookups were answered from the cache" in page.text
    assert 'data-testid="cache-chart"' in page.text
    hosts = page.text.split('data-testid="provider-hosts"', 1)[1].split("</table>", 1)[0]
    assert "127.0.0.1" in hosts
    assert ">corp<" in hosts
    assert "2 requests" in hosts  # the discovery document and the key set
    assert re.search(r"<td>\d+ ms</td>", hosts)
    assert 'data-testid="latency-chart"' in page.text
    assert "Token checks that could not reach their provider in the last hour:\nnone" in page.text


async def test_a_provider_that_cannot_be_reached_is_counted_by_name(
    harness: HarnessFactory,
) -> None:
    down = {"name": "gone", "method": "userinfo", "userinfo_endpoint": "http://127.0.0.1:9/me"}
    made, client = await _admin(harness, providers=[down])
    assert made.services.sampler is not None
    made.services.sampler.sample()
    for _ in range(2):
        answer = await client.get("/rest/api/2/myself", headers=bearer("opaque-token"))
        assert answer.status_code == 503
    page = await client.get("/admin/status")
    assert re.search(r'<span class="bad">gone: [12] checks?</span>', page.text)
