"""The shared principal cache: Redis behind the in-process one.

N processes behind a load balancer see the same entries, so a token checked by one is not
checked again by the next (docs/architecture.md, "Scale"). :class:`TieredPrincipalCache` asks the
process's :class:`~jiraguard.auth.cache.MemoryPrincipalCache` first and Redis only on a
local miss.

Entries are JSON (never pickle: whoever can write to Redis must not be able to run code in
jiraguard) carrying the entry's kind, its fields and its own expiry in Unix time; Redis
expires the key too (``SET PX``). Redis being slow or down never fails a request: a read
becomes a miss, a write is skipped, and :class:`RedisOutage` logs it at most every 10 s.
Nothing has to be restarted when Redis comes back: the client reconnects on the next call.

Entries are authenticated: each value is ``v1.<HMAC-SHA256>.<JSON>``, the MAC over the key's
name and the JSON with a key only jiraguard processes hold (:func:`cache_mac_key`:
``redis.cache_key``, else one derived from the storage URL). Whoever can write
to Redis can therefore not plant an accepted principal, nor move a principal from one
token's key to another's: a value whose MAC does not verify is a miss, counted in
``forged`` and logged (``jiraguard.security``, at most every 10 s).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, Protocol

from redis.asyncio import Redis

from jiraguard.auth.cache import (
    CacheEntry,
    CacheLevel,
    MemoryPrincipalCache,
    PrincipalCache,
    Rejection,
)
from jiraguard.auth.principal import Principal
from jiraguard.redis_client import FAILURES, RedisOutage
from jiraguard.settings import Settings

log = logging.getLogger(__name__)
security_log = logging.getLogger("jiraguard.security")

UNKEYED = hashlib.sha256(b"jiraguard principal cache, no key configured").digest()
"""The MAC key of a cache built without one (tests and tools); servers pass
:func:`cache_mac_key`."""
_VERSION = b"v1"


def cache_mac_key(settings: Settings) -> bytes:
    """The key that authenticates shared cache entries: ``redis.cache_key`` when set, else
    one derived from the storage URL, which every process of a deployment shares (with
    PostgreSQL it carries the database password, which a Redis writer need not know;
    ``jiraguard config check`` asks for ``redis.cache_key`` otherwise). Nothing that a
    configuration reload may change goes in, so processes mid-rollout still agree."""
    if settings.redis.cache_key is not None:
        material = b"cache_key\0" + settings.redis.cache_key.get_secret_value().encode()
    else:
        material = b"storage\0" + settings.storage.url.encode()
    return hmac.new(b"jiraguard principal cache", material, "sha256").digest()


class ForgedEntry(ValueError):
    """A cache value whose MAC does not verify: written by something other than jiraguard,
    with another key, or moved from another key."""


def seal(mac_key: bytes, name: str, payload: bytes) -> bytes:
    """``payload`` (an :func:`encode` output) authenticated for the Redis key ``name``."""
    mac = hmac.new(mac_key, name.encode() + b"\0" + payload, "sha256").digest()
    return _VERSION + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=") + b"." + payload


def unseal(mac_key: bytes, name: str, value: bytes | str) -> bytes:
    """The payload of a :func:`seal` output for ``name``; :class:`ForgedEntry` otherwise."""
    raw = value.encode() if isinstance(value, str) else value
    version, _, rest = raw.partition(b".")
    mac, _, payload = rest.partition(b".")
    expected = hmac.new(mac_key, name.encode() + b"\0" + payload, "sha256").digest()
    given = base64.urlsafe_b64encode(expected).rstrip(b"=")
    if version != _VERSION or not hmac.compare_digest(mac, given):
        raise ForgedEntry("the cache entry's MAC does not verify")
    return payload


_SET_FIELDS = ("groups", "scopes", "amr")


def encode(entry: CacheEntry, expires_at: float) -> bytes:
    """The JSON form of an entry: ``{"kind", "expires", "fields"}``."""
    if isinstance(entry, Principal):
        fields = asdict(entry)
        for name in _SET_FIELDS:
            fields[name] = sorted(fields[name])
        kind = "principal"
    else:
        fields = asdict(entry)
        kind = "rejection"
    return json.dumps(
        {"kind": kind, "expires": expires_at, "fields": fields}, separators=(",", ":")
    ).encode()


def decode(raw: bytes | str) -> tuple[CacheEntry, float]:
    """An entry and its expiry from :func:`encode`'s output; ValueError when malformed."""
    try:
        data: Any = json.loads(raw)
        fields = dict(data["fields"])
        expires = float(data["expires"])
        if data["kind"] == "rejection":
            return Rejection(**fields), expires
        if data["kind"] != "principal":
            raise ValueError(f"unknown entry kind {data['kind']!r}")
        for name in _SET_FIELDS:
            fields[name] = frozenset(fields[name])
        return Principal(**fields), expires
    except (KeyError, TypeError) as exc:
        raise ValueError("malformed cache entry") from exc


