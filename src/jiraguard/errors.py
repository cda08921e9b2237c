"""The one family of errors answered in Jira's envelope (docs/jira-compat.md §6).

Any route, of the embedded Jira API or of jiraguard's own API, raises :class:`JiraError` (or
one of the helpers below) anywhere; one handler registered in ``app.py`` renders
``{"errorMessages": [...], "errors": {...}}`` with Jira's content type. 400 for validation,
403 for a missing permission, 404 for an unknown issue, project, comment or token, 413 for an
oversized body. The admin UI's :class:`~jiraguard.admin.ui.render.PageError` is one of them,
shown to a person as a page. (Authentication's own errors are the separate tree of
:mod:`jiraguard.auth.errors`: they carry challenges, and are answered before any route.)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from jiraguard.responses import error_response

Handler = Callable[[Request, Exception], Awaitable[Response]]
"""An exception handler of this app's (all are coroutines that take the request)."""

log = logging.getLogger(__name__)


def handler_for(handlers: Mapping[Any, Handler], exc: Exception) -> Handler | None:
    """The handler of ``exc``'s nearest class in ``handlers`` (as Starlette looks it up)."""
    return next((handlers[kind] for kind in type(exc).__mro__ if kind in handlers), None)


class JiraError(Exception):
    """An error answered in Jira's format."""

    def __init__(
        self,
        status: int,
        messages: Iterable[str] = (),
        errors: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.messages = list(messages)
        self.errors = dict(errors or {})
        super().__init__("; ".join([*self.messages, *self.errors.values()]))

    @property
    def message(self) -> str:
        """The first message (or field error): what a page shows."""
        return next(iter([*self.messages, *self.errors.values()]), "")

    def response(self) -> Response:
        """The error as a Starlette response."""
        return error_response(self.status, self.messages, self.errors)


def bad_request(message: str) -> JiraError:
    """400 with one message in ``errorMessages``."""
    return JiraError(400, [message])


def field_errors(errors: Mapping[str, str]) -> JiraError:
    """400 with per-field messages in ``errors`` (Jira's validation shape)."""
    return JiraError(400, [], errors)


def forbidden(message: str) -> JiraError:
    """403 with one message: the user is known but not allowed."""
    return JiraError(403, [message])


def not_found(message: str) -> JiraError:
    """404 with one message: an unknown issue, project, comment or user."""
    return JiraError(404, [message])


ISSUE_NOT_FOUND = "Issue Does Not Exist"


async def handle_jira_error(request: Request, exc: Exception) -> Response:
    """The Starlette exception handler for :class:`JiraError`."""
    assert isinstance(exc, JiraError)
    return exc.response()


async def handle_data_error(request: Request, exc: Exception) -> Response:
    """The database refused a value the routes let through (a NUL byte in a PostgreSQL text,
    a number past a column's range): the client's input, so 400, never a 500."""
    log.info("database refused a value: %s", type(exc).__name__)
    return bad_request("The request contains a value that cannot be stored.").response()


class ErrorBoundary:
    """Where errors become answers, around the router: Starlette's ``ExceptionMiddleware``
    in fewer steps.

    A route's own errors are answered inside the route, by Starlette's route wrapper, with
    the handlers this puts in the scope (as ``ExceptionMiddleware`` does). What reaches this
    layer is raised outside any route (the router's 404 and 405, before any response), so it
    is answered without watching the response go out; anything without a handler goes on
    (the observation middleware answers it with a 500)."""

    def __init__(self, app: ASGIApp, handlers: Mapping[Any, Handler]) -> None:
        self.app = app
        self.handlers = {
            key: handler for key, handler in handlers.items() if key not in (500, Exception)
        }
        self._in_scope: tuple[dict[Any, Handler], dict[int, Handler]] = (self.handlers, {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope["starlette.exception_handlers"] = self._in_scope
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            handler = handler_for(self.handlers, exc)
            if handler is None or scope["type"] != "http":
                raise
            response = await handler(Request(scope, receive), exc)
            await response(scope, receive, send)
            exc.__traceback__ = None  # as Starlette: a reused instance keeps no traceback
