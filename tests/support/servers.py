"""Waiting for a server process the tests or benchmarks started."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_until_serving(
    url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 20.0
) -> httpx.Response:
    """GET ``url`` until it answers (any status) and return that answer.

    Raises RuntimeError when ``process`` exits first or nothing answers within ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before {url}")
        try:
            return httpx.get(url, timeout=1)
        except httpx.TransportError:
            if time.monotonic() >= deadline:
                raise RuntimeError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.05)
