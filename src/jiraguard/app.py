"""Wiring: settings in, one ASGI application out.

Outermost first: canonical paths → authentication → routes. Everything the request path
needs is built here once (one HTTP client for all providers, one database engine, one cache),
and closed on shutdown.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from sqlalchemy.exc import DataError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from jiraguard.admin import audit as audit_api
from jiraguard.admin import pat as pat_api
from jiraguard.admin.ui import routes as admin_ui_routes
from jiraguard.auth.audit import DecisionLog
from jiraguard.auth.audit_sink import StoreAuditSink
from jiraguard.auth.authenticator import Authenticator
from jiraguard.auth.cache import MemoryPrincipalCache, PrincipalCache
from jiraguard.auth.cache_redis import (
    RedisOutage,
    RedisPrincipalCache,
    TieredPrincipalCache,
    cache_mac_key,
    make_redis,
)
from jiraguard.auth.clientip import ClientAddress
from jiraguard.auth.fences import Fences
from jiraguard.auth.flight_redis import RedisFlight
from jiraguard.auth.identity import IdentityMapper
from jiraguard.auth.middleware import AuthMiddleware
from jiraguard.auth.pat import PersonalAccessTokens
from jiraguard.auth.policy import Policy
from jiraguard.auth.provider_http import make_client
from jiraguard.auth.ratelimit import MemoryRateLimiter, RateLimiter
from jiraguard.auth.ratelimit_redis import RedisRateLimiter
from jiraguard.auth.router import ProviderRouter
from jiraguard.auth.signed_identity import SignedIdentity
from jiraguard.auth.validators.pat import PATValidator
from jiraguard.changes import CONFIG, USER, ChangeEvent, ChangeFeed, wake
from jiraguard.config import ConfigStore, settings_data
from jiraguard.jira.errors import JiraError, handle_data_error, handle_jira_error
from jiraguard.jira.paths import CanonicalPathMiddleware
from jiraguard.jira.routes import (
    attachment,
    comment,
    issue,
    link,
    meta,
    project,
    search,
    server,
    transition,
    user,
    worklog,
)
from jiraguard.logs import RequestLogMiddleware
from jiraguard.ops import (
    HTTPMetricsMiddleware,
    ProviderCalls,
    ServicesCollector,
    metrics_endpoint,
    readyz,
)
from jiraguard.proxy import (
    OriginalTargetMiddleware,
    UpstreamPool,
    UpstreamProxy,
    make_upstream_pool,
)
from jiraguard.responses import error_response
from jiraguard.settings import (
    ConfigError,
    Settings,
    config_path,
    load_settings,
    read_config_file,
)
from jiraguard.store.db import Database
from jiraguard.store.users import UserDirectory
from jiraguard.telemetry import Telemetry

log = logging.getLogger(__name__)

_STATUS_MESSAGES = {
    404: "The requested resource does not exist.",
    405: "The method is not allowed for this resource.",
}


@dataclass(frozen=True)
class ConfigSource:
    """Where the configuration came from: the file's data (before the environment), the
    environment, and the file's path for ``SIGHUP`` (see :mod:`jiraguard.config`)."""

    file_data: Mapping[str, Any]
    environ: Mapping[str, str]
    path: Path | None = None


