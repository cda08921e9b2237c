"""Path rules every Jira client relies on (docs/jira-compat.md §4).

``/rest/api/latest/*`` is served exactly as ``/rest/api/2/*`` (and ``/rest/auth/latest/*``
as ``/rest/auth/1/*``: ``jira``'s ``kill_session`` uses it), and a trailing slash is
ignored (some clients POST to ``/project/``). Both are rewritten before routing and before
authentication, so the access rules see one canonical path.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

_ALIASES = (("/rest/api/latest", "/rest/api/2"), ("/rest/auth/latest", "/rest/auth/1"))


def canonical_path(path: str) -> str:
    for latest, versioned in _ALIASES:
        if path.startswith(latest) and (len(path) == len(latest) or path[len(latest)] == "/"):
            path = versioned + path[len(latest) :]
            break
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
