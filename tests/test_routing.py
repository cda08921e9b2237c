"""IndexedRouter picks exactly the route Starlette's Router picks, for every path and method.

The embedded API's own route table (every path template of ``jira/routes``), under the same
mounts as the app, is served twice, once by each router, with endpoints that name the route
they are and the scope they were given (path parameters, root paths); a table of paths (each
template filled in, unknown paths, trailing slashes, wrong methods, a catch-all mount, literal
paths shadowed by an earlier template) must get the same status, route and scope from both,
with and without a root path.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
from jiraguard.routing import IndexedRouter

pytestmark = pytest.mark.anyio

MODULES = (server, meta, project, issue, comment, transition, worklog, attachment, search)
API = [r for module in (*MODULES, user, link) for r in module.routes if isinstance(r, Route)]


def _named(route: Route) -> Route:
    async def endpoint(request: Request) -> Response:
        scope = request.scope
        shown = [scope["root_path"], scope.get("app_root_path"), scope["path_params"]]
        shown += [scope["router"] is scope["app"].router, getattr(scope["route"], "path", None)]
        return PlainTextResponse(f"{route.path} {sorted(route.methods or ())} {shown}")

    return Route(route.path, endpoint, methods=list(route.methods or ()))


async def _shown(scope: Scope, receive: Receive, send: Send) -> None:
    """The catch-all mount's app: the scope it was given, as the routes show theirs."""
    shown = [scope["path"], scope["root_path"], scope.get("app_root_path"), scope["path_params"]]
    shown += [scope["router"] is scope["app"].router, getattr(scope["route"], "path", None)]
    shown += [scope["endpoint"] is _shown]
    await PlainTextResponse(f"catch-all {shown}")(scope, receive, send)


def _app(router: Callable[..., Router]) -> Starlette:
    api = [_named(r) for r in API]
    shadowed = [_named(Route(p, lambda r: None)) for p in ("/x/{name}", "/x/literal", "/y")]
    routes: list[BaseRoute] = [
        Route("/healthz", _named(Route("/healthz", lambda r: None)).endpoint),
        _named(Route("/ops/{name}", lambda r: None)),
        _named(Route("/ops/literal", lambda r: None)),
        Mount("/rest/api/2", app=router(api)),
        Mount("/rest/pat/latest", app=router([_named(Route("/tokens", lambda r: None))])),
        Mount("/shadow", app=router(shadowed)),
        Mount("/shadow/y", app=router([_named(Route("/", lambda r: None))])),
        Mount("/", app=_shown),
    ]
    app = Starlette()
    app.router = router(routes, redirect_slashes=False)
    return app


def _paths() -> list[str]:
    paths = ["/", "/healthz", "/healthz/", "/rest", "/rest/api/2", "/rest/api/2/", "/nope"]
    paths += ["/rest/api/2/nope", "/rest/api/2//myself", "/rest/pat/latest/tokens", "/x/y/z"]
    paths += ["/ops/literal", "/ops/other", "/shadow/x/literal", "/shadow/y", "/shadow/y/"]
    paths += ["/a%0A", "/a%0Ab", "/%0A", "/a/%0A/b", "/open/api/2/myself", "/a//b/"]
    for route in API:
        filled = re.sub(r"\{[^}]+\}", "TEST-1", route.path)
        paths += [f"/rest/api/2{filled}", f"/rest/api/2{filled}/", f"/rest/api/2{filled}/x"]
        paths.append("/rest/api/2" + re.sub(r"\{[^}]+\}", "10001", route.path))
    return sorted(set(paths))


@pytest.mark.parametrize("root_path", ["", "/ctx"])
async def test_the_indexed_router_routes_like_starlettes(root_path: str) -> None:
    plain = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_app(Router), root_path=root_path), base_url="http://t"
    )
    indexed = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_app(IndexedRouter), root_path=root_path),
        base_url="http://t",
    )
    wrong = []
    checked = 0
    async with plain, indexed:
        for path in _paths():
            for method in ("GET", "POST", "PUT", "DELETE"):
                a = await plain.request(method, root_path + path)
                b = await indexed.request(method, root_path + path)
                checked += 1
                if (a.status_code, a.text, a.headers.get("location")) != (
                    b.status_code,
                    b.text,
                    b.headers.get("location"),
                ):
                    wrong.append(f"{method} {path}: {a.status_code} {a.text!r} / {b.text!r}")
    assert not wrong, "\n".join(wrong)
    assert checked > 400


class _Refused(Exception):
    pass


class _Tagged:
    """Route middleware: marks its answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-tagged", b"1")]
            await send(message)

        await self.app(scope, receive, tagged)


@pytest.mark.parametrize("path", ["/plain", "/item/7"])
async def test_routes_called_directly_answer_as_through_starlettes_wrapper(path: str) -> None:
    """A function endpoint is called without Starlette's per-request wrapper: its handled
    errors get their handler's answer, other errors go on, and a route with middleware of
    its own still runs through it."""

    async def plain(request: Request) -> Response:
        what = request.query_params.get("do")
        if what == "refuse":
            raise _Refused()
        if what == "break":
            raise KeyError("unhandled")
        return PlainTextResponse(f"ok {request.path_params}")

    async def refused(request: Request, exc: Exception) -> Response:
        return PlainTextResponse("refused", status_code=409)

    routes = [
        Route("/plain", plain),
        Route("/item/{n}", plain),
        Route("/tagged", plain, middleware=[Middleware(_Tagged)]),
    ]
    app = Starlette(
        routes=[Mount("/api", app=IndexedRouter(routes))], exception_handlers={_Refused: refused}
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        target = "/api" + path.replace("{n}", "7")
        ok = await client.get(target)
        assert (ok.status_code, ok.text) == (200, "ok {'n': '7'}" if "item" in path else "ok {}")
        refusal = await client.get(target, params={"do": "refuse"})
        assert (refusal.status_code, refusal.text) == (409, "refused")
        broken = await client.get(target, params={"do": "break"})
        assert broken.status_code == 500
        tagged = await client.get("/api/tagged")
        assert (tagged.status_code, tagged.headers.get("x-tagged")) == (200, "1")
