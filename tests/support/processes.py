"""Real ``jiraguard serve`` processes on loopback ports, for tests and benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from tests.support.idp import free_port
from tests.support.servers import wait_until_serving

JIRAGUARD = str(Path(sys.executable).with_name("jiraguard"))


def stop(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM (a graceful shutdown), SIGKILL if it takes longer than ``timeout``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def write_config(path: Path, config: Mapping[str, Any]) -> Path:
    path.write_text(tomli_w.dumps(dict(config)))
    return path


@dataclass
class Server:
    """One ``jiraguard serve`` process."""

    config: Path
    port: int = field(default_factory=free_port)
    log: Path | None = None
    extra_args: Sequence[str] = ()
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> Server:
        log = open(self.log or os.devnull, "ab")  # noqa: SIM115 - the process keeps it
        environ = {k: v for k, v in os.environ.items() if not k.startswith("JIRAGUARD_")}
        self.process = subprocess.Popen(
            [
                JIRAGUARD,
                "serve",
                "--config",
                str(self.config),
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                *self.extra_args,
            ],
            stdout=log,
            stderr=log,
            env=environ,
        )
        log.close()
        if wait:
            self.wait()
        return self

    def wait(self) -> None:
        wait_until_serving(self.url + "/healthz", self.process, timeout=30)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
