"""jiraguard on a real loopback port, for synchronous clients (the ``jira`` package).

``live_server(config, users)`` starts uvicorn with ``create_app(settings)`` in a background
thread on a free 127.0.0.1 port (``server.base_url`` is that URL, so ``self`` links point
back at it), yields the URL, and stops the server cleanly (graceful shutdown, thread joined).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import uvicorn

from jiraguard.app import create_app
from jiraguard.settings import validate_settings
from jiraguard.store.db import Database
from jiraguard.store.users import UserDirectory
from tests.support.idp import free_port

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


async def add_users(url: str, users: Mapping[str, Mapping[str, Any]]) -> None:
    db = Database(url)
    try:
        directory = UserDirectory(db)
        for name, options in users.items():
            await directory.add(name, **options)
    finally:
        await db.close()


@contextmanager
def live_server(
    config: Mapping[str, Any], users: Mapping[str, Mapping[str, Any]] | None = None
) -> Iterator[str]:
    """Serve jiraguard for ``config`` (a settings mapping) and yield its base URL.

    ``users`` (name → options of ``UserDirectory.add``) are created first; the database
    must already be migrated. Call from synchronous code only (it runs its own event loops).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = validate_settings(
        {**config, "server": {"host": "127.0.0.1", "port": port, "base_url": url}}
    )
    asyncio.run(add_users(settings.storage.url, users or {}))
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            lifespan="on",
            log_level="warning",
            ws="none",
            access_log=False,
        )
    )
    thread = threading.Thread(target=server.run, name=f"jiraguard-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(STOP_TIMEOUT)
            raise RuntimeError(f"jiraguard did not start on {url}")
        time.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            raise RuntimeError(f"jiraguard on {url} did not stop within {STOP_TIMEOUT} s")