@dataclass
class Services:
    """The long-lived parts one process shares.

    ``settings`` and the parts made from its managed sections (``router``, ``authenticator``,
    ``policy``) are replaced together by :meth:`reconfigure` when the configuration changes;
    the request path reads them from here on every request, never keeps its own copy.
    """

    settings: Settings
    http: httpx.AsyncClient
    db: Database
    users: UserDirectory
    cache: PrincipalCache
    router: ProviderRouter
    authenticator: Authenticator
    decisions: DecisionLog
    policy: Policy
    client_address: ClientAddress
    pats: PATValidator
    tokens: PersonalAccessTokens
    audit: StoreAuditSink | None
    """The audit log's writer; None when ``audit.enabled`` is false."""
    config: ConfigStore
    """The configuration's sources; ``config.save`` is how the admin UI changes it."""
    changes: ChangeFeed
    """The change feed this process follows (configuration saved, users changed)."""
    fences: Fences
    limiter: RateLimiter
    upstream: UpstreamPool | None = None
    """Gateway mode: the connection pool to the upstream Jira (None in embedded mode)."""
    signed_identity: SignedIdentity | None = None
    """Embedded mode behind a gateway: the signed identity header's verifier, when enabled."""
    redis: Redis | None = None
    """The shared Redis client when ``redis.url`` is set (cache and rate limits)."""
    redis_outage: RedisOutage | None = None
    """Failed Redis calls, shared by the cache and the rate limiter."""
    flight: RedisFlight | None = None
    """Single flight across processes (with Redis)."""
    provider_calls: ProviderCalls | None = None
    """Requests sent to providers, for ``/metrics``."""
    telemetry: Telemetry = field(default_factory=Telemetry)
    """Latencies and errors off the hot path, for ``/metrics``."""
    reloads: int = 0
    """Configurations applied since start, the first one included (for tests and metrics)."""
    _signals: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, settings: Settings, source: ConfigSource | None = None) -> Services:
        """``source``: where ``settings`` came from; without it (settings made in code) the
        settings themselves stand in for the file and the environment is not read."""
        http = make_client(settings.auth.provider_timeout)
        db = Database(settings.storage.url, pool_size=settings.storage.pool_size)
        users = UserDirectory(db)
        cache: PrincipalCache = MemoryPrincipalCache(settings.auth.cache_size)
        limiter: RateLimiter = MemoryRateLimiter()
        redis, outage, flight = None, None, None
        if settings.redis.url:
            redis = make_redis(settings.redis.url, settings.redis.socket_timeout)
            outage = RedisOutage()
            prefix = settings.redis.key_prefix
            shared = RedisPrincipalCache(
                redis, prefix, outage=outage, mac_key=cache_mac_key(settings)
            )
            shared.use_namespace(_principal_inputs(settings)[1])
            cache = TieredPrincipalCache(MemoryPrincipalCache(settings.auth.cache_size), shared)
            limiter = RedisRateLimiter(redis, prefix, outage=outage)
            flight = RedisFlight(
                redis, prefix, hold=settings.auth.provider_timeout + 1.0, outage=outage
            )
        if source is None:
            source = ConfigSource(settings_data(settings), {})
        config = ConfigStore(db, source.file_data, source.environ, path=source.path)
        audit = StoreAuditSink(db, settings.audit) if settings.audit.enabled else None
        pats = PATValidator(db, settings.tokens)
        fences = Fences(settings.auth.cache_ttl)
        telemetry = Telemetry()
        telemetry.watch(http)
        router, authenticator, policy = _request_path(
            settings, http, users, cache, limiter, pats, fences, flight, telemetry
        )
        parts = cls(
            settings,
            http,
            db,
            users,
            cache,
            router,
            authenticator,
            DecisionLog(audit, record_allowed=settings.audit.record_allowed),
            policy,
            ClientAddress(settings.server.trusted_proxies),
            pats=pats,
            tokens=PersonalAccessTokens(db, settings.tokens, audit=settings.audit.enabled),
            audit=audit,
            config=config,
            changes=ChangeFeed(
                db,
                lambda events: parts.apply_changes(events),
                poll_interval=settings.server.changes_poll_interval,
                redis=redis,
                prefix=settings.redis.key_prefix,
                outage=outage,
            ),
            fences=fences,
            limiter=limiter,
            upstream=(
                make_upstream_pool(settings.upstream, telemetry) if settings.upstream.url else None
            ),
            signed_identity=(
                SignedIdentity(settings.signed_identity, users)
                if settings.signed_identity.enabled
                else None
            ),
            redis=redis,
            redis_outage=outage,
            flight=flight,
            provider_calls=ProviderCalls(http),
            telemetry=telemetry,
        )
        config.after_save = parts.announce
        return parts

    async def start(self, *, reload_on_sighup: bool = False) -> None:
        """Start the background work (audit writer, change feed) and apply what the admin UI
        saved; called from the app's lifespan, before the first request."""
        if self.audit is not None:
            self.audit.start()
        await self.reload()
        await self.changes.start()
        if reload_on_sighup:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reread()))
            self._signals.append(signal.SIGHUP)

    def reconfigure(self, settings: Settings) -> None:
        """Replace the parts made from the managed sections (providers, auth, rules, rate
        limits) in one step.

        When what decides a token's principal changed (providers, auth), this process's
        memory is emptied and the shared cache moves to the new configuration's namespace
        (see ``use_namespace``): a process that starts with the configuration others run
        shares their entries, one with another never reads them. Checks still in flight
        under the old configuration answer their requests but cache nothing."""
        old = self.authenticator
        self.router, self.authenticator, self.policy = _request_path(
            settings,
            self.http,
            self.users,
            self.cache,
            self.limiter,
            self.pats,
            self.fences,
            self.flight,
            self.telemetry,
            previous=self.router,
        )
        inputs = _principal_inputs(settings)
        if inputs != _principal_inputs(self.settings):
            old.retire()
            local = self.cache.local if isinstance(self.cache, TieredPrincipalCache) else self.cache
            if isinstance(local, MemoryPrincipalCache):
                local.drop_all()
            if isinstance(self.cache, TieredPrincipalCache) and isinstance(
                self.cache.shared, RedisPrincipalCache
            ):
                self.cache.shared.use_namespace(inputs[1])
        self.settings = settings
        self.reloads += 1

    async def reload(self) -> bool:
        """Compose the configuration from its sources and apply it; False (the old one kept,
        the problems logged) when it is not valid."""
        try:
            settings = await self.config.current()
        except ConfigError as exc:
            log.error("configuration not applied, the previous one stays: %s", exc)
            return False
        self.reconfigure(settings)
        return True

    async def reread(self) -> None:
        """``SIGHUP``: read the file again and apply it."""
        try:
            self.config.reread_file()
        except ConfigError as exc:
            log.error("configuration file not reloaded: %s", exc)
            return
        if await self.reload():
            log.info("configuration reloaded (SIGHUP)")

    async def announce(self) -> None:
        """A change was committed here: wake the other processes and apply it in this one."""
        await wake(self.redis, self.settings.redis.key_prefix, self.redis_outage)
        await self.changes.catch_up()

    async def apply_changes(self, events: Sequence[ChangeEvent]) -> None:
        """The change feed's callback: fence the users named, reload for a configuration."""
        config = False
        for event in events:
            if event.kind == USER and event.subject:
                self.fences.user(event.subject, max(event.at, time.time()))
            elif event.kind == CONFIG:
                config = True
        if config:
            await self.reload()

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in self._signals:
            loop.remove_signal_handler(signum)
        await self.changes.stop()
        await self.pats.aclose()
        if self.audit is not None:
            await self.audit.stop()  # writes what is still queued, while the database is open
        await self.http.aclose()
        if self.upstream is not None:
            await self.upstream.aclose()
        await self.db.close()
        if self.redis is not None:
            await self.redis.aclose()


