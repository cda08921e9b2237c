"""Operations endpoints: readiness (``/readyz``) and Prometheus metrics (``/metrics``).

Both live outside ``/rest/``, so authentication does not apply; ``/metrics`` guards itself
(a bearer token, or loopback clients only). ``/healthz`` (alive) is in :mod:`jiraguard.app`.

Metrics that already exist as counters on long-lived objects (decisions, cache hits, JWKS
fetches) are read by a custom collector at scrape time; nothing is added to the request path
but the observation middleware's one counter and one histogram observation
(:mod:`jiraguard.observe`).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from jiraguard.redis_client import FAILURES
from jiraguard.services import Services

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
DATABASE_TIMEOUT = 2.0
"""Seconds ``SELECT 1`` may take before the database counts as not ready."""


# Readiness ----------------------------------------------------------------------------------


async def _database(services: Services) -> str | None:
    async def probe() -> None:
        async with services.db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(probe(), DATABASE_TIMEOUT)
    except Exception as exc:  # any failure means "not ready", reported by class only
        return f"database unavailable ({type(exc).__name__})"
    return None


async def _redis(services: Services) -> str | None:
    if services.redis is None:
        return None
    try:
        await services.redis.ping()
    except FAILURES as exc:
        return f"Redis unavailable ({type(exc).__name__})"
    return None


def _providers(services: Services) -> dict[str, str]:
    """Per provider, from what the router already holds (never a provider call per probe)."""
    return {f"provider:{state.name}": state.detail for state in services.router.states()}


async def readiness(services: Services) -> dict[str, str]:
    """Each check's state: "ok..." or what is wrong (``/readyz`` and the admin status page)."""
    database, redis = await asyncio.gather(_database(services), _redis(services))
    checks = {"database": database or "ok"}
    if services.redis is not None:
        checks["redis"] = redis or "ok"
    checks.update(_providers(services))
    return checks


REQUIRED_CHECKS = frozenset({"database"})
"""The checks that take a process out of the load balancer when they fail.

Only what this process cannot serve without: the database holds the users, the personal
access tokens and the audit log. Redis and the providers are shared by every process: an
outage there is every process's at once, and taking them all out of the load balancer would
refuse the requests they can still serve (Redis: served without it; a provider: every other
provider's tokens and the personal access tokens). They are reported, as ``degraded``.
"""


def verdict(checks: dict[str, str]) -> str:
    """``ok``, ``degraded`` (a shared dependency fails; still ready) or ``unavailable``."""
    failing = {name for name, state in checks.items() if not state.startswith("ok")}
    if failing & REQUIRED_CHECKS:
        return "unavailable"
    return "degraded" if failing else "ok"


async def readyz(request: Request) -> Response:
    """200 while the database answers (``ok`` or ``degraded``), else 503; every check named."""
    checks = await readiness(request.app.state.services)
    status = verdict(checks)
    return JSONResponse(
        {"status": status, "checks": checks},
        status_code=503 if status == "unavailable" else 200,
        headers={"Cache-Control": "no-store"},
    )


# Metrics ------------------------------------------------------------------------------------


class ServicesCollector(Collector):
    """Reads the counters the services keep anyway, at scrape time."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterable[Metric]:
        services = self.services
        decisions = CounterMetricFamily(
            "jiraguard_decisions",
            "Authentication decisions by outcome, status, reason and provider (or local method)",
            labels=["outcome", "status", "reason", "provider"],
        )
        limited = 0
        for (allowed, status, reason, source), count in sorted(services.decisions.counts.items()):
            outcome = "allowed" if allowed else "denied"
            decisions.add_metric([outcome, str(status), reason, source], count)
            if status == 429:
                limited += count
        yield decisions
        yield CounterMetricFamily(
            "jiraguard_rate_limited_requests", "Requests refused by a rate limit", value=limited
        )
        yield from self._cache()
        if services.provider_calls is not None:
            yield CounterMetricFamily(
                "jiraguard_provider_calls",
                "HTTP requests sent to identity providers",
                value=services.provider_calls.count,
            )
        fetches = CounterMetricFamily(
            "jiraguard_jwks_fetches", "JWKS fetch attempts", labels=["provider"]
        )
        for state in services.router.states():
            if state.keys is not None:
                fetches.add_metric([state.name], state.keys.fetches)
        yield fetches
        if services.redis_outage is not None:
            yield CounterMetricFamily(
                "jiraguard_redis_errors",
                "Redis calls that failed (served without Redis)",
                value=services.redis_outage.errors,
            )
            yield GaugeMetricFamily(
                "jiraguard_changes_subscribed",
                "1 while the Redis subscription to the change feed is live",
                value=int(services.changes.subscribed),
            )
        if services.flight is not None:
            yield CounterMetricFamily(
                "jiraguard_single_flight_waits",
                "Token checks left to another process that was checking the same token",
                value=services.flight.waits,
            )
        if services.audit is not None:
            yield CounterMetricFamily(
                "jiraguard_audit_dropped_records",
                "Audit records lost: the queue was full, or the database refused or failed",
                value=services.audit.dropped,
            )
            yield CounterMetricFamily(
                "jiraguard_audit_rejected_rows",
                "Audit rows the database refused one by one (the rest of their batch was written)",
                value=services.audit.rejected,
            )
            yield GaugeMetricFamily(
                "jiraguard_audit_pending_records",
                "Audit records and tallies waiting to be written",
                value=services.audit.pending,
            )
        yield CounterMetricFamily(
            "jiraguard_configuration_reloads",
            "Configurations applied (start-up, admin UI saves, SIGHUP)",
            value=services.reloads,
        )
        yield from services.telemetry.collect()

    def _cache(self) -> Iterator[Metric]:
        levels = self.services.cache.levels()
        lookups = CounterMetricFamily(
            "jiraguard_principal_cache_lookups",
            "Principal cache lookups by level and result",
            labels=["level", "result"],
        )
        for level in levels:
            lookups.add_metric([level.name, "hit"], level.hits)
            lookups.add_metric([level.name, "miss"], level.misses)
        yield lookups
        yield CounterMetricFamily(
            "jiraguard_principal_cache_forged_entries",
            "Shared cache entries refused because their authentication code did not match",
            value=sum(level.forged for level in levels),
        )
        local = next((level for level in levels if level.name == "local"), None)
        if local is not None and local.entries is not None:
            yield GaugeMetricFamily(
                "jiraguard_principal_cache_entries", "Entries in the local cache", local.entries
            )


def _loopback(request: Request) -> bool:
    if request.client is None:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def metrics_endpoint(
    registry: CollectorRegistry, token: str | None, render: Callable[[], bytes] | None = None
) -> Any:
    """The ``/metrics`` handler: a bearer token when configured, else loopback peers only.
    ``render`` makes the text (default: ``registry``'s; with several workers, theirs summed:
    :mod:`jiraguard.shared_metrics`)."""
    if render is None:

        def render() -> bytes:
            return generate_latest(registry)

    expected = f"Bearer {token}".encode() if token else None

    async def metrics(request: Request) -> Response:
        if expected is not None:
            sent = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(sent, expected):
                return PlainTextResponse(
                    "unauthorized", 401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'}
                )
        elif not _loopback(request):
            # The direct peer, never X-Forwarded-For: a forwarded header is client-controlled.
            return PlainTextResponse("forbidden", 403)
        return Response(render(), media_type=PROMETHEUS_TEXT)

    return metrics