class RedisPrincipalCache:
    """:class:`~jiraguard.auth.cache.PrincipalCache` in Redis, shared by every process.

    ``clock`` is Unix time: the expiry stored in a value is read by other processes.
    """

    def __init__(
        self,
        client: Redis,
        key_prefix: str = "jiraguard:",
        *,
        clock: Callable[[], float] = time.time,
        outage: RedisOutage | None = None,
        mac_key: bytes = UNKEYED,
    ) -> None:
        self.client = client
        self.mac_key = mac_key
        self.forged = 0
        """Values refused because their MAC did not verify."""
        self._forged_warned_at = float("-inf")
        self.key_prefix = key_prefix
        self.prefix = key_prefix + "principal:"
        self.clock = clock
        self.outage = outage or RedisOutage()
        self.hits = 0
        self.misses = 0

    async def lookup(self, key: str) -> tuple[CacheEntry, float] | None:
        """The live entry for ``key`` and its remaining lifetime in seconds, or None."""
        name = self.prefix + key
        try:
            raw = await self.client.get(name)
        except FAILURES as exc:
            self.outage.report("principal cache read", exc)
            raw = None
        found: tuple[CacheEntry, float] | None = None
        if raw is not None:
            try:
                entry, expires = decode(unseal(self.mac_key, name, raw))
            except ForgedEntry:
                self._report_forged(name)
            except ValueError as exc:
                self.outage.report("principal cache entry", exc)
            else:
                remaining = expires - self.clock()
                if remaining > 0:
                    found = (entry, remaining)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    async def get(self, key: str) -> CacheEntry | None:
        found = await self.lookup(key)
        return None if found is None else found[0]

    def recent(self, key: str) -> CacheEntry | None:
        return None  # nothing is in this process's memory: always asked

    def _report_forged(self, name: str) -> None:
        self.forged += 1
        now = time.monotonic()
        if now - self._forged_warned_at >= 10:
            self._forged_warned_at = now
            security_log.warning(
                "principal cache entry %s failed its MAC check and was ignored: something "
                "other than jiraguard (or a process with another key) wrote it; "
                "%d such entries so far",
                name[-24:],
                self.forged,
            )

    def use_namespace(self, namespace: str) -> None:
        """Keep entries under ``namespace`` (a digest of the configuration that decides what
        a token maps to): processes with the same configuration share entries, a process
        with another one never reads theirs, and a change starts afresh."""
        self.prefix = f"{self.key_prefix}principal:{namespace}:"

    def reconfigured(self, namespace: str) -> None:
        self.use_namespace(namespace)

    def levels(self) -> list[CacheLevel]:
        return [CacheLevel("shared", self.hits, self.misses, forged=self.forged)]

    async def put(self, key: str, entry: CacheEntry, ttl: float) -> None:
        try:
            if ttl <= 0:
                await self.client.delete(self.prefix + key)
                return
            name = self.prefix + key
            value = seal(self.mac_key, name, encode(entry, self.clock() + ttl))
            await self.client.set(name, value, px=max(1, int(ttl * 1000)))
        except FAILURES as exc:
            self.outage.report("principal cache write", exc)

    async def clear(self) -> None:
        """Delete this prefix's principal entries (SCAN, never KEYS: Redis stays responsive)."""
        try:
            batch: list[bytes] = []
            async for name in self.client.scan_iter(match=self.prefix + "*", count=500):
                batch.append(name)
                if len(batch) >= 500:
                    await self.client.delete(*batch)
                    batch.clear()
            if batch:
                await self.client.delete(*batch)
        except FAILURES as exc:
            self.outage.report("principal cache clear", exc)


class SharedPrincipalCache(PrincipalCache, Protocol):
    async def lookup(self, key: str) -> tuple[CacheEntry, float] | None:
        """The live entry and its remaining lifetime in seconds, or None."""
        ...


class TieredPrincipalCache:
    """This process's memory first, then the shared cache (filling memory on a shared hit)."""

    def __init__(self, local: MemoryPrincipalCache, shared: SharedPrincipalCache) -> None:
        self.local = local
        self.shared = shared

    def recent(self, key: str) -> CacheEntry | None:
        return self.local.recent(key)

    async def get(self, key: str) -> CacheEntry | None:
        entry = await self.local.get(key)
        if entry is not None:
            return entry
        found = await self.shared.lookup(key)
        if found is None:
            return None
        entry, remaining = found
        # Never longer than the shared entry lives: a rejection or a revoked-soon token
        # must expire in every process at the same moment.
        await self.local.put(key, entry, remaining)
        return entry

    async def put(self, key: str, entry: CacheEntry, ttl: float) -> None:
        await self.local.put(key, entry, ttl)
        await self.shared.put(key, entry, ttl)

    async def clear(self) -> None:
        await self.local.clear()
        await self.shared.clear()

    def levels(self) -> list[CacheLevel]:
        return [*self.local.levels(), *self.shared.levels()]

    def reconfigured(self, namespace: str) -> None:
        self.local.reconfigured(namespace)
        self.shared.reconfigured(namespace)
