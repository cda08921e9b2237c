"""A Starlette router that tries only the routes a path can match.

Starlette's router calls ``matches`` on every route in order until one matches fully: each
call takes the route path from the scope, runs the route's regular expression and builds a
child scope, so a request to the fortieth route pays for forty. A route whose path starts
with a literal segment (``/issue/{key}``, ``/myself``, the mount ``/rest/api/2``) can only
match a path with that first segment, so :class:`IndexedRouter` keeps, per literal first
segment, the routes that could match it (those with that segment, and those whose first
segment is a parameter or that match any path), in their order. The first full match among
them is the first full match of the whole list. Anything else (no full match: a 404, a 405,
a slash redirect) goes to Starlette's own scan, which decides it exactly as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import cast

from starlette._utils import get_route_path, is_async_callable
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

from jiraguard.errors import Handler, handler_for


def _first_segment(route: BaseRoute) -> str | None:
    """The literal first path segment every path the route matches starts with, or None."""
    if isinstance(route, Route):
        path = route.path
    elif isinstance(route, Mount) and route.path:
        path = route.path + "/"  # a mount matches its prefix followed by a slash
    else:
        return None  # Mount("/") matches everything; hosts and websockets are not indexed
    segment = path.split("/", 2)[1]
    return None if "{" in segment else segment


def _first_to_match(routes: Sequence[BaseRoute], path: str) -> BaseRoute | None:
    """The first of ``routes`` whose path matches ``path`` at all (any method)."""
    probe = {"type": "http", "path": path, "root_path": "", "method": "GET"}
    for route in routes:
        if route.matches(probe)[0] is not Match.NONE:
            return route
    return None


Whole = tuple[Mount | None, Route]
"""A route entered straight away: in a mount of this router's list, or in the list itself."""


def _whole_paths(routes: Sequence[BaseRoute]) -> dict[str, Whole]:
    if not all(isinstance(route, (Route, Mount)) for route in routes):
        return {}  # a route that matches on more than the path (hosts): always scan
    whole: dict[str, Whole] = {}
    for route in routes:
        if isinstance(route, Route) and "{" not in route.path:
            if _first_to_match(routes, route.path) is route:
                whole.setdefault(route.path, (None, route))
        elif isinstance(route, Mount) and route.path and "{" not in route.path:
            inner = route.app
            if not isinstance(inner, IndexedRouter) or inner.middleware_stack != inner.app:
                continue
            if not all(isinstance(r, (Route, Mount)) for r in inner.routes):
                continue
            for leaf in inner.routes:
                if not isinstance(leaf, Route) or "{" in leaf.path:
                    continue
                path = route.path + leaf.path
                if _first_to_match(routes, path) is route and (
                    _first_to_match(inner.routes, leaf.path) is leaf
                ):
                    whole.setdefault(path, (route, leaf))
    return whole


_WRAPPED = "request_response.<locals>.app"
"""What a route's app is called when it is Starlette's wrapper of a function endpoint, with
no route middleware or body limit around it."""


Endpoint = Callable[[Request], Awaitable[Response]]


def _direct(route: BaseRoute) -> Endpoint | None:
    """The ``async`` function endpoint a route wraps with nothing else around it, or None:
    the route then handles the request itself."""
    if isinstance(route, Route) and getattr(route.app, "__qualname__", None) == _WRAPPED:
        endpoint = route.endpoint
        if is_async_callable(endpoint):
            return cast(Endpoint, endpoint)
    return None


async def _request_response(endpoint: Endpoint, scope: Scope, receive: Receive, send: Send) -> None:
    """What Starlette's ``request_response`` wrapper does for an ``async`` endpoint, without
    a wrapper around ``send`` per request: the endpoint's error answered by the handler the
    error boundary put in the scope (:class:`jiraguard.errors.ErrorBoundary`), else raised."""
    request = Request(scope, receive, send)
    try:
        response = await endpoint(request)
    except Exception as exc:
        handler = _handler(scope, exc)
        if handler is None:
            raise
        response = await handler(request, exc)
        exc.__traceback__ = None  # as Starlette: a reused instance keeps no traceback
    try:
        await response(scope, receive, send)
    except Exception as exc:
        # A response fails once it has started (its first step is the start): as Starlette,
        # a handled error can no longer be answered.
        if _handler(scope, exc) is not None:
            raise RuntimeError("Caught handled exception, but response already started.") from exc
        raise


def _handler(scope: Scope, exc: Exception) -> Handler | None:
    handlers, _ = scope.get("starlette.exception_handlers", ({}, {}))
    return handler_for(handlers, exc)


