"""The bare ASGI app (``bench.peer:upstream``) on the server stack ``jiraguard serve`` runs:
uvicorn, uvloop, httptools and jiraguard's connection protocol (one write per answer).

    python -m bench.bare PORT
"""

from __future__ import annotations

import sys

import uvicorn

from jiraguard.http_protocol import CoalescingProtocol


def main() -> None:
    uvicorn.run(
        "bench.peer:upstream",
        host="127.0.0.1",
        port=int(sys.argv[1]),
        http=CoalescingProtocol,
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
    )


if __name__ == "__main__":
    main()
