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
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from jiraguard.auth.audit import DecisionLog
from jiraguard.auth.authenticator import Authenticator
from jiraguard.auth.cache import MemoryPrincipalCache, PrincipalCache
from jiraguard.auth.identity import IdentityMapper
from jiraguard.auth.middleware import AuthMiddleware
from jiraguard.auth.provider_http import make_client
from jiraguard.auth.router import ProviderRouter
from jiraguard.jira.paths import CanonicalPathMiddleware
from jiraguard.jira.routes import server
from jiraguard.responses import error_response
from jiraguard.settings import Settings
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

    @classmethod
    def build(cls, settings: Settings) -> Services:
        http = make_client(settings.auth.provider_timeout)
        db = Database(settings.storage.url)
        users = UserDirectory(db)
        cache = MemoryPrincipalCache(settings.auth.cache_size)
        router = ProviderRouter.from_settings(settings.providers, settings.auth, http)
        identity = IdentityMapper(users, create_users=settings.auth.create_users)
        authenticator = Authenticator(router, identity, cache, settings.auth, users)
        return cls(settings, http, db, users, cache, router, authenticator, DecisionLog())

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.db.close()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = _STATUS_MESSAGES.get(exc.status_code, str(exc.detail))
    return error_response(exc.status_code, [message], headers=exc.headers)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def create_app(settings: Settings, services: Services | None = None) -> Starlette:
    """The jiraguard ASGI application for ``settings``."""
    parts = services or Services.build(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await parts.aclose()

    api = server.routes
    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Mount("/rest/api/2", routes=api),
        ],
        middleware=[
            Middleware(CanonicalPathMiddleware),
            Middleware(
                AuthMiddleware,
                authenticator=parts.authenticator,
                settings=settings.auth,
                decisions=parts.decisions,
                max_body_bytes=settings.server.max_body_bytes,
            ),
        ],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.router.redirect_slashes = False
    app.state.settings = settings
    app.state.services = parts
    app.state.base_url = settings.server.public_url
    return app