def _plain(path: str) -> bool:
    """Whether ``Mount("/")`` matches ``path`` the plain way: ``^/(?P<path>.*)$`` with the
    whole rest as its parameter (a newline, which ``.`` does not match and before which ``$``
    does, is left to the mount's own matching)."""
    return path[:1] == "/" and "\n" not in path


class IndexedRouter(Router):
    """A :class:`~starlette.routing.Router` that skips routes that cannot match the path."""

    _indexed: tuple[int, dict[str, list[BaseRoute]], list[BaseRoute], dict[str, Whole]] | None
    _indexed = None
    _endpoints: dict[int, Endpoint | None] | None = None
    """:func:`_direct` of each route entered, by the route's id (routes compare by value,
    and are not hashable), asked once per route; the routes are this router's, kept alive
    by it, and a change of its list (a new index) starts afresh."""

    async def _handle(self, route: BaseRoute, scope: Scope, receive: Receive, send: Send) -> None:
        """``route.handle`` for a full match (path and method)."""
        endpoints = self._endpoints
        if endpoints is None:
            endpoints = self._endpoints = {}
        try:
            endpoint = endpoints[id(route)]
        except KeyError:
            endpoint = endpoints[id(route)] = _direct(route)
        if endpoint is not None:
            await _request_response(endpoint, scope, receive, send)
            return
        await route.handle(scope, receive, send)

    def _index(self) -> tuple[int, dict[str, list[BaseRoute]], list[BaseRoute], dict[str, Whole]]:
        indexed = self._indexed
        if indexed is None or indexed[0] != len(self.routes):
            keys = [_first_segment(route) for route in self.routes]
            by_segment: dict[str, list[BaseRoute]] = {}
            for key in keys:
                if key is not None and key not in by_segment:
                    by_segment[key] = [
                        r for r, k in zip(self.routes, keys, strict=True) if k in (key, None)
                    ]
            anywhere = [r for r, k in zip(self.routes, keys, strict=True) if k is None]
            whole = _whole_paths(self.routes)
            indexed = self._indexed = (len(self.routes), by_segment, anywhere, whole)
            self._endpoints = None
        return indexed

    def _candidates(self, path: str) -> Sequence[BaseRoute]:
        _, by_segment, anywhere, _ = self._index()
        segment = path.split("/", 2)[1] if path.startswith("/") else None
        if segment is None:
            return self.routes
        return by_segment.get(segment, anywhere)

    async def _enter(self, whole: Whole, scope: Scope, receive: Receive, send: Send) -> None:
        """What ``app`` (and the mount's router) would do on their first full match."""
        mount, route = whole
        if "router" not in scope:
            scope["router"] = self
        params = dict(scope.get("path_params", {}))
        if mount is not None:
            root_path = scope.get("root_path", "")
            scope["route"] = mount
            scope["path_params"] = params
            scope["app_root_path"] = scope.get("app_root_path", root_path)
            scope["root_path"] = root_path + mount.path
            scope["endpoint"] = mount.app
            params = dict(params)
        scope["route"] = route
        scope["endpoint"] = route.endpoint
        scope["path_params"] = params
        await self._handle(route, scope, receive, send)

    async def _enter_everything(
        self, mount: Mount, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """What a full match of ``Mount("/")`` does (the gateway's every path), without its
        regular expression: the child scope ``Mount.matches`` makes, then the mount's app."""
        root_path = scope.get("root_path", "")
        if "router" not in scope:
            scope["router"] = self
        scope["route"] = mount
        scope["path_params"] = dict(scope.get("path_params", {}))
        scope["app_root_path"] = scope.get("app_root_path", root_path)
        scope["root_path"] = root_path
        scope["endpoint"] = mount.app
        await mount.handle(scope, receive, send)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = get_route_path(scope)
            whole = self._index()[3].get(path)
            if whole is not None and (
                whole[1].methods is None or scope["method"] in whole[1].methods
            ):
                await self._enter(whole, scope, receive, send)
                return
            candidates = self._candidates(path)
            first = candidates[0] if candidates else None
            if isinstance(first, Mount) and first.path == "" and _plain(path):
                await self._enter_everything(first, scope, receive, send)
                return
            for route in candidates:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    if "router" not in scope:
                        scope["router"] = self
                    scope["route"] = route
                    scope.update(child_scope)
                    await self._handle(route, scope, receive, send)
                    return
                if match is Match.PARTIAL:
                    break  # a 405 or a later full match: Starlette's scan decides
        await super().app(scope, receive, send)
