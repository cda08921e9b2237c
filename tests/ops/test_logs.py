"""The request log: one JSON line per request through the real app, and never a secret."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import logging
import logging.config
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.auth.audit import Decision, DecisionLog
from jiraguard.auth.authenticator import hash_password
from jiraguard.auth.note import RequestNote
from jiraguard.auth.principal import Principal
from jiraguard.logs import (
    LogFormat,
    StderrHandler,
    iso_time,
    json_formatter,
    log_request,
    logging_config,
    request_log,
    resolve_format,
    text_formatter,
)
from jiraguard.logs import _pid as logs_pid
from tests.conftest import BASE_URL, HarnessFactory, bearer, jwt_provider
from tests.support.idp import TestProvider
from tests.support.logs import Captured

pytestmark = pytest.mark.anyio


async def test_allowed_refused_and_basic_blocked_requests(
    idp: TestProvider, harness: HarnessFactory, captured: Captured
) -> None:
    h = await harness([jwt_provider(idp)])
    await h.add_user("alice", password_hash=hash_password("horse battery"))
    token = idp.jwt_token("alice")
    forged = token[:-8] + "AAAAAAAA"
    basic = "Basic " + base64.b64encode(b"alice:horse battery").decode()

    allowed = await h.client.get(
        "/rest/api/2/issue/TEST-1", headers={**bearer(token), "X-Request-Id": "req-42"}
    )
    refused = await h.client.get("/rest/api/2/myself", headers=bearer(forged))
    blocked = await h.client.get("/rest/api/2/myself", headers={"Authorization": basic})
    public = await h.client.get("/healthz")

    assert [allowed.status_code, refused.status_code, blocked.status_code] == [404, 401, 401]
    assert allowed.headers["x-request-id"] == "req-42"
    lines = captured.requests()
    assert len(lines) == 4  # one line per request
    first, second, third, fourth = lines
    assert first["request_id"] == "req-42"
    assert first["method"] == "GET"
    assert first["route"] == "/rest/api/2/issue/{issue}"  # the template, not TEST-1
    assert first["status"] == 404
    assert (first["user"], first["provider"], first["auth"]) == ("alice", "corp", "jwt")
    assert first["decision"] == "allowed"
    assert isinstance(first["latency_ms"], float)
    assert first["client"] == "127.0.0.1"

    assert second["decision"] == "refused"
    assert second["status"] == 401
    assert second["auth"] == "bearer"
    assert second["reason"]
    assert second["request_id"] == refused.headers["x-request-id"]
    assert len(second["request_id"]) == 32  # generated

    assert (third["decision"], third["auth"], third["user"]) == ("refused", "basic", "alice")
    assert "Basic" in third["reason"]

    assert fourth["route"] == "/healthz"
    assert "decision" not in fourth  # nothing to decide on a public path
    assert public.headers["x-request-id"] == fourth["request_id"]

    text = captured.text
    for secret in (token, forged, token.split(".")[2], basic.split()[1], "horse battery"):
        assert secret not in text


async def test_the_query_string_is_never_logged(
    idp: TestProvider, harness: HarnessFactory, captured: Captured
) -> None:
    h = await harness([jwt_provider(idp)], auth={"allow_query_token": True})
    await h.add_user("bob")
    token = idp.jwt_token("bob")
    response = await h.client.get("/rest/api/2/myself", params={"access_token": token})
    assert response.status_code == 200
    (line,) = captured.requests()
    assert line["route"] == "/rest/api/2/myself"
    assert line["user"] == "bob"
    assert token not in captured.text
    assert "access_token" not in captured.text


@pytest.mark.parametrize(
    "sent",
    ["", " padded", "x" * 129, "new\nline", "tab\tbed", "caf\u00e9"],
    ids=["empty", "space", "too-long", "newline", "tab", "non-ascii"],
)
async def test_an_insane_request_id_is_replaced(
    harness: HarnessFactory, captured: Captured, sent: str
) -> None:
    h = await harness()
    raw = sent.encode("utf-8")
    response = await h.client.get("/healthz", headers=[(b"X-Request-Id", raw)])
    echoed = response.headers["x-request-id"]
    assert echoed != sent
    assert re.fullmatch("[0-9a-f]{32}", echoed)  # 128 bits, as hex digits
    assert captured.requests()[0]["request_id"] == echoed
    again = await h.client.get("/healthz", headers=[(b"X-Request-Id", raw)])
    assert again.headers["x-request-id"] != echoed


async def test_an_unmatched_path_is_logged_escaped(
    harness: HarnessFactory, captured: Captured
) -> None:
    h = await harness()
    response = await h.client.get("/no/such%0Apath", params={"q": "secret-query"})
    assert response.status_code == 404
    (line,) = captured.requests()
    assert line["route"] == "/no/such\\npath"
    assert "secret-query" not in captured.text


async def test_request_lines_can_be_turned_off(harness: HarnessFactory, captured: Captured) -> None:
    h = await harness(logging={"requests": False})
    response = await h.client.get("/healthz")
    assert "x-request-id" not in response.headers
    assert captured.requests() == []


def test_text_format_for_people() -> None:
    record = logging.LogRecord("jiraguard.request", logging.INFO, "", 0, "GET / 200", (), None)
    record.request_id, record.user, record.decision = "abc", "carol", "allowed"
    line = text_formatter().format(record)
    assert line.endswith(
        "INFO jiraguard.request GET / 200 request_id=abc user=carol decision=allowed"
    )


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_auto_format_is_text_on_a_terminal_only() -> None:
    assert resolve_format("auto", _Terminal()) == "text"
    assert resolve_format("auto", io.StringIO()) == "json"
    assert resolve_format("json", _Terminal()) == "json"
    assert resolve_format("text", io.StringIO()) == "text"


async def test_a_500_carries_its_request_id_and_no_traceback(
    harness: HarnessFactory, captured: Captured
) -> None:
    """A bug's 500 is the one answer a user most needs to quote: it has its request id too."""
    h = await harness()
    app = h.client._transport.app  # type: ignore[attr-defined]

    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    app.router.routes.insert(0, Route("/broken", broken))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        response = await client.get("/broken", headers={"X-Request-Id": "req-500"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-500"
    assert response.json() == {"errorMessages": ["Internal server error."], "errors": {}}
    assert "a bug" not in response.text
    (line,) = [r for r in captured.requests() if r["request_id"] == "req-500"]
    assert line["status"] == 500


async def test_an_answer_carries_one_request_id_even_if_the_app_set_one(
    harness: HarnessFactory, captured: Captured
) -> None:
    """A gateway passes the upstream's headers on, its X-Request-Id too: the client must get
    one id, the one of this request's log line, not two that disagree."""
    h = await harness()
    app = h.client._transport.app  # type: ignore[attr-defined]

    async def upstream_like(request: Request) -> Response:
        return Response("ok", headers={"X-Request-Id": "upstream-id"})

    app.router.routes.insert(0, Route("/with-id", upstream_like))
    response = await h.client.get("/with-id", headers={"X-Request-Id": "req-7"})
    assert response.headers.get_list("x-request-id") == ["req-7"]
    assert [line["request_id"] for line in captured.requests()] == ["req-7"]


async def test_no_request_id_is_made_when_no_line_is_written(harness: HarnessFactory) -> None:
    """At a level above INFO no request line is written, so there is no id to echo: the
    upstream's own passes on untouched."""
    h = await harness()
    app = h.client._transport.app  # type: ignore[attr-defined]

    async def upstream_like(request: Request) -> Response:
        return Response("ok", headers={"X-Request-Id": "upstream-id"})

    app.router.routes.insert(0, Route("/with-id", upstream_like))
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    try:
        response = await h.client.get("/with-id", headers={"X-Request-Id": "req-7"})
    finally:
        root.setLevel(level)
    assert response.headers.get_list("x-request-id") == ["upstream-id"]


@pytest.mark.parametrize("refused", [False, True])
def test_the_json_request_line_is_python_json_loggers_object(refused: bool) -> None:
    """The request line's direct JSON is the object python-json-logger writes for the same
    record: the same members, in the same order, with the same values (written compactly)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    keep, level = Keep(), request_log.level
    request_log.addHandler(keep)
    request_log.setLevel(logging.INFO)
    note = RequestNote()
    if refused:
        note.refuse("invalid_token", "mallory", None)
    try:
        log_request({"method": "GET", "headers": [(b"authorization", b"Bearer x")]}, "r-1",
                    "/rest/api/2/myself", "/rest/api/2/myself", 401 if refused else 200, note,
                    0.0042, "192.0.2.7")  # fmt: skip
    finally:
        request_log.removeHandler(keep)
        request_log.setLevel(level)
    (record,) = records
    reference = JsonFormatter(
        "%(levelname)s %(name)s %(process)d %(message)s",
        timestamp="time",
        rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
        reserved_attrs=[*RESERVED_ATTRS, "color_message", "taskName", "jiraguard_request_fields"],
    )
    line = json_formatter().format(record)
    ours, theirs = json.loads(line), json.loads(reference.format(record))
    assert ours == theirs
    assert list(ours) == list(theirs)
    assert ("mallory" in line) is refused


def _configured(log_format: LogFormat, stream: io.StringIO) -> Iterator[None]:
    """``jiraguard serve``'s logging configuration, writing to ``stream``."""
    config = logging_config(log_format, "info")
    root, saved = logging.getLogger(), logging.getLogger().handlers[:]
    level = root.level
    logging.config.dictConfig(config)
    (handler,) = root.handlers
    assert isinstance(handler, StderrHandler)
    handler.setStream(stream)
    try:
        yield
    finally:
        handler.close()
        root.handlers[:] = saved
        root.setLevel(level)


_direct_case: list[tuple[dict[str, Any], str, int, str | None]] = [
    ({"method": "GET", "headers": []}, "/rest/api/2/myself", 200, None),
    (
        {"method": "POST", "headers": [(b"authorization", b"Basic eDp5")]},
        "/rest/api/2/issue",
        401,
        "x",
    ),
]


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_the_direct_request_line_is_the_records_line(
    log_format: LogFormat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under ``serve``'s configuration a request line skips the log record; what it writes
    is what the record's formatter writes for the same request, to the microsecond."""
    direct, recorded = io.StringIO(), io.StringIO()
    for stream, through_record in ((direct, False), (recorded, True)):
        with contextlib.contextmanager(_configured)(log_format, stream):
            if through_record:  # a filter on the way sends the line through a record
                logging.getLogger().handlers[0].addFilter(lambda record: True)
            stamps = iter([1_764_590_000.25, 1_764_590_001.0])  # the same two for each
            monkeypatch.setattr(time, "time", stamps.__next__)
            for scope, route, status, user in _direct_case:
                note = RequestNote()
                if user is not None:
                    note.refuse("basic_auth_blocked", user, None)
                log_request(scope, "r-1", route, route, status, note, 0.0042, "192.0.2.7")
            monkeypatch.undo()
    assert direct.getvalue() == recorded.getvalue()
    first, second = direct.getvalue().splitlines()
    if log_format == "text":
        assert first.endswith("GET /rest/api/2/myself 200 4.2ms request_id=r-1 client=192.0.2.7")
        assert "user=x auth=basic decision=refused reason=basic_auth_blocked" in second
    else:
        one, two = json.loads(first), json.loads(second)
        assert one["time"] == "2025-12-01T11:53:20.250000+00:00"
        assert two["time"] == "2025-12-01T11:53:21+00:00"  # no fraction, as isoformat
        assert two["user"] == "x"
        assert one["pid"] == os.getpid()


_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["\x00l", "\x00r", "\x00m", "\x00t", '"', "\\", "é", "\u2028"]),
)
_MAYBE = st.one_of(st.none(), _TEXT)


@st.composite
def _notes(draw: st.DrawFn) -> RequestNote:
    """A request's note as the auth step leaves it: untouched, accepted or refused."""
    note = RequestNote()
    kind = draw(st.sampled_from(["open", "accepted", "refused", "refused with principal"]))
    principal = Principal(
        username=draw(_TEXT),
        key="k",
        display_name="d",
        email="e",
        method=draw(_TEXT),
        provider=draw(_MAYBE),
    )
    if kind == "accepted":
        note.accept(principal)
    elif kind != "open":
        holder = principal if kind == "refused with principal" else None
        note.refuse(draw(_TEXT), draw(_MAYBE), holder)
    return note


@given(
    method=st.sampled_from(["GET", "POST", "PROPFIND"]),
    route=_TEXT,
    status=st.integers(100, 599),
    note=_notes(),
    authorization=st.sampled_from([[], [(b"authorization", b"Bearer x")]]),
    request_id=st.from_regex(r"[!-~]{1,128}", fullmatch=True),
    seconds=st.one_of(st.floats(0, 10**6), st.floats(10**11, 10**13)),
    client=_MAYBE,
    created=st.floats(0, 2**33, allow_nan=False),
)
def test_a_json_request_line_from_its_kept_pieces_is_the_records_line(
    method: str,
    route: str,
    status: int,
    note: RequestNote,
    authorization: list[tuple[bytes, bytes]],
    request_id: str,
    seconds: float,
    client: str | None,
    created: float,
) -> None:
    """The direct JSON line is written from pieces kept per shape of line (everything but
    the request id, the latency and the time): the first line of a shape, the next one from
    its pieces and the record's line are the same bytes, whatever the fields hold (marks the
    pieces are cut at included)."""
    scope = {"method": method, "headers": authorization}
    written = []
    for through_record in (False, False, True):
        stream = io.StringIO()
        with contextlib.contextmanager(_configured)("json", stream):
            if through_record:
                logging.getLogger().handlers[0].addFilter(lambda record: True)
            clock, time.time = time.time, lambda: created  # type: ignore[assignment]
            try:
                log_request(scope, request_id, route, route, status, note, seconds, client)
            finally:
                time.time = clock  # type: ignore[assignment]
        written.append(stream.getvalue())
    assert written[0] == written[1] == written[2]
    assert json.loads(written[0])["request_id"] == request_id


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_refusals_audit_line_is_the_same_with_or_without_a_record(
    log_format: LogFormat, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refusal's audit line (one per refused request when request lines are off) skips
    the log record under ``serve``'s configuration, and writes what the record would."""
    refusal = Decision(
        allowed=False, reason="the access token's signature does not verify", status=401,
        method="GET", path="/rest/api/2/myself", client="192.0.2.7", provider="corp",
        auth_method="jwt", fingerprint="0123456789abcdef", code="invalid_token",
    )  # fmt: skip
    direct, recorded = io.StringIO(), io.StringIO()
    for stream, through_record in ((direct, False), (recorded, True)):
        with contextlib.contextmanager(_configured)(log_format, stream):
            if through_record:
                logging.getLogger().handlers[0].addFilter(lambda record: True)
            monkeypatch.setattr(time, "time", lambda: 1_764_590_000.25)
            DecisionLog().record(refusal)
            monkeypatch.undo()
    assert direct.getvalue() == recorded.getvalue()
    (line,) = direct.getvalue().splitlines()
    said = (
        "deny GET /rest/api/2/myself -> 401 the access token's signature does not verify "
        "user=- provider=corp via=jwt token=0123456789abcdef client=192.0.2.7"
    )
    if log_format == "json":
        assert json.loads(line) == {
            "level": "INFO", "logger": "jiraguard.audit", "pid": os.getpid(), "message": said,
            "time": "2025-12-01T11:53:20.250000+00:00",
        }  # fmt: skip
    else:
        assert line.endswith(f" INFO jiraguard.audit {said}")


def test_request_lines_of_one_loop_turn_go_out_together_and_in_order() -> None:
    """Inside the event loop, request lines wait for the end of the loop's turn; any other
    record writes them first, so the order of the lines is the order of logging."""
    stream = io.StringIO()
    writes: list[str] = []
    real_write = stream.write

    def counting(text: str) -> int:
        writes.append(text)
        return real_write(text)

    stream.write = counting  # type: ignore[method-assign]

    async def run() -> None:
        scope = {"method": "GET", "headers": []}
        for n in range(3):
            log_request(scope, f"r-{n}", "/a", "/a", 200, RequestNote(), 0.001, None)
        assert writes == []  # waiting for the turn to end
        await asyncio.sleep(0)
        assert len(writes) == 1  # three lines, one write
        log_request(scope, "r-3", "/a", "/a", 200, RequestNote(), 0.001, None)
        logging.getLogger("jiraguard.other").warning("something else")
        log_request(scope, "r-4", "/a", "/a", 200, RequestNote(), 0.001, None)
        logging.getLogger().handlers[0].flush()

    with contextlib.contextmanager(_configured)("json", stream):
        asyncio.run(run())
    said = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line.get("request_id", line["message"]) for line in said] == [
        "r-0", "r-1", "r-2", "r-3", "something else", "r-4"
    ]  # fmt: skip


@given(st.integers(0, 10**16 - 1))
def test_a_latency_in_tenths_is_spelled_the_same_by_orjson_and_the_message(tenths: int) -> None:
    """The line's message has ``{latency:.1f}``, its ``latency_ms`` orjson's number: for a
    latency below 10**15 ms the direct line writes orjson's spelling in both."""
    latency = tenths / 10  # as log_request: round(seconds * 10_000) / 10
    assert f"{latency:.1f}" == orjson.dumps(latency).decode()


@given(st.floats(min_value=-(2**31), max_value=2**33, allow_nan=False))
def test_iso_time_is_isoformat(created: float) -> None:
    assert iso_time(created) == datetime.fromtimestamp(created, tz=UTC).isoformat()


def test_a_forked_child_writes_its_own_process_id() -> None:
    """The id is asked once per process, and again in a child made by ``fork``."""
    assert logs_pid() == os.getpid()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's own report comes through the pipe
        os.write(write, f"{logs_pid()} {os.getpid()}".encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    said, actual = os.read(read, 100).decode().split()
    os.close(read)
    assert said == actual == str(child)
