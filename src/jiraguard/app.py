"""Wiring: settings in, one ASGI application out.

Outermost first: observation (logs, metrics) → canonical paths → authentication → routes.
The long-lived parts are :class:`~jiraguard.services.Services`, built once per app and closed
on shutdown.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from prometheus_client import CollectorRegistry
from sqlalchemy.exc import DataError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp
from uvicorn.config import STARTUP_FAILURE

from jiraguard.admin import audit as audit_api
from jiraguard.admin import pat as pat_api
from jiraguard.admin.ui import routes as admin_ui_routes
from jiraguard.auth.middleware import AuthMiddleware
from jiraguard.errors import (
    ErrorBoundary,
    Handler,
    JiraError,
    handle_data_error,
    handle_jira_error,
)
from jiraguard.forward_auth import ForwardAuthMiddleware
from jiraguard.jira.paths import CanonicalPathMiddleware
from jiraguard.jira.routes import (
    attachment,
    comment,
    component,
    custom_field,
    group_admin,
    issue,
    issue_people,
    issue_property,
    link,
    meta,
    permission,
    project,
    properties,
    remotelink,
    role,
    schemes,
    search,
    server,
    session,
    transition,
    user,
    user_admin,
    user_search,
    version,
    worklog,
)
from jiraguard.jira.routes import filter as saved_filter
from jiraguard.observe import ObservationMiddleware
from jiraguard.ops import ServicesCollector, metrics_endpoint, readyz
from jiraguard.proxy import OriginalTargetMiddleware, UpstreamProxy
from jiraguard.responses import error_response
from jiraguard.routing import IndexedRouter
from jiraguard.services import ConfigSource, Services
from jiraguard.settings import ConfigError, Settings, config_path, load_settings, read_config_file
from jiraguard.shared_metrics import SharedMetrics, shared_metrics_directory

_STATUS_MESSAGES = {
    404: "The requested resource does not exist.",
    405: "The method is not allowed for this resource.",
}


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = _STATUS_MESSAGES.get(exc.status_code, str(exc.detail))
    return error_response(exc.status_code, [message], headers=exc.headers)


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


def _ops_routes(
    settings: Settings, registry: CollectorRegistry, shared: SharedMetrics | None
) -> list[BaseRoute]:
    """``/healthz`` (alive), ``/readyz`` (ready) and, when enabled, ``/metrics`` (every
    worker's, when ``shared``)."""
    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if settings.metrics.enabled:
        token = settings.metrics.token.get_secret_value() if settings.metrics.token else None
        routes.append(
            Route(
                settings.metrics.path,
                metrics_endpoint(registry, token, shared.render if shared else None),
                methods=["GET"],
            )
        )
    return routes


def _gateway_routes(settings: Settings, services: Services) -> list[BaseRoute]:
    """Gateway mode (``upstream.url`` set): every path but the operations endpoints forwarded
    to the upstream; empty in embedded mode."""
    if not settings.upstream.url or services.upstream is None:
        return []
    proxy = UpstreamProxy(
        settings.upstream,
        services.upstream,
        client_address=services.client_address,
        auth=lambda: services.settings.auth,
        public_url=settings.server.base_url,
        realm=settings.auth.realm,
    )
    return [Mount("/", app=proxy)]


class _Application(Starlette):
    """Starlette, with its stack made of the configured middleware around the router's
    :class:`~jiraguard.errors.ErrorBoundary`. Starlette's own outermost layer (answering an
    unhandled error with a 500) is the observation middleware's work here, which is always
    on; its innermost (``ExceptionMiddleware``) is the boundary, without a send wrapper."""

    def build_middleware_stack(self) -> ASGIApp:
        handlers = cast(Mapping[Any, Handler], self.exception_handlers)
        app: ASGIApp = ErrorBoundary(self.router, handlers)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app


def create_app(
    settings: Settings,
    prebuilt: Services | None = None,
    *,
    source: ConfigSource | None = None,
    reload_on_sighup: bool = False,
    shared_metrics: Path | None = None,
    freeze_heap: bool = False,
) -> Starlette:
    """The jiraguard ASGI application for ``settings`` (read from ``source``, when given), on
    ``prebuilt`` services when given (tests), else on services built here. ``shared_metrics``
    is the directory where the workers of one server share their metrics. ``freeze_heap``:
    the process serves this app alone (``jiraguard serve``), so what start-up built lives as
    long as the process: it is moved out of the garbage collector's way once started
    (``gc.freeze``), and a full collection no longer walks it on every request flood."""
    services = prebuilt if prebuilt is not None else Services.build(settings, source)
    # Per app, not prometheus_client's global registry: tests build many apps in one process.
    registry = CollectorRegistry()
    registry.register(ServicesCollector(services))
    shared = (
        SharedMetrics(registry, shared_metrics)
        if shared_metrics is not None and settings.metrics.enabled
        else None
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.start(reload_on_sighup=reload_on_sighup)
        if shared is not None:
            shared.start()
        if freeze_heap:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await services.aclose()
            if shared is not None:
                await shared.stop()

    api = [
        *server.routes,
        *meta.routes,
        *project.routes,
        *schemes.routes,
        *issue.routes,
        *comment.routes,
        *transition.routes,
        *worklog.routes,
        *attachment.routes,
        *search.routes,
        *user.routes,
        *link.routes,
        *version.routes,
        *component.routes,
        *user_search.routes,
        *user_admin.routes,
        *group_admin.routes,
        *permission.routes,
        *properties.routes,
        *role.routes,
        *saved_filter.routes,
        *issue_people.routes,
        *remotelink.routes,
        *issue_property.routes,
        *custom_field.routes,
    ]
    # Before the gateway's catch-all Mount("/"), which would otherwise forward /admin upstream.
    admin_ui = admin_ui_routes.admin_routes() if settings.admin.enabled else []
    routes = (
        _ops_routes(settings, registry, shared)
        + admin_ui
        + (
            _gateway_routes(settings, services)
            or [
                Mount("/rest/api/2", app=IndexedRouter(api)),
                Mount("/rest/auth/1", app=IndexedRouter(session.routes)),
                Mount("/rest/pat/latest", app=IndexedRouter(pat_api.routes)),
                Mount(
                    "/rest/jiraguard/1",
                    app=IndexedRouter([*audit_api.routes, *custom_field.admin_routes]),
                ),
            ]
        )
    )
    app = _Application(
        routes=routes,
        middleware=[
            Middleware(
                ObservationMiddleware,
                routes=routes,
                source=services,
                registry=registry if settings.metrics.enabled else None,
                log_requests=settings.logging.requests,
            ),
            *(
                [
                    Middleware(
                        ForwardAuthMiddleware,
                        source=services,
                        settings=settings.forward_auth,
                        upstream=settings.upstream,
                    )
                ]
                if settings.forward_auth.enabled
                else []
            ),
            *([Middleware(OriginalTargetMiddleware)] if settings.upstream.url else []),
            Middleware(CanonicalPathMiddleware),
            Middleware(AuthMiddleware, source=services),
        ],
        exception_handlers={
            HTTPException: _http_error,
            JiraError: handle_jira_error,
            DataError: handle_data_error,
        },
        lifespan=lifespan,
    )
    app.router = IndexedRouter(routes, lifespan=lifespan, redirect_slashes=False)
    app.state.services = services
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
    try:
        path = config_path(None, environ)
        source = ConfigSource(read_config_file(path), environ, path)
        return create_app(
            load_settings(environ=environ),
            source=source,
            reload_on_sighup=True,
            shared_metrics=shared_metrics_directory(environ),
            freeze_heap=True,
        )
    except Exception as exc:  # said in the log, then uvicorn's "failed to start" exit
        logging.getLogger("jiraguard").error(
            "worker %d could not start: %s",
            os.getpid(),
            exc,
            exc_info=not isinstance(exc, ConfigError),
        )
        sys.exit(STARTUP_FAILURE)
