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

from tests.conftest import bearer
from tests.support.idp import free_port
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
def _serving(tmp_path: Path, *options: str, shutdown_timeout: int = 15) -> Iterator[Served]:
    """``jiraguard serve OPTIONS`` on a SQLite file, with alice's personal access token."""
    port = free_port()
    config = tmp_path / "jiraguard.toml"
    config.write_text(
        f"[server]\nport = {port}\nshutdown_timeout = {shutdown_timeout}\n"
        f'[storage]\nurl = "sqlite:///{tmp_path}/jg.db"\n'
        f'[tokens]\nbootstrap_token_file = "{tmp_path}/admin.token"\n'
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
