"""SIGHUP reloads the configuration file of a running server; a broken file changes nothing."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from tests.conftest import bearer
from tests.support.processes import Server, write_config

ME = "/rest/api/2/myself"


def test_sighup_applies_the_edited_file_and_keeps_serving_through_a_broken_one(
    tmp_path: Path,
) -> None:
    token_file = tmp_path / "admin-token"
    config = {
        "storage": {"url": f"sqlite:///{tmp_path / 'jiraguard.db'}"},
        "tokens": {"bootstrap_token_file": str(token_file)},
    }
    path = write_config(tmp_path / "jiraguard.toml", config)
    server = Server(path, log=tmp_path / "server.log").start()
    try:
        assert server.process is not None
        admin = bearer(token_file.read_text().strip())
        assert httpx.get(server.url + ME, headers=admin).status_code == 200

        write_config(path, {**config, "rules": [{"name": "no", "paths": [ME], "action": "deny"}]})
        server.process.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 1.0
        while httpx.get(server.url + ME, headers=admin).status_code != 403:
            assert time.monotonic() < deadline, "the edited file was not applied within 1 s"
            time.sleep(0.02)

        path.write_text("[auth\nbroken = ")
        server.process.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert server.process.poll() is None
        assert httpx.get(server.url + ME, headers=admin).status_code == 403  # still the last good
    finally:
        server.stop()
    log = (tmp_path / "server.log").read_text()
    assert "configuration file not reloaded" in log
    assert "not valid TOML" in log
