"""Attachments of hundreds of MB pass through the gateway in bounded memory.

The gateway runs as its own process (``jiraguard serve``) so its resident memory can be read
from ``/proc/<pid>/status``; the upstream is a streaming sink and source (a real Jira is not
available here), also in its own process. Bodies are generated and consumed in chunks.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import bearer
from tests.gateway.conftest import SECRET
from tests.gateway.upstreams import CHUNK
from tests.support.idp import RESOURCE, TestProvider, free_port
from tests.support.processes import JIRAGUARD, stop
from tests.support.servers import wait_until_serving

pytestmark = [pytest.mark.anyio, pytest.mark.idp]

ROOT = Path(__file__).resolve().parents[2]
SIZE_MB = 200
MAX_GROWTH_MB = 50


def _status(pid: int, field: str) -> int:
    """A ``/proc/<pid>/status`` memory figure in KiB (VmRSS: now; VmHWM: the peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


@dataclass
class Gateway:
    url: str
    pid: int


@pytest.fixture(scope="module")
def gateway_process(
    idp: TestProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp("stream")
    upstream_port, gateway_port = free_port(), free_port()
    config = workdir / "gateway.toml"
    config.write_text(
        f"[server]\nport = {gateway_port}\n"
        f'[storage]\nurl = "sqlite:///{workdir}/gateway.db"\n'
        f'[tokens]\nbootstrap_token_file = "{workdir}/admin-token"\n'
        f'[upstream]\nurl = "http://127.0.0.1:{upstream_port}"\nshared_secret = "{SECRET}"\n'
        f'[[providers]]\nname = "corp"\nmethod = "jwt"\nissuer = "{idp.issuer}"\n'
        f'audience = ["{RESOURCE}"]\n'
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    upstream = subprocess.Popen(
        [sys.executable, "-m", "tests.gateway.upstreams", str(upstream_port)], cwd=ROOT, env=env
    )
    gateway = subprocess.Popen(
        [JIRAGUARD, "serve", "--config", str(config), "--log-level", "warning"],
        cwd=workdir,
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{upstream_port}/echo", upstream)
        wait_until_serving(f"http://127.0.0.1:{gateway_port}/healthz", gateway)
        yield Gateway(f"http://127.0.0.1:{gateway_port}", gateway.pid)
    finally:
        stop(gateway)
        stop(upstream)


async def _upload(client: httpx.AsyncClient, url: str, token: str, megabytes: int) -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(megabytes):
            yield CHUNK

    expected = hashlib.sha256()
    for _ in range(megabytes):
        expected.update(CHUNK)
    headers = {**bearer(token), "Content-Length": str(megabytes * len(CHUNK))}
    response = await client.post(
        f"{url}/rest/api/2/issue/TEST-1/attachments", content=body(), headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"received": megabytes * len(CHUNK), "sha256": expected.hexdigest()}


async def _download(client: httpx.AsyncClient, url: str, token: str, megabytes: int) -> None:
    size = megabytes * len(CHUNK)
    received = 0
    target = f"{url}/rest/api/2/attachment/content/{size}"
    async with client.stream("GET", target, headers=bearer(token)) as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(size)
        async for chunk in response.aiter_raw():
            received += len(chunk)
    assert received == size


async def test_200_mb_up_and_down_in_bounded_memory(
    gateway_process: Gateway, idp: TestProvider
) -> None:
    token = idp.jwt_token("alice")
    async with httpx.AsyncClient(timeout=60) as client:
        await _upload(client, gateway_process.url, token, 2)  # warm: imports, pools, caches
        await _download(client, gateway_process.url, token, 2)
        before = _status(gateway_process.pid, "VmRSS")
        peak_before = _status(gateway_process.pid, "VmHWM")
        await _upload(client, gateway_process.url, token, SIZE_MB)
        await _download(client, gateway_process.url, token, SIZE_MB)
    peak = _status(gateway_process.pid, "VmHWM")
    growth_mb = (peak - before) / 1024
    print(
        f"gateway RSS before {before / 1024:.1f} MB (peak so far {peak_before / 1024:.1f} MB),"
        f" peak after {SIZE_MB} MB up and down {peak / 1024:.1f} MB"
    )
    assert growth_mb < MAX_GROWTH_MB
