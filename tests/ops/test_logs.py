"""The request log: one JSON line per request through the real app, and never a secret."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Iterator

import httpx
import pytest
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jiraguard.auth.authenticator import hash_password
from jiraguard.auth.note import RequestNote
from jiraguard.logs import json_formatter, log_request, request_log, resolve_format, text_formatter
from tests.conftest import BASE_URL, HarnessFactory, bearer, jwt_provider
from tests.support.idp import TestProvider
from tests.support.logs import Captured, capture_logs

pytestmark = pytest.mark.anyio


@pytest.fixture
def captured() -> Iterator[Captured]:
    with capture_logs() as logs:
        yield logs


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
    assert len(echoed) == 32
    assert captured.requests()[0]["request_id"] == echoed


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
    harness: HarnessFactory,
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


@pytest.mark.parametrize("refused", [False, True])
def test_the_json_request_line_is_python_json_loggers_object(refused: bool) -> None:
    """The request line's direct JSON is, byte for byte, what python-json-logger writes for
    the same record."""
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
    assert line == reference.format(record)
    assert ("mallory" in line) is refused
