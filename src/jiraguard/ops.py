"""Operations endpoints: readiness (``/readyz``) and Prometheus metrics (``/metrics``).

Both live outside ``/rest/``, so authentication does not apply; ``/metrics`` guards itself
(a bearer token, or loopback clients only). ``/healthz`` (alive) is in :mod:`jiraguard.app`.

Metrics that already exist as counters on long-lived objects (decisions, cache hits, JWKS
fetches) are read by a custom collector at scrape time; nothing is added to the request path
but :class:`HTTPMetricsMiddleware`'s one counter and one histogram observation.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import time
from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jiraguard.auth.cache_redis import FAILURES
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


async def readyz(request: Request) -> Response:
    """200 when the database, Redis (if configured) and the providers' keys are usable."""
    checks = await readiness(request.app.state.services)
    failing = any(not state.startswith("ok") for state in checks.values())
    return JSONResponse(
        {"status": "unavailable" if failing else "ok", "checks": checks},
        status_code=503 if failing else 200,
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
        local = next((level for level in levels if level.name == "local"), None)
        if local is not None and local.entries is not None:
            yield GaugeMetricFamily(
                "jiraguard_principal_cache_entries", "Entries in the local cache", local.entries
            )


def route_template(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """The route's path template (``/rest/api/2/issue/{issueIdOrKey}``): a bounded label."""
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            inner = route.routes
            if not inner:
                return route.path + "/{path}"
            return route.path + route_template(inner, {**scope, **child})
        if isinstance(route, Route):
            return route.path
    return "<unmatched>"


def _endpoint_templates(routes: Sequence[BaseRoute], prefix: str = "") -> dict[Any, str]:
    """Endpoint → full path template, for every route (the first route wins a shared one)."""
    templates: dict[Any, str] = {}
    for route in routes:
        if isinstance(route, Mount):
            for endpoint, template in _endpoint_templates(
                route.routes, prefix + route.path
            ).items():
                templates.setdefault(endpoint, template)
        elif isinstance(route, Route):
            templates.setdefault(route.endpoint, prefix + route.path)
    return templates


class RouteTemplates:
    """The path template of the route a request was routed to, for metrics and logs."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes = routes
        # The router leaves the matched endpoint in the scope; its template is looked up here
        # instead of matching every route a second time on each request.
        self._by_endpoint = _endpoint_templates(routes)

    def of(self, endpoint: Any, method: str, path: str, root_path: str) -> str:
        """The template for the scope's ``endpoint``, or by matching ``path`` when there is
        none (404), or when the scope was copied on the way in; ``<unmatched>`` if nothing."""
        # 404/405 leave the Router itself there, which is not hashable.
        route = self._by_endpoint.get(endpoint) if isinstance(endpoint, Hashable) else None
        if route is None:
            target = {"type": "http", "path": path, "root_path": root_path, "method": method}
            route = route_template(self.routes, target)
        return route


class HTTPMetricsMiddleware:
    """Counts responses by route template and status, and times them (pure ASGI)."""

    def __init__(
        self, app: ASGIApp, *, registry: CollectorRegistry, routes: Sequence[BaseRoute]
    ) -> None:
        self.app = app
        self.templates = RouteTemplates(routes)
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self.requests = Counter(
            "jiraguard_http_requests",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "jiraguard_http_request_duration_seconds",
            "Time to the end of the response, by route template",
            ["route"],
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path, root_path = scope["path"], scope.get("root_path", "")
        status = 500  # what the client sees when the app raises before starting a response

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "OTHER"
            route = self.templates.of(scope.get("endpoint"), method, path, root_path)
            series = self._series.get((method, route, status))
            if series is None:
                series = self._series[(method, route, status)] = (
                    self.requests.labels(method, route, str(status)),
                    self.latency.labels(route),
                )
            series[0].inc()
            series[1].observe(time.perf_counter() - started)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _loopback(request: Request) -> bool:
    if request.client is None:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def metrics_endpoint(registry: CollectorRegistry, token: str | None) -> Any:
    """The ``/metrics`` handler: a bearer token when configured, else loopback peers only."""
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
        return Response(generate_latest(registry), media_type=PROMETHEUS_TEXT)

    return metrics