def _principal_inputs(settings: Settings) -> tuple[str, str]:
    """What decides the principal a token maps to (providers and auth settings), and its
    digest: a change to it makes earlier decisions stale; rules and rate limits are applied
    per request and do not."""
    inputs = settings.model_dump_json(include={"providers", "auth"})
    return inputs, hashlib.sha256(inputs.encode()).hexdigest()[:12]


def _request_path(
    settings: Settings,
    http: httpx.AsyncClient,
    users: UserDirectory,
    cache: PrincipalCache,
    limiter: RateLimiter,
    pats: PATValidator,
    fences: Fences,
    flight: RedisFlight | None,
    telemetry: Telemetry,
    *,
    previous: ProviderRouter | None = None,
) -> tuple[ProviderRouter, Authenticator, Policy]:
    """The parts of the request path made from the managed sections of ``settings``."""
    router = ProviderRouter.from_settings(
        settings.providers, settings.auth, http, previous=previous, telemetry=telemetry
    )
    identity = IdentityMapper(
        users,
        create_users=settings.auth.create_users,
        directory_optional=bool(settings.upstream.url) and not settings.upstream.require_local_user,
    )
    authenticator = Authenticator(
        router, identity, cache, settings.auth, users, pats=pats, fences=fences, flight=flight
    )
    policy = Policy(settings.auth, settings.rules, settings.rate_limits, limiter)
    return router, authenticator, policy


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = _STATUS_MESSAGES.get(exc.status_code, str(exc.detail))
    return error_response(exc.status_code, [message], headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Logged by Starlette with its traceback; the client learns nothing about the internals.
    return error_response(500, ["Internal server error."])


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def _ops_routes(settings: Settings, registry: CollectorRegistry) -> list[BaseRoute]:
    """``/healthz`` (alive), ``/readyz`` (ready) and, when enabled, ``/metrics``."""
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if settings.metrics.enabled:
        token = settings.metrics.token.get_secret_value() if settings.metrics.token else None
        routes.append(
            Route(settings.metrics.path, metrics_endpoint(registry, token), methods=["GET"])
        )
    return routes


def _gateway_routes(settings: Settings, parts: Services) -> list[BaseRoute]:
    """Gateway mode (``upstream.url`` set): every path but the operations endpoints forwarded
    to the upstream; empty in embedded mode."""
    if not settings.upstream.url or parts.upstream is None:
        return []
    proxy = UpstreamProxy(
        settings.upstream,
        parts.upstream,
        client_address=parts.client_address,
        auth=lambda: parts.settings.auth,
        public_url=settings.server.base_url,
    )
    return [Mount("/", app=proxy)]


def create_app(
    settings: Settings,
    services: Services | None = None,
    *,
    source: ConfigSource | None = None,
    reload_on_sighup: bool = False,
) -> Starlette:
    """The jiraguard ASGI application for ``settings`` (read from ``source``, when given)."""
    parts = services or Services.build(settings, source)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await parts.start(reload_on_sighup=reload_on_sighup)
        try:
            yield
        finally:
            await parts.aclose()

    # Per app, not prometheus_client's global registry: tests build many apps in one process.
    registry = CollectorRegistry()
    registry.register(ServicesCollector(parts))
    api = [
        *server.routes,
        *meta.routes,
        *project.routes,
        *issue.routes,
        *comment.routes,
        *transition.routes,
        *worklog.routes,
        *attachment.routes,
        *search.routes,
        *user.routes,
        *link.routes,
    ]
    # Before the gateway's catch-all Mount("/"), which would otherwise forward /admin upstream.
    admin_ui = admin_ui_routes.admin_routes() if settings.admin.enabled else []
    routes = (
        _ops_routes(settings, registry)
        + admin_ui
        + (
            _gateway_routes(settings, parts)
            or [
                Mount("/rest/api/2", routes=api),
                Mount("/rest/pat/latest", routes=pat_api.routes),
                Mount("/rest/jiraguard/1", routes=audit_api.routes),
            ]
        )
    )
    app = Starlette(
        routes=routes,
        middleware=[
            *(
                [
                    Middleware(
                        RequestLogMiddleware, routes=routes, client_address=parts.client_address
                    )
                ]
                if settings.logging.requests
                else []
            ),
            *(
                [Middleware(HTTPMetricsMiddleware, registry=registry, routes=routes)]
                if settings.metrics.enabled
                else []
            ),
            *([Middleware(OriginalTargetMiddleware)] if settings.upstream.url else []),
            Middleware(CanonicalPathMiddleware),
            Middleware(AuthMiddleware, services=parts),
        ],
        exception_handlers={
            HTTPException: _http_error,
            Exception: _server_error,
            JiraError: handle_jira_error,
            DataError: handle_data_error,
        },
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.state.settings = settings
    app.state.services = parts
    app.state.base_url = settings.server.public_url
    return app


def app_from_environment() -> Starlette:
    """The app for the settings in the environment: the factory each ``serve`` worker calls.

    ``jiraguard serve`` puts the configuration file's path in ``JIRAGUARD_CONFIG`` and its
    command-line overrides in ``JIRAGUARD_SECTION__KEY`` variables before starting workers.
    ``SIGHUP`` reloads the file in this process; with several workers uvicorn's parent takes
    ``SIGHUP`` itself and replaces the workers, which read the file as they start.
    """
    environ = dict(os.environ)
    path = config_path(None, environ)
    source = ConfigSource(read_config_file(path), environ, path)
    return create_app(load_settings(environ=environ), source=source, reload_on_sighup=True)
