"""A Redis server of a test's own, to stop and start at will (the shared one must stay up)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.auth.redis_support import unused_port
from tests.support.services import missing


class PrivateRedis:
    """A Redis server of this test's own on a free port, to stop and start at will."""

    def __init__(self, directory: Path) -> None:
        self.port = unused_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        try:
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    "--port", str(self.port),
                    "--bind", "127.0.0.1",
                    "--save", "",
                    "--appendonly", "no",
                    "--dir", str(self.directory),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
        except FileNotFoundError:
            missing("Redis", "redis-server is not installed")
        deadline = time.monotonic() + 10
        while (
            subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False
            ).stdout.strip()
            != b"PONG"
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
