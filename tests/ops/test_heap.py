"""A served app moves what start-up built out of the garbage collector's way (``gc.freeze``):
a full collection then walks only what requests made, not the whole application again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jiraguard.store.db import run_migrations

# In a process of its own: a frozen heap stays frozen, and the test process builds many apps.
SCRIPT = """
import asyncio, gc
from jiraguard.app import app_from_environment, create_app
from jiraguard.settings import load_settings

async def started(app):  # the lifespan, as uvicorn runs it, on this thread's loop
    events = asyncio.Queue()
    await events.put({"type": "lifespan.startup"})
    answers = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},
                                   events.get, answers.put))
    assert (await answers.get())["type"] == "lifespan.startup.complete"
    frozen = gc.get_freeze_count()
    await events.put({"type": "lifespan.shutdown"})
    await task
    return frozen

print(asyncio.run(started(create_app(load_settings()))))  # as the tests build apps
print(asyncio.run(started(app_from_environment())))  # as each serve worker builds its app
"""


def test_the_served_app_freezes_its_start_up_heap_and_a_built_app_does_not(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/jiraguard.db"
    run_migrations(url)
    config = tmp_path / "jiraguard.toml"
    config.write_text(f'[storage]\nurl = "{url}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIRAGUARD_")}
    env["JIRAGUARD_CONFIG"] = str(config)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    built, served = (int(line) for line in result.stdout.split())
    assert built == 0
    assert served > 10_000  # the modules, the settings, the routes: start-up's objects
