"""Logging: one formatter for every record, and one structured line per request.

:func:`logging_config` is a :func:`logging.config.dictConfig` mapping; ``jiraguard serve``
applies it, and uvicorn applies it again in each worker process, so every record (ours,
uvicorn's, the libraries') goes through the same formatter: JSON, one object per line, when
stderr is not a terminal; a plain line for people when it is.

:func:`log_request` writes one line per HTTP request (called by
:class:`~jiraguard.observe.ObservationMiddleware`) to the ``jiraguard.request`` logger:
request id, method, route template, user, provider, authentication method, the
authentication decision (and a refusal's reason), status and latency. Never a token, a
password, a header value or the query string (``?access_token=`` may be allowed).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from starlette.types import Scope

from jiraguard.auth.note import RequestNote

request_log = logging.getLogger("jiraguard.request")

LogFormat = Literal["json", "text"]

_FIELDS = (
    "request_id",
    "user",
    "provider",
    "auth",
    "decision",
    "reason",
    "client",
)
"""Fields a request line carries beside its message (method, route, status, latency)."""
_LINE = "%(asctime)s %(levelname)s %(name)s %(message)s"


def resolve_format(choice: str, stream: TextIO | None = None) -> LogFormat:
    """``auto`` → ``text`` when ``stream`` (stderr) is a terminal, else ``json``."""
    if choice == "auto":
        return "text" if (stream or sys.stderr).isatty() else "json"
    return "json" if choice == "json" else "text"


class _JsonFormatter(JsonFormatter):
    """python-json-logger's formatter, with the request line (one per request, always the
    same plain fields) written directly: the same object, in the same order, at a third of
    the cost (no scan of the record's attributes, the C JSON encoder)."""

    def format(self, record: logging.LogRecord) -> str:
        extra = getattr(record, _REQUEST_FIELDS, None)
        if extra is None or record.exc_info or record.stack_info:
            return super().format(record)
        line = {
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
            **extra,
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
        }
        return json.dumps(line, default=str)


_REQUEST_FIELDS = "jiraguard_request_fields"
"""The record attribute holding a request line's fields (besides each field on its own)."""


def json_formatter() -> logging.Formatter:
    """One JSON object per record: time, level, logger, pid, message and the record's extras."""
    return _JsonFormatter(
        "%(levelname)s %(name)s %(process)d %(message)s",
        timestamp="time",  # ISO 8601, UTC
        rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
        reserved_attrs=[*RESERVED_ATTRS, "color_message", "taskName", _REQUEST_FIELDS],
    )


def _printable(value: object) -> str:
    text = str(value)
    return text if text.isprintable() else repr(text)[1:-1]


class TextFormatter(logging.Formatter):
    """The classic line, with a request line's fields appended as ``key=value``."""

    def __init__(self) -> None:
        super().__init__(_LINE)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        if not hasattr(record, "request_id"):
            return line
        pairs = (
            f"{name}={_printable(value)}"
            for name in _FIELDS
            if (value := getattr(record, name, None)) is not None
        )
        return " ".join((line, *pairs))


def text_formatter() -> logging.Formatter:
    return TextFormatter()


def logging_config(log_format: LogFormat, level: str) -> dict[str, Any]:
    """The ``dictConfig`` mapping: every logger through one stderr handler at ``level``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"jiraguard": {"()": f"{__name__}.{log_format}_formatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "jiraguard",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
        # uvicorn's own loggers hand their records to the root handler (no second format).
        "loggers": {
            **{
                name: {"handlers": [], "propagate": True}
                for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
            },
            # One INFO line per provider call ("HTTP Request: POST ..."): only when debugging.
            **{
                name: {"level": "DEBUG" if level.lower() == "debug" else "WARNING"}
                for name in ("httpx", "httpcore")
            },
        },
    }


def _scheme(scope: Scope) -> str | None:
    """The ``Authorization`` scheme (``bearer``, ``basic``), never the credentials."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme: bytes = value.split(b" ", 1)[0].lower()
            return scheme.decode() if scheme in (b"bearer", b"basic") else "other"
    return None


def log_request(
    scope: Scope,
    request_id: str,
    route: str,
    path: str,
    status: int,
    note: RequestNote,
    seconds: float,
    client: str | None,
) -> None:
    """Write the request's one line (see the module docstring for what it carries)."""
    latency = round(seconds * 1000, 1)
    fields: dict[str, Any] = {"request_id": request_id}
    if note.allowed is not None:
        principal = note.principal
        fields.update(
            user=note.username,
            provider=principal.provider if principal else None,
            auth=principal.method if principal else _scheme(scope),
            decision="allowed" if note.allowed else "refused",
            reason=note.reason,
        )
    if route == "<unmatched>" or route.endswith("/{path}"):
        # A 404, or gateway mode's catch-all: the path, escaped, never the query string.
        route = _printable(path[:256])
    fields.update(
        method=scope["method"], route=route, status=status, latency_ms=latency, client=client
    )
    extra = {name: value for name, value in fields.items() if value is not None}
    extra[_REQUEST_FIELDS] = dict(extra)
    # Logger.info would look up the caller's file and line on every request (a walk of the
    # stack); the request line's origin is always this function.
    record = request_log.makeRecord(
        request_log.name,
        logging.INFO,
        __file__,
        0,
        "%s %s %d %.1fms",
        (scope["method"], route, status, latency),
        None,
        "log_request",
        extra,
    )
    request_log.handle(record)
