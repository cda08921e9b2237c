"""Wiring: settings in, one ASGI application out.

Outermost first: canonical paths → authentication → routes. Everything the request path
needs is built here once (one HTTP client for all providers, one database engine, one cache),
and closed on shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

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
from jiraguard.auth.audit import DecisionLog
from jiraguard.auth.audit_sink import StoreAuditSink
from jiraguard.auth.authenticator import Authenticator
from jiraguard.auth.cache import MemoryPrincipalCache, PrincipalCache
from jiraguard.auth.cache_redis import (
    RedisOutage,
    RedisPrincipalCache,
    TieredPrincipalCache,
    make_redis,
)
from jiraguard.auth.clientip import ClientAddress
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
from jiraguard.settings import Settings, load_settings
from jiraguard.store.db import Database
from jiraguard.store.users import UserDirectory

log = logging.getLogger(__name__)

_STATUS_MESSAGES = {
    404: "The requested resource does not exist.",
    405: "The method is not allowed for this resource.",
}


@dataclass
class Services:
    """The long-lived parts one process shares."""

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
    upstream: UpstreamPool | None = None
    """Gateway mode: the connection pool to the upstream Jira (None in embedded mode)."""
    signed_identity: SignedIdentity | None = None
    """Embedded mode behind a gateway: the signed identity header's verifier, when enabled."""
    redis: Redis | None = None
    """The shared Redis client when ``redis.url`` is set (cache and rate limits)."""
    redis_outage: RedisOutage | None = None
    """Failed Redis calls, shared by the cache and the rate limiter."""
    provider_calls: ProviderCalls | None = None
    """Requests sent to providers, for ``/metrics``."""

    @classmethod
    def build(cls, settings: Settings) -> Services:
        http = make_client(settings.auth.provider_timeout)
        db = Database(settings.storage.url)
        users = UserDirectory(db)
        cache: PrincipalCache = MemoryPrincipalCache(settings.auth.cache_size)
        limiter: RateLimiter = MemoryRateLimiter()
        redis, outage = None, None
        if settings.redis.url:
            redis = make_redis(settings.redis.url, settings.redis.socket_timeout)
            outage = RedisOutage()
            prefix = settings.redis.key_prefix
            shared = RedisPrincipalCache(redis, prefix, outage=outage)
            cache = TieredPrincipalCache(MemoryPrincipalCache(settings.auth.cache_size), shared)
            limiter = RedisRateLimiter(redis, prefix, outage=outage)
        router = ProviderRouter.from_settings(settings.providers, settings.auth, http)
        gateway = bool(settings.upstream.url)
        identity = IdentityMapper(
            users,
            create_users=settings.auth.create_users,
            directory_optional=gateway and not settings.upstream.require_local_user,
        )
        pats = PATValidator(db, settings.tokens)
        authenticator = Authenticator(router, identity, cache, settings.auth, users, pats=pats)
        audit = StoreAuditSink(db, settings.audit) if settings.audit.enabled else None
        decisions = DecisionLog(audit, record_allowed=settings.audit.record_allowed)
        policy = Policy(settings.auth, settings.rules, settings.rate_limits, limiter)
        client_address = ClientAddress(settings.server.trusted_proxies)
        return cls(
            settings,
            http,
            db,
            users,
            cache,
            router,
            authenticator,
            decisions,
            policy,
            client_address,
            pats=pats,
            tokens=PersonalAccessTokens(db, settings.tokens, audit=settings.audit.enabled),
            audit=audit,
            upstream=make_upstream_pool(settings.upstream) if gateway else None,
            signed_identity=(
                SignedIdentity(settings.signed_identity, users)
                if settings.signed_identity.enabled
                else None
            ),
            redis=redis,
            redis_outage=outage,
            provider_calls=ProviderCalls(http),
        )

    def start(self) -> None:
        """Start the background work (the audit writer); called from the app's lifespan."""
        if self.audit is not None:
            self.audit.start()

    async def aclose(self) -> None:
        await self.pats.aclose()
        if self.audit is not None:
            await self.audit.stop()  # writes what is still queued, while the database is open
        await self.http.aclose()
        if self.upstream is not None:
            await self.upstream.aclose()
        await self.db.close()
        if self.redis is not None:
            await self.redis.aclose()


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
        protected_paths=tuple(settings.auth.protected_paths),
        public_url=settings.server.base_url,
        strip_query_token=settings.auth.allow_query_token,
    )
    return [Mount("/", app=proxy)]


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """The jiraguard ASGI application for ``settings``."""
    parts = services or Services.build(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        parts.start()
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
    routes = _ops_routes(settings, registry) + (
        _gateway_routes(settings, parts)
        or [
            Mount("/rest/api/2", routes=api),
            Mount("/rest/pat/latest", routes=pat_api.routes),
            Mount("/rest/jiraguard/1", routes=audit_api.routes),
        ]
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
            Middleware(
                AuthMiddleware,
                authenticator=parts.authenticator,
                policy=parts.policy,
                client_address=parts.client_address,
                settings=settings.auth,
                decisions=parts.decisions,
                max_body_bytes=settings.server.max_body_bytes,
                signed_identity=parts.signed_identity,
            ),
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
    """
    return create_app(load_settings())
