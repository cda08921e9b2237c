"""``jiraguard serve --workers N``: real processes on loopback, graceful shutdown on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from jiraguard.shared_metrics import WRITE_INTERVAL
from tests.conftest import bearer
from tests.support.idp import TestProvider, free_port
from tests.support.servers import wait_until_serving
from tests.test_cli import JIRAGUARD, run

STOP_TIMEOUT = 20.0


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    port: int
    token: str
    log: Path

    def request_lines(self) -> list[dict[str, object]]:
        lines = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [line for line in lines if line.get("logger") == "jiraguard.request"]


def _workers(parent: int) -> set[int]:
    """The parent's worker processes (multiprocessing also starts a resource tracker)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    found = set()
    for pid in map(int, children):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in command:
            found.add(pid)
    return found


@contextmanager
def _serving(
    tmp_path: Path, *options: str, shutdown_timeout: int = 15, extra: str = ""
) -> Iterator[Served]:
    """``jiraguard serve OPTIONS`` on a SQLite file, with alice's personal access token;
    ``extra`` is appended to the configuration file."""
    port = free_port()
    config = tmp_path / "jiraguard.toml"
    config.write_text(
        f"[server]\nport = {port}\nshutdown_timeout = {shutdown_timeout}\n"
        f'[storage]\nurl = "sqlite:///{tmp_path}/jg.db"\n'
        f'[tokens]\nbootstrap_token_file = "{tmp_path}/admin.token"\n{extra}'
    )
    assert run("user", "add", "alice", "--create-database", config=config).returncode == 0
    created = run("token", "create", "alice", "--name", "workers", config=config)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIRAGUARD_")}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [JIRAGUARD, "serve", "--config", str(config), *options],
            stdout=subprocess.DEVNULL,
            stderr=sink,  # not a terminal: JSON lines unless --log-format says otherwise
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url + "/healthz", process)
        yield Served(process, url, port, token, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert token not in log.read_text()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    """``jiraguard serve --workers 2``."""
    with _serving(tmp_path, "--workers", "2") as started:
        yield started


def test_two_workers_serve_requests(served: Served) -> None:
    deadline = time.monotonic() + 15
    while len(_workers(served.process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = _workers(served.process.pid)
    assert len(workers) == 2

    def myself(_: int) -> int:
        # A new connection each time, so the kernel hands it to whichever worker accepts.
        response = httpx.get(served.url + "/rest/api/2/myself", headers=bearer(served.token))
        return response.status_code

    seen: set[object] = set()
    with ThreadPoolExecutor(8) as pool:
        while seen != workers and time.monotonic() < deadline:
            assert set(pool.map(myself, range(32))) == {200}
            seen = {line["pid"] for line in served.request_lines()}
    assert seen == workers
    calls = [line for line in served.request_lines() if line["route"] == "/rest/api/2/myself"]
    assert {(line["user"], line["auth"], line["status"]) for line in calls} == {
        ("alice", "pat", 200)
    }


def _post_slowly(served: Served, body: bytes) -> tuple[socket.socket, bytes]:
    """Start ``POST /rest/api/2/search`` and send all of it but the last ``len(rest)`` bytes."""
    head = (
        f"POST /rest/api/2/search HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
        f"Authorization: Bearer {served.token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    connection = socket.create_connection(("127.0.0.1", served.port), timeout=STOP_TIMEOUT)
    half = len(body) // 2
    connection.sendall(head + body[:half])
    return connection, body[half:]


def _response(connection: socket.socket) -> bytes:
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def test_sigterm_lets_the_request_in_flight_finish(served: Served) -> None:
    body = b'{"jql": "", "maxResults": 1' + b" " * 100_000 + b"}"
    connection, rest = _post_slowly(served, body)
    with connection:
        time.sleep(1.0)  # the request is in a worker, waiting for the rest of its body
        served.process.send_signal(signal.SIGTERM)
        time.sleep(1.5)  # the parent passes SIGTERM on to the workers within 0.5 s
        assert served.process.poll() is None  # still waiting for the request in flight
        with pytest.raises(httpx.TransportError):  # no new request is served
            httpx.get(served.url + "/healthz", timeout=1)
        connection.sendall(rest)
        response = _response(connection)
    status_line, _, payload = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK"
    assert b'"total":0' in payload
    assert served.process.wait(STOP_TIMEOUT) == 0
    searches = [line for line in served.request_lines() if line["route"] == "/rest/api/2/search"]
    assert [(line["status"], line["decision"]) for line in searches] == [(200, "allowed")]
    assert searches[0]["latency_ms"] > 2000  # it was in flight across the SIGTERM


def test_shutdown_timeout_cuts_a_request_that_never_ends(tmp_path: Path) -> None:
    """A client that never finishes its body holds the stop up for shutdown_timeout only."""
    with _serving(tmp_path, "--workers", "2", shutdown_timeout=1) as started:
        connection, _ = _post_slowly(started, b'{"jql": ""' + b" " * 10_000 + b"}")
        with connection:
            time.sleep(1.0)
            stopping = time.monotonic()
            started.process.send_signal(signal.SIGTERM)
            assert started.process.wait(STOP_TIMEOUT) == 0
            took = time.monotonic() - stopping
            assert not _response(connection).startswith(b"HTTP/1.1 200")
    assert 1.0 <= took < 10.0  # waited for the request, but not for ever


def test_text_log_format_on_request(tmp_path: Path) -> None:
    with _serving(tmp_path, "--log-format", "text", "--log-level", "INFO") as started:
        response = httpx.get(
            started.url + "/rest/api/2/myself",
            headers={**bearer(started.token), "X-Request-Id": "text-1"},
        )
        assert response.status_code == 200
        started.process.send_signal(signal.SIGINT)
        started.process.wait(STOP_TIMEOUT)
    lines = started.log.read_text().splitlines()
    (line,) = [line for line in lines if " jiraguard.request GET /rest/" in line]
    assert " INFO jiraguard.request GET /rest/api/2/myself 200 " in line
    assert "request_id=text-1 user=alice auth=pat decision=allowed client=127.0.0.1" in line
    assert not any(line.startswith("{") for line in lines)


def test_a_bad_log_format_is_a_configuration_error(tmp_path: Path) -> None:
    config = tmp_path / "jiraguard.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{tmp_path}/jg.db"\n')
    result = run("serve", "--log-format", "xml", "--workers", "0", config=config)
    assert result.returncode == 2
    assert "logging.format" in result.stderr
    assert "server.workers" in result.stderr  # every problem at once


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def test_metrics_sum_every_worker(served: Served) -> None:
    """One scrape sees the whole server, whichever worker the kernel hands it to."""
    workers = _two_workers(served)
    deadline = time.monotonic() + 30

    def myself(_: int) -> int:
        response = httpx.get(served.url + "/rest/api/2/myself", headers=bearer(served.token))
        return response.status_code

    sent = 0
    with ThreadPoolExecutor(8) as pool:
        while time.monotonic() < deadline:
            assert set(pool.map(myself, range(16))) == {200}
            sent += 16
            lines = served.request_lines()
            calls = [line for line in lines if line["route"] == "/rest/api/2/myself"]
            if {line["pid"] for line in calls} == workers:
                break
    assert {line["pid"] for line in calls} == workers  # both served some: each alone is less
    time.sleep(WRITE_INTERVAL + 0.5)  # every worker has written what it counted since
    for _ in range(4):  # new connections: the kernel picks a worker for each
        text = httpx.get(served.url + "/metrics").text
        assert _sample(
            text,
            "jiraguard_http_requests_total",
            route="/rest/api/2/myself",
            method="GET",
            status="200",
        ) == float(sent)
        assert _sample(
            text, "jiraguard_decisions_total", outcome="allowed", provider="pat"
        ) == float(sent)
    assert len(text.split("# TYPE jiraguard_decisions_total counter")) == 2  # one family


def _log_lines(served: Served) -> list[dict[str, object]]:
    return [json.loads(line) for line in served.log.read_text().splitlines()]


def _wait_for_line(
    served: Served, wanted: str, timeout: float = 40, pid: int | None = None
) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in _log_lines(served):
            if wanted in str(line["message"]) and pid in (None, line["pid"]):
                return line
        time.sleep(0.2)
    raise AssertionError(f"no log line with {wanted!r}")


def _two_workers(served: Served) -> set[int]:
    deadline = time.monotonic() + 30
    while len(_workers(served.process.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = _workers(served.process.pid)
    assert len(workers) == 2
    return workers


def test_a_worker_killed_is_said_and_replaced(served: Served) -> None:
    first, _ = sorted(_two_workers(served))
    _wait_for_line(served, "Application startup complete", pid=first)
    time.sleep(1.0)  # past the parent's pings of a worker still starting
    os.kill(first, signal.SIGKILL)
    line = _wait_for_line(served, f"worker {first} ended")
    assert line["message"] == f"worker {first} ended: killed by SIGKILL"
    assert line["level"] == "WARNING"
    deadline = time.monotonic() + 30
    while first in _workers(served.process.pid) or len(_workers(served.process.pid)) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_a_worker_killed_while_asked_is_not_taken_for_hung(served: Served) -> None:
    """A stopped worker leaves the parent's ping unanswered; killed then, mid-ping, it is
    said to be killed (and replaced) at once, not after the 30 s health check timeout."""
    first, _ = sorted(_two_workers(served))
    _wait_for_line(served, "Application startup complete", pid=first)
    time.sleep(1.0)  # past the parent's pings of a worker still starting
    os.kill(first, signal.SIGSTOP)
    time.sleep(1.5)  # the parent pings every 0.5 s: its ping to this worker is now pending
    os.kill(first, signal.SIGKILL)
    killed = time.monotonic()
    line = _wait_for_line(served, f"worker {first} ended", timeout=20)
    assert line["message"] == f"worker {first} ended: killed by SIGKILL"
    assert time.monotonic() - killed < 10  # well inside the 30 s timeout


def test_a_hung_worker_is_said_hung_and_replaced(served: Served) -> None:
    first, _ = sorted(_two_workers(served))
    _wait_for_line(served, "Application startup complete", pid=first)
    time.sleep(1.0)
    os.kill(first, signal.SIGSTOP)  # alive, never answers
    line = _wait_for_line(served, f"worker {first} ended", timeout=45)
    assert line["message"] == (
        f"worker {first} ended: it did not answer the health check within 30 s, alive "
        "(hung), so it was killed"
    )
    deadline = time.monotonic() + 30
    while first in _workers(served.process.pid) or len(_workers(served.process.pid)) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_a_worker_that_cannot_start_logs_why(served: Served, tmp_path: Path) -> None:
    """SIGHUP replaces the workers; with a broken file the new one says what is wrong, and
    the running workers stay."""
    workers = _two_workers(served)
    for pid in workers:  # a worker still starting would read the broken file too
        _wait_for_line(served, "Application startup complete", pid=pid)
    config = tmp_path / "jiraguard.toml"
    config.write_text(config.read_text() + "[server.nonsense]\n")
    served.process.send_signal(signal.SIGHUP)
    line = _wait_for_line(served, "could not start")
    assert str(line["message"]).startswith(f"worker {line['pid']} could not start: ")
    assert "server.nonsense" in str(line["message"])
    assert line["level"] == "ERROR"
    assert "Traceback" not in served.log.read_text()  # the configuration's words suffice
    deadline = time.monotonic() + 30
    while _workers(served.process.pid) != workers:  # the new one is gone, the old ones stay
        assert time.monotonic() < deadline, _workers(served.process.pid)
        time.sleep(0.2)
    assert httpx.get(served.url + "/healthz").text == "ok"


def test_provider_calls_and_refusals_are_logged_once(tmp_path: Path, idp: TestProvider) -> None:
    """At INFO: no line per provider call from the HTTP library; a refusal is said once, by
    its request line (with the reason), not a second time by the audit logger."""
    provider = (
        f'[[providers]]\nname = "corp-opaque"\nmethod = "introspection"\n'
        f'issuer = "{idp.issuer}"\nclient_id = "jiraguard"\nclient_secret = "jiraguard-secret"\n'
    )
    with _serving(tmp_path, "--log-level", "info", extra=provider) as started:
        for token in (idp.user_token("alice"), "opaque-unknown"):
            httpx.get(started.url + "/rest/api/2/myself", headers=bearer(token))
    lines = _log_lines(started)  # stopped: every line written
    assert not [line for line in lines if str(line["logger"]).startswith(("httpx", "httpcore"))]
    requests = [line for line in lines if line["logger"] == "jiraguard.request"]
    refused = [line for line in requests if line.get("decision") == "refused"]
    assert [line["reason"] for line in refused] == [
        "The access token is not active (expired or revoked)"
    ]
    assert not [line for line in lines if line["logger"] == "jiraguard.audit"]
