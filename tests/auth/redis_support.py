"""A Redis client per test under its own key prefix, removed afterwards; a port nobody uses."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

from jiraguard.redis_client import make_redis
from tests.support.services import missing

REDIS_URL = "redis://127.0.0.1:6379/0"


def unused_port() -> int:
    """A loopback port with nothing listening (bound once by the OS, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def down_url() -> str:
    return f"redis://127.0.0.1:{unused_port()}/0"


def unique_prefix() -> str:
    return f"jiraguard-test:{uuid.uuid4().hex[:12]}:"


@asynccontextmanager
async def redis_client(prefix: str) -> AsyncIterator[Redis]:
    """A client to the test Redis; every key under ``prefix`` is deleted afterwards."""
    client = make_redis(REDIS_URL, socket_timeout=2.0)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        missing("Redis", f"cannot connect to {REDIS_URL}: {exc}")
    try:
        yield client
    finally:
        names = [name async for name in client.scan_iter(match=prefix + "*")]
        if names:
            await client.delete(*names)
        await client.aclose()
