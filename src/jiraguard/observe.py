"""Observation: one pure-ASGI middleware that sees every HTTP request once.

Outermost, so it covers the whole app: it answers an error nothing else answered with a
500 in Jira's format, gives the request its id (echoed in ``X-Request-Id`` on every response,
a 500 included, while request lines are written), captures the status, and when the
response is done computes the route template once for both of its readers: the request log
line (:func:`jiraguard.logs.log_request`) and the HTTP metrics. The client address and the
authentication verdict come from the :class:`~jiraguard.auth.note.RequestNote` the auth step
filled, never worked out again.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jiraguard.auth.note import NOTE, RequestNote
from jiraguard.auth.request_path import RequestPathSource
from jiraguard.logs import log_request, request_log
from jiraguard.loop_histogram import LoopHistogram
from jiraguard.responses import error_response

REQUEST_ID_HEADER = b"x-request-id"
_SANE_REQUEST_ID = re.compile(r"[!-~]{1,128}")

_ids = random.Random()  # noqa: S311  # not a secret: a log line's name, unique by chance
"""Where request ids come from: 128 random bits each, seeded from the system's randomness
(a system call per id was about a fifth of what a request line costs; an id is not a
secret, only a name to find the request's line by). A forked process seeds its own."""
os.register_at_fork(after_in_child=_ids.seed)
"""An incoming request id is kept when it is 1 to 128 printable ASCII characters, no space."""
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


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

    _KEPT = 4096
    """Most templates of unrouted paths kept (past that, the kept ones are dropped)."""
    _LONGEST_KEPT = 512
    """Longest path whose template is kept."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.routes = routes
        # The router leaves the matched endpoint in the scope; its template is looked up here
        # instead of matching every route a second time on each request.
        self._by_endpoint = _endpoint_templates(routes)
        self._by_path: dict[tuple[str, str], str] = {}
        """Templates of requests that never reached the router (refused, 404), by root path
        and path: matching every route costs more than the rest of a refusal."""

    def of(self, endpoint: Any, method: str, path: str, root_path: str) -> str:
        """The template for the scope's ``endpoint``, or by matching ``path`` when there is
        none (404, a refusal), or when the scope was copied on the way in; ``<unmatched>``
        if nothing. The first route whose path matches decides, whatever the method (a
        405's route is the route), so the answer is a function of the path alone."""
        try:  # not isinstance(endpoint, Hashable): an abstract-class test on every request
            route = self._by_endpoint.get(endpoint)
        except TypeError:  # 404/405 leave the Router itself there, which is not hashable
            route = None
        if route is None:
            route = self._by_path.get((root_path, path))
            if route is None:
                target = {"type": "http", "path": path, "root_path": root_path, "method": method}
                route = route_template(self.routes, target)
                if len(path) <= self._LONGEST_KEPT:  # a flood of long paths holds no memory
                    if len(self._by_path) >= self._KEPT:
                        self._by_path.clear()
                    self._by_path[(root_path, path)] = route
        return route


class HTTPMetrics(Collector):
    """Responses by method, route template and status, and their latency: a counter
    (``jiraguard_http_requests``) and a histogram (``jiraguard_http_request_duration_seconds``,
    prometheus-client's default buckets), exposed exactly as prometheus-client's own would be.

    Counted in plain numbers and turned into metric families when scraped: prometheus-client's
    counter and histogram take a lock on every update (the histogram several), which costs a
    request more than all its other counting; every update here happens on the event loop's
    one thread."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._requests: dict[tuple[str, str, int], list[float]] = {}
        """(method, route, status) → [count, created]."""
        self._latency = LoopHistogram(
            "jiraguard_http_request_duration_seconds",
            "Time to the end of the response, by route template",
            ["route"],
            Histogram.DEFAULT_BUCKETS,
        )
        registry.register(self)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in _METHODS else "OTHER"
        counted = self._requests.get((method, route, status))
        if counted is None:
            counted = self._requests[(method, route, status)] = [0, time.time()]
        counted[0] += 1
        self._latency.observe((route,), seconds)

    def collect(self) -> Iterable[Metric]:
        requests = CounterMetricFamily(
            "jiraguard_http_requests",
            "HTTP requests by route template and status",
            labels=["method", "route", "status"],
        )
        for (method, route, status), (count, created) in list(self._requests.items()):
            requests.add_metric([method, route, str(status)], count, created=created)
        yield requests
        yield from self._latency.collect()


_name = itemgetter(0)
"""A header's name: ``REQUEST_ID_HEADER in map(_name, headers)`` looks for the id in C, with
no bytecode per header (most requests and answers carry none)."""


def _request_id(scope: Scope) -> str:
    headers = scope["headers"]
    if REQUEST_ID_HEADER in map(_name, headers):
        for name, value in headers:
            if name == REQUEST_ID_HEADER:
                candidate: str = value.decode("latin-1")
                if _SANE_REQUEST_ID.fullmatch(candidate):
                    return candidate
                break
    return _ids.randbytes(16).hex()  # 32 hex digits; a format spec costs twice as much


class ObservationMiddleware:
    """Request id, status, latency, route template; then the log line and the metrics."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Sequence[BaseRoute],
        source: RequestPathSource,
        registry: CollectorRegistry | None,
        log_requests: bool,
    ) -> None:
        """``registry``: where the HTTP metrics go (None: none kept); ``log_requests``: write
        one line per request; ``source``: the request path, for the client address of
        requests the auth step did not look at."""
        self.app = app
        self.templates = RouteTemplates(routes)
        self.source = source
        self.metrics = HTTPMetrics(registry) if registry is not None else None
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        path, root_path = scope["path"], scope.get("root_path", "")
        # The id is for finding the request's log line: made and echoed when there is one
        # (request lines on, and the level letting INFO through).
        logging_on = self.log_requests and request_log.isEnabledFor(logging.INFO)
        request_id = _request_id(scope) if logging_on else ""
        echo = (REQUEST_ID_HEADER, request_id.encode()) if logging_on else None
        note = scope[NOTE] = RequestNote()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if echo is not None:
                    # One id per answer: an upstream's own (gateway mode) is replaced by ours.
                    headers = message.get("headers", ())
                    if REQUEST_ID_HEADER in map(_name, headers):
                        headers = [h for h in headers if h[0] != REQUEST_ID_HEADER]
                    message = {**message, "headers": [*headers, echo]}
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            if status == 0:
                # Answered here (with the request id, when there is one); the exception goes
                # on to the server, which logs it with its traceback: the client learns
                # nothing about the internals. Once a response has started, nothing more is
                # sent (the server ends the connection).
                await error_response(500, ["Internal server error."])(scope, receive, sending)
            raise
        finally:
            status = status or 500  # the app raised before starting a response
            metrics = self.metrics
            if metrics is not None or logging_on:
                route = self.templates.of(scope.get("endpoint"), scope["method"], path, root_path)
                elapsed = time.perf_counter() - started
                if metrics is not None:
                    metrics.observe(scope["method"], route, status, elapsed)
                if logging_on:
                    client = (
                        note.client if note.protected else self.source.path.client_address.of(scope)
                    )
                    log_request(scope, request_id, route, path, status, note, elapsed, client)
