"""Instructions per request of live servers, counted by valgrind's callgrind.

    .venv/bin/python -m bench.instructions [--requests 2000] [--connections 8]

Throughput on a shared machine swings by half from one run to the next; an instruction count
does not: callgrind counts every instruction the server process executes in user space, the
same on a busy machine as on a quiet one. So the ratios of :mod:`bench.auth` are measured here
a second way, on the same servers and requests:

* ``GET /rest/api/2/serverInfo`` on two ``jiraguard serve`` processes identical but for
  ``auth.protected_paths``: the route left open, and protected (a cached JWT on every
  request). Target: open ÷ auth instructions >= 0.9 (the throughput ratio auth ÷ open);
* ``GET /rest/api/2/myself`` with the same JWT on the protected server, and the same request
  to the bare ASGI app (:mod:`bench.bare`: uvicorn, uvloop, httptools and jiraguard's
  connection protocol, a user JSON for every request). Target: bare ÷ myself >= 0.5;
* ``GET /rest/api/2/myself`` on the protected server with a forged token, a new one on every
  request (the valid token's header and claims, a random signature): the refusal a flood of
  bad tokens costs, a 401 checked on every answer (``forged``).

``--before SRC`` counts each jiraguard server a second time with another tree's ``src`` on
``PYTHONPATH`` (same configuration, same requests), for a change's effect side by side;
``--only NAME...`` counts those servers alone.

Each server runs under ``valgrind --tool=callgrind``; a client in this process (raw sockets,
keep-alive, ``--connections`` at once, every answer checked to be a 200) sends a warm-up, then
the counters are zeroed (``callgrind_control -z``), ``--requests`` requests are sent, and the
counters dumped (``-d``): the dump holds exactly those requests' instructions. Every server
gets the same request bytes (the JWT too, on the open one). The token is an RS256 JWT of a
key made here, the provider a ``jwt`` one with that ``public_key``: the cached path never sees
a provider, so no OpenID provider runs. The audit flush and the change feed's poll run per
second, not per request; valgrind makes a request about fifty times slower, so they would
weigh fifty times as much: both are set to run once an hour here.

What it does not show: the kernel's share (system calls, the network stack; about the same
for every server here, as they answer the same requests in the same way) and how fast the
instructions run (a C server's run faster than an interpreter's: compare only servers on the
same stack, as these are).

Needs valgrind (``apt-get install valgrind``; ``callgrind_control`` comes with it).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.idp import free_port
from tests.support.servers import wait_until_serving

JIRAGUARD = str(Path(sys.executable).with_name("jiraguard"))
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Server:
    name: str
    command: list[str]
    port: int
    path: str
    """The request each count sends."""
    health: str = "/healthz"
    env: dict[str, str] | None = None
    forged: bool = False
    """A new forged token on every request, each answered 401 (else the valid one, 200)."""


async def _connection(port: int, requests: list[bytes], status: bytes) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in requests:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if head[9:12] != status:
                raise RuntimeError(f"answered {head[:12]!r}")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
    finally:
        writer.close()


async def _send(server: Server, tokens: Iterator[str], count: int, connections: int) -> None:
    def request(token: str) -> bytes:
        return (
            f"GET {server.path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"User-Agent: bench\r\nAuthorization: Bearer {token}\r\n\r\n"
        ).encode()

    each = count // connections
    status = b"401" if server.forged else b"200"
    batches = [[request(next(tokens)) for _ in range(each)] for _ in range(connections)]
    await asyncio.gather(*(_connection(server.port, batch, status) for batch in batches))


def _forged(token: str) -> Iterator[str]:
    """``token`` with a new random signature each time (below the modulus, as a real one)."""
    signed = token.rsplit(".", 1)[0]
    while True:
        signature = bytes([os.urandom(1)[0] & 0x7F]) + os.urandom(255)
        yield f"{signed}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def count(server: Server, token: str, requests: int, connections: int, workdir: Path) -> float:
    """Instructions per request of ``server`` answering ``requests`` requests."""
    tokens = _forged(token) if server.forged else itertools.repeat(token)
    out = workdir / f"callgrind.{server.name}"
    process = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.%p", *server.command],
        cwd=ROOT,
        env={**os.environ, **(server.env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{server.port}{server.health}", process, 600)
        asyncio.run(_send(server, tokens, 400, connections))
        control = ["callgrind_control"]
        subprocess.run([*control, "-z", str(process.pid)], check=True, capture_output=True)
        asyncio.run(_send(server, tokens, requests, connections))
        subprocess.run([*control, "-d", str(process.pid)], check=True, capture_output=True)
        dump = Path(f"{out}.{process.pid}.1")
        for _ in range(100):
            if dump.exists() and "totals:" in dump.read_text():
                break
            time.sleep(0.1)
        for line in dump.read_text().splitlines():
            if line.startswith("totals:"):
                return int(line.split()[1]) / (requests // connections * connections)
        raise RuntimeError(f"no totals in {dump}")
    finally:
        process.terminate()
        process.wait(60)


def _setup(workdir: Path) -> tuple[str, Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    claims = {"iss": "https://idp.bench", "aud": "jira", "sub": "alice", "iat": now}
    token = jwt.encode(
        {**claims, "preferred_username": "alice", "exp": now + 86400}, key, algorithm="RS256"
    )
    base = (
        '[server]\nbase_url = "http://bench"\nchanges_poll_interval = 60\n'
        "[audit]\nflush_interval = 3600\n"
        f'[storage]\nurl = "sqlite:///{workdir}/bench.db"\n'
        '[[providers]]\nname = "corp"\nmethod = "jwt"\nissuer = "https://idp.bench"\n'
        f'audience = ["jira"]\nalgorithms = ["RS256"]\npublic_key = """{public.decode()}"""\n'
    )
    protected, opened = workdir / "auth.toml", workdir / "open.toml"
    protected.write_text(base)
    opened.write_text(base + '[auth]\nprotected_paths = ["/none/"]\n')
    subprocess.run(
        [JIRAGUARD, "user", "add", "alice", "--config", str(protected), "--create-database"],
        check=True,
        capture_output=True,
    )
    return token, protected, opened


NAMES = ("open", "auth", "myself", "bare", "forged")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--before", type=Path, help="another tree's src, counted beside this one")
    parser.add_argument("--only", nargs="+", choices=NAMES, default=list(NAMES))
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("valgrind is needed: apt-get install valgrind")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        token, protected, opened = _setup(workdir)

        trees = {"": None} if args.before is None else {"": None, " before": args.before}

        def serve(name: str, config: Path, path: str, forged: bool = False) -> list[Server]:
            servers = []
            for label, src in trees.items():
                port = free_port()
                command = [JIRAGUARD, "serve", "--config", str(config), "--log-level", "warning"]
                env = {"JIRAGUARD_SERVER__PORT": str(port)}
                if src is not None:
                    env["PYTHONPATH"] = f"{src.resolve()}:{ROOT}"
                servers.append(Server(name + label, command, port, path, env=env, forged=forged))
            return servers

        bare_port = free_port()
        every = [
            *serve("open", opened, "/rest/api/2/serverInfo"),
            *serve("auth", protected, "/rest/api/2/serverInfo"),
            *serve("myself", protected, "/rest/api/2/myself"),
            Server(
                "bare",
                [sys.executable, "-m", "bench.bare", str(bare_port)],
                bare_port,
                "/rest/api/2/myself",
                health="/",
            ),
            *serve("forged", protected, "/rest/api/2/myself", forged=True),
        ]
        servers = [server for server in every if server.name.split()[0] in args.only]
        # Two at a time (the machine's two cores): a count does not depend on what else runs.
        with ThreadPoolExecutor(max_workers=2) as pool:
            found = pool.map(
                lambda server: count(server, token, args.requests, args.connections, workdir),
                servers,
            )
            counted = dict(zip([server.name for server in servers], found, strict=True))
    for name, found in counted.items():
        before = counted.get(f"{name} before")
        change = f"   before ÷ this: {before / found:.3f}" if before and " " not in name else ""
        print(f"{name:14s} {found:9,.0f} instructions per request{change}")
    if {"open", "auth"} <= counted.keys():
        print(f"serverInfo open ÷ auth: {counted['open'] / counted['auth']:.3f} (target >= 0.9)")
    if {"bare", "myself"} <= counted.keys():
        print(f"bare ÷ myself: {counted['bare'] / counted['myself']:.3f} (target >= 0.5)")


if __name__ == "__main__":
    main()
