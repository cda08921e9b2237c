"""Path rules every Jira client relies on (docs/jira-compat.md §4).

``/rest/api/latest/*`` is served exactly as ``/rest/api/2/*``, and a trailing slash is
ignored (some clients POST to ``/project/``). Both are rewritten before routing and before
authentication, so the access rules see one canonical path.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

_LATEST = "/rest/api/latest"
_V2 = "/rest/api/2"


def canonical_path(path: str) -> str:
    if path.startswith(_LATEST) and (len(path) == len(_LATEST) or path[len(_LATEST)] == "/"):
        path = _V2 + path[len(_LATEST) :]
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


class CanonicalPathMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = canonical_path(scope["path"])
            if path != scope["path"]:
                scope = {**scope, "path": path}
                scope.pop("raw_path", None)  # would contradict the rewritten path
        await self.app(scope, receive, send)
