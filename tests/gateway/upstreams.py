"""Stand-in upstreams for the gateway tests (a real Jira is not available here).

One small ASGI app with a route per behaviour; run in a thread (:class:`ThreadServer`) or, for
the memory test, as its own process (``python -m tests.gateway.upstreams PORT``):

* ``/echo...`` (any path under ``/jira/echo`` or ``/echo``, and ``/rest``): the request as
  JSON — method, target, headers (as a list of pairs) and body length; ``.../myself`` adds
  the ``name`` a signed request impersonates;
* ``/sink`` and ``.../attachments``: reads the body in chunks, answers its length and SHA-256;
* ``/source/{n}`` and ``/rest/api/2/attachment/content/{n}``: streams ``n`` bytes (1 MiB
  chunks of one pattern) with a Content-Length;
* ``/jira/secure/Dashboard.jspa``: a gzip-encoded HTML page with a cookie (:data:`PAGE`);
* ``/jira/redirect``: a 302 to the upstream's own login page;
* ``/slow``: answers after one second;
* ``/hop``: a response with hop-by-hop headers.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import sys
import threading
import time
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from starlette.types import Receive, Scope, Send

CHUNK = bytes(range(256)) * 4096
"""1 MiB of a fixed pattern: the unit of streamed bodies (upload and download)."""

PAGE = gzip.compress(
    b"<!DOCTYPE html><html><head><title>System Dashboard - Jira</title></head>"
    b"<body>\xe9\xff\x00 not UTF-8, not decoded, not touched</body></html>",
    mtime=0,
)
"""The HTML page, gzip-encoded, exactly as the upstream sends it."""


async def _read(receive: Receive) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        body = message.get("body", b"")
        size += len(body)
        digest.update(body)
        if not message.get("more_body", False):
            break
    return size, digest.hexdigest()


async def _send(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    base = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": base + (headers or [])})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The upstream: see the module docstring for its routes."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    path: str = scope["path"]
    if path == "/sink" or path.endswith("/attachments"):
        size, digest = await _read(receive)
        answer = json.dumps({"received": size, "sha256": digest}).encode()
        await _send(send, 200, answer, [(b"content-type", b"application/json")])
    elif path.startswith(("/source/", "/rest/api/2/attachment/content/")):
        total = int(path.rsplit("/", 1)[1])
        headers = [(b"content-length", str(total).encode()), (b"content-type", b"application/zip")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        left = total
        while left > 0:
            piece = CHUNK[: min(left, len(CHUNK))]
            left -= len(piece)
            await send({"type": "http.response.body", "body": piece, "more_body": left > 0})
    elif path.startswith(("/echo", "/jira/echo", "/jira/rest", "/rest")):
        size, _ = await _read(receive)
        query = scope["query_string"]
        target = scope["raw_path"] + (b"?" + query if query else b"")
        body: dict[str, Any] = {
            "method": scope["method"],
            "target": target.decode("latin-1"),
            "headers": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in scope["headers"]],
            "length": size,
        }
        if path.endswith("/rest/api/2/myself"):
            # Jira's myself names the user; for a signed two-legged OAuth request, the one
            # the query impersonates (this stand-in knows everybody; see test_oauth1_chain for
            # a server that checks).
            requestor = parse_qs(query.decode("latin-1")).get("xoauth_requestor_id")
            if requestor and b"authorization" in dict(scope["headers"]):
                body["name"] = requestor[0]
        await _send(send, 200, json.dumps(body).encode(), [(b"content-type", b"application/json")])
    elif path == "/jira/secure/Dashboard.jspa":
        headers = [
            (b"content-type", b"text/html;charset=UTF-8"),
            (b"content-encoding", b"gzip"),
            (b"set-cookie", b"JSESSIONID=0123ABCD; Path=/jira; HttpOnly"),
            (b"set-cookie", b"atlassian.xsrf.token=B1-x; Path=/jira/secure"),
        ]
        await _send(send, 200, PAGE, headers)
    elif path == "/jira/redirect":
        host = dict(scope["headers"])[b"host"]
        location = b"http://" + host + b"/jira/login.jsp?os_destination=%2Fsecure%2FDashboard.jspa"
        await _send(send, 302, b"", [(b"location", location)])
    elif path == "/slow":
        await asyncio.sleep(1)
        await _send(send, 200, b"late")
    elif path == "/hop":
        headers = [
            (b"connection", b"x-upstream-hop"),
            (b"x-upstream-hop", b"1"),
            (b"keep-alive", b"timeout=5"),
            (b"proxy-authenticate", b"Basic"),
            (b"upgrade", b"h2c"),
            (b"x-end-to-end", b"kept"),
        ]
        await _send(send, 200, b"hop", headers)
    else:
        await _send(send, 404, b"not here")


class ThreadServer:
    """An ASGI app on a real uvicorn server, on a free loopback port, in a thread."""

    def __init__(self, asgi: Any, port: int, lifespan: str = "off", **tls: Any) -> None:
        """``tls``: uvicorn's ``ssl_*`` options, to serve HTTPS."""
        config = uvicorn.Config(
            asgi,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan=lifespan,
            ws="none",
            access_log=False,
            **tls,
        )
        self.server = uvicorn.Server(config)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", ws="none")
