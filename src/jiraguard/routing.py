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

from collections.abc import Sequence

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send


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


class IndexedRouter(Router):
    """A :class:`~starlette.routing.Router` that skips routes that cannot match the path."""

    _indexed: tuple[int, dict[str, list[BaseRoute]], list[BaseRoute]] | None = None

    def _candidates(self, path: str) -> Sequence[BaseRoute]:
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
            indexed = self._indexed = (len(self.routes), by_segment, anywhere)
        _, by_segment, anywhere = indexed
        segment = path.split("/", 2)[1] if path.startswith("/") else None
        if segment is None:
            return self.routes
        return by_segment.get(segment, anywhere)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self._candidates(get_route_path(scope)):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    if "router" not in scope:
                        scope["router"] = self
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
                if match is Match.PARTIAL:
                    break  # a 405 or a later full match: Starlette's scan decides
        await super().app(scope, receive, send)
