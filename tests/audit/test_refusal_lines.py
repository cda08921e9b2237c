"""A refusal's line in the log: said at once, its repeats counted for a window and said in
one line, while the audit sink keeps every record (``jiraguard.auth.audit``)."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from jiraguard.app import create_app
from jiraguard.auth.audit import Decision, DecisionLog
from jiraguard.auth.principal import Principal
from jiraguard.services import Services
from jiraguard.settings import validate_settings
from tests.conftest import BASE_URL, bearer

WINDOW = 0.05


class _Kept:
    """An audit sink that keeps what it is given, in order."""

    def __init__(self) -> None:
        self.refusals: list[Decision] = []

    def submit(self, decision: Decision) -> None:
        self.refusals.append(decision)

    def accepted(self, principal: Principal, method: str, path: str, client: str | None) -> None:
        raise AssertionError("no accepted request here")


def _refusal(n: int, client: str = "192.0.2.7", path: str = "/rest/api/2/myself") -> Decision:
    return Decision(
        allowed=False, reason="the access token's signature does not verify", status=401,
        method="GET", path=path, client=client, provider="corp", auth_method="jwt",
        fingerprint=f"{n:016x}", code="invalid_token",
    )  # fmt: skip


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "jiraguard.audit"]


def test_a_flood_of_one_refusal_is_one_line_then_its_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "jiraguard.audit")
    sink = _Kept()
    decisions = DecisionLog(sink, repeat_window=WINDOW)

    async def flood() -> tuple[list[str], list[str]]:
        for n in range(50):
            decisions.record(_refusal(n))
        at_once = _lines(caplog)
        await asyncio.sleep(WINDOW * 4)
        return at_once, _lines(caplog)

    at_once, after = asyncio.run(flood())
    assert at_once == [
        "deny GET /rest/api/2/myself -> 401 the access token's signature does not verify "
        "user=- provider=corp via=jwt token=0000000000000000 client=192.0.2.7"
    ]
    assert after == [
        *at_once,
        "deny GET /rest/api/2/myself -> 401 the access token's signature does not verify "
        "client=192.0.2.7: 49 more in 0.05 s, the last token=0000000000000031",
    ]
    assert [d.fingerprint for d in sink.refusals] == [f"{n:016x}" for n in range(50)]
    assert decisions.counts == {(False, 401, "invalid_token", "corp"): 50}


def test_other_clients_and_paths_are_their_own_lines_and_a_new_window_says_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "jiraguard.audit")
    decisions = DecisionLog(_Kept(), repeat_window=WINDOW)

    async def run() -> None:
        decisions.record(_refusal(1))
        decisions.record(_refusal(2, client="198.51.100.9"))
        decisions.record(_refusal(3, path="/rest/api/2/issue/JG-1"))
        decisions.record(_refusal(4))
        await asyncio.sleep(WINDOW * 4)
        decisions.record(_refusal(5))  # a new window: said at once again
        await asyncio.sleep(WINDOW * 4)

    asyncio.run(run())
    lines = _lines(caplog)
    assert [line.split(" -> ")[0] + " " + line.rsplit(" ", 1)[-1] for line in lines] == [
        "deny GET /rest/api/2/myself client=192.0.2.7",
        "deny GET /rest/api/2/myself client=198.51.100.9",
        "deny GET /rest/api/2/issue/JG-1 client=192.0.2.7",
        "deny GET /rest/api/2/myself token=0000000000000004",  # the one repeat, counted
        "deny GET /rest/api/2/myself client=192.0.2.7",
    ]
    assert "1 more in 0.05 s" in lines[3]
    assert "token=0000000000000005" in lines[4]


def test_outside_an_event_loop_every_refusal_is_said(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "jiraguard.audit")
    decisions = DecisionLog(_Kept(), repeat_window=WINDOW)
    for n in range(3):
        decisions.record(_refusal(n))
    assert len(_lines(caplog)) == 3


def test_kinds_past_the_bound_are_each_said(caplog: pytest.LogCaptureFixture) -> None:
    """Memory is bounded: past 1,024 kinds in one window, a refusal is said, not counted."""
    caplog.set_level(logging.INFO, "jiraguard.audit")
    decisions = DecisionLog(_Kept(), repeat_window=60)

    async def run() -> None:
        for n in range(1024):
            decisions.record(_refusal(n, client=f"10.0.{n // 256}.{n % 256}"))
        decisions.record(_refusal(0, client="10.9.9.9"))
        decisions.record(_refusal(1, client="10.9.9.9"))
        decisions.record(_refusal(2, client="10.0.0.0"))  # a kind counted: not said
        decisions.repeats.close()

    asyncio.run(run())
    lines = _lines(caplog)
    assert len(lines) == 1024 + 2 + 1
    assert lines[-1].endswith("client=10.0.0.0: 1 more in 60 s, the last token=0000000000000002")


def test_with_the_request_log_on_refusals_are_debug_and_not_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "jiraguard.audit")
    decisions = DecisionLog(_Kept(), refusal_level=logging.DEBUG, repeat_window=WINDOW)

    async def run() -> None:
        for n in range(3):
            decisions.record(_refusal(n))
        await asyncio.sleep(WINDOW * 4)

    asyncio.run(run())
    assert _lines(caplog) == []


@pytest.mark.anyio
async def test_a_server_closing_says_the_repeats_it_counted(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A server stopping within the window still says how many refusals its line stood for."""
    caplog.set_level(logging.INFO, "jiraguard.audit")
    settings = validate_settings(
        {
            "server": {"base_url": BASE_URL},
            "storage": {"url": sqlite_url},
            "logging": {"requests": False},
        }
    )
    services = Services.build(settings)
    transport = httpx.ASGITransport(app=create_app(settings, services))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        for n in range(3):
            answer = await client.get("/rest/api/2/myself", headers=bearer(f"bad-token-{n}"))
            assert answer.status_code == 401
    assert len(_lines(caplog)) == 1
    await services.aclose()
    lines = _lines(caplog)
    assert len(lines) == 2
    assert ": 2 more in 1 s, the last token=" in lines[1]
