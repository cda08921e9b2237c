"""An HTTP request scope built by hand, for tests that drive the ASGI app message by message
(a body that never ends, a client that goes away)."""

from __future__ import annotations

from typing import Any


def request_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """A ``method`` request for ``path`` on ``jira.test`` from 127.0.0.1, ``headers`` after Host."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"jira.test"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("jira.test", 80),
        "state": {},
    }


def post_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """A ``POST`` to ``path`` (:func:`request_scope`)."""
    return request_scope("POST", path, headers)
