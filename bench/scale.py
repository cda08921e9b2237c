"""Scale-out benchmarks: the two-level principal cache with Redis.

    .venv/bin/python -m bench.scale [--rounds 5] [--principals 1000000]

1. Microseconds per authentication (``Authenticator.bearer``, the request path's step 2)
   when the principal is in this process's memory (an L1 hit) and when it is only in Redis
   (an L1 miss, then a Redis hit: a loopback round trip and a JSON decode). Both measured
   side by side, alternating rounds; reported as the ratio Redis hit / L1 hit.
2. Resident memory of one process after 1,000,000 principals went through its cache: the
   in-process level keeps ``auth.cache_size`` entries (100,000 by default), the rest lives in
   Redis only. Target: <= 300 MB. Run in a fresh child process so nothing else inflates it.

Needs Redis on 127.0.0.1:6379. The keys it writes are under a prefix of their own and
deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from jiraguard.auth.cache_redis import TieredPrincipalCache, encode
from jiraguard.auth.credentials import BearerToken
from jiraguard.auth.principal import Principal, fingerprint
from jiraguard.services import Services
from jiraguard.settings import validate_settings
from jiraguard.store.db import run_migrations

REDIS = "redis://127.0.0.1:6379/0"
TOKENS = 1000
CALLS = 20_000


def _services(workdir: Path, prefix: str, cache_size: int) -> Services:
    url = f"sqlite:///{workdir / 'bench.db'}"
    run_migrations(url)
    settings = validate_settings(
        {
            "storage": {"url": url},
            "redis": {"url": REDIS, "key_prefix": prefix},
            "auth": {"cache_size": cache_size, "cache_ttl": 3600},
        }
    )
    return Services.build(settings)


def _principal(n: int) -> Principal:
    name = f"user{n:07d}"
    return Principal(
        username=name,
        key=f"JIRAUSER{10000 + n}",
        display_name=f"User {n}",
        email=f"{name}@example.com",
        groups=frozenset({"jira-users", "developers"}),
        scopes=frozenset({"openid", "jira:read"}),
        provider="corp",
        client_id="cli",
        expires_at=time.time() + 3600,
        checked_at=time.time(),
    )


async def _fill(services: Services, start: int, count: int) -> list[str]:
    tokens = []
    for n in range(start, start + count):
        token = f"bench-token-{n}"
        await services.cache.put(fingerprint(token), _principal(n), 3600)
        tokens.append(token)
    return tokens


async def _fill_fast(services: Services, prefix: str, count: int) -> None:
    """What ``count`` cache puts leave behind, faster: Redis gets every entry (pipelined, in
    the cache's own encoding and keys), this process's memory level its own bounded puts."""
    assert isinstance(services.cache, TieredPrincipalCache)
    assert services.redis is not None
    batch = 5_000
    for start in range(0, count, batch):
        pipe = services.redis.pipeline(transaction=False)
        for n in range(start, min(start + batch, count)):
            key, principal = fingerprint(f"bench-token-{n}"), _principal(n)
            pipe.set(f"{prefix}principal:{key}", encode(principal, time.time() + 3600), ex=3600)
            await services.cache.local.put(key, principal, 3600)
        await pipe.execute()


async def _per_call(services: Services, tokens: list[BearerToken]) -> float:
    bearer = services.authenticator.bearer
    count = len(tokens)
    started = time.perf_counter()
    for i in range(CALLS):
        await bearer(tokens[i % count])
    return (time.perf_counter() - started) / CALLS * 1e6


async def l1_versus_redis(rounds: int) -> dict[str, Any]:
    prefix = f"jiraguard-bench:{uuid.uuid4().hex[:8]}:"
    with tempfile.TemporaryDirectory() as tmp:
        # Same Redis entries; one process keeps them all in memory, the other keeps one.
        (Path(tmp) / "a").mkdir()
        (Path(tmp) / "b").mkdir()
        l1 = _services(Path(tmp) / "a", prefix, cache_size=10 * TOKENS)
        shared = _services(Path(tmp) / "b", prefix, cache_size=1)
        try:
            raw = await _fill(l1, 0, TOKENS)
            tokens = [BearerToken(t, "header") for t in raw]
            await _per_call(l1, tokens)  # warm-up: L1 filled, connections open
            await _per_call(shared, tokens)
            results: dict[str, list[float]] = {"l1_hit_us": [], "redis_hit_us": []}
            for _ in range(rounds):
                results["l1_hit_us"].append(await _per_call(l1, tokens))
                results["redis_hit_us"].append(await _per_call(shared, tokens))
            assert l1.redis is not None
            names = [name async for name in l1.redis.scan_iter(match=prefix + "*", count=1000)]
            if names:
                await l1.redis.delete(*names)
        finally:
            await l1.aclose()
            await shared.aclose()
    medians = {name: statistics.median(values) for name, values in results.items()}
    return {
        **medians,
        "redis_over_l1": medians["redis_hit_us"] / medians["l1_hit_us"],
        "rounds": results,
    }


def _rss_mb(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


async def _memory(principals: int) -> dict[str, Any]:
    prefix = f"jiraguard-bench:{uuid.uuid4().hex[:8]}:"
    with tempfile.TemporaryDirectory() as tmp:
        services = _services(Path(tmp), prefix, cache_size=100_000)
        try:
            before = _rss_mb()
            started = time.perf_counter()
            await _fill_fast(services, prefix, principals)
            fill_seconds = time.perf_counter() - started
            after = _rss_mb()
            # Every principal is still found: the newest in memory, the rest in Redis.
            sample = [0, principals // 2, principals - 1]
            found = [
                (
                    await services.authenticator.bearer(BearerToken(f"bench-token-{n}", "header"))
                ).username
                for n in sample
            ]
            assert found == [f"user{n:07d}" for n in sample], found
            assert services.redis is not None
            info = await services.redis.info("memory")
            names = []
            async for name in services.redis.scan_iter(match=prefix + "*", count=5000):
                names.append(name)
                if len(names) >= 5000:
                    await services.redis.delete(*names)
                    names.clear()
            if names:
                await services.redis.delete(*names)
        finally:
            await services.aclose()
    return {
        "principals": principals,
        "rss_before_mb": round(before, 1),
        "rss_after_mb": round(after, 1),
        "rss_peak_mb": round(_rss_mb("VmHWM"), 1),
        "redis_used_mb": round(int(info["used_memory"]) / 2**20, 1),
        "fill_seconds": round(fill_seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--principals", type=int, default=1_000_000)
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        print(json.dumps(asyncio.run(_memory(args.principals))))
        return
    report: dict[str, Any] = {"auth_path": asyncio.run(l1_versus_redis(args.rounds))}
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.scale",
            "--memory-child",
            "--principals",
            str(args.principals),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    report["memory"] = json.loads(child.stdout.strip().splitlines()[-1])
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
