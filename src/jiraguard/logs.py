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

The request line is the one record written per request, so it has a direct path: when the
configuration is the one :func:`logging_config` makes (the request logger hands its records
to the root's one :class:`StderrHandler`, nothing filters), the line is formatted from its
fields, without a :class:`logging.LogRecord`, and the handler writes the lines of one turn of
the event loop in one write. In JSON, a line is put together from pieces kept for its shape
(all it holds but the request id, the latency and the time: the requests of one client to
one route share one), cut from the line the formatter writes for that shape. The bytes are
those the record would have become; any other configuration (a test's capture, an
operator's ``dictConfig``) gets the record as before.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import orjson
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


Parts = tuple[str, str, str, float, int | None]
"""A line's logger, level name, message, time and process id: what a record of it holds."""


class _JsonFormatter(JsonFormatter):
    """python-json-logger's formatter, with the request line (one per request, always the
    same plain fields) written directly: the same object, in the same order, for a fraction
    of the cost (no scan of the record's attributes; orjson, compact; the time's seconds
    formatted once a second)."""

    def format(self, record: logging.LogRecord) -> str:
        extra = getattr(record, _LINE_FIELDS, None)
        if extra is None or record.exc_info or record.stack_info:
            return super().format(record)
        return self.line(_parts(record), extra)

    @staticmethod
    def line(parts: Parts, fields: dict[str, Any]) -> str:
        """The line, as :meth:`format` writes a record of these parts and plain ``fields``
        (each also an attribute of the record)."""
        logger, level, message, created, pid = parts
        return _json_object(logger, level, pid, message, fields, iso_time(created))


def _json_object(
    logger: str, level: str, pid: int | None, message: str, fields: dict[str, Any], time: str
) -> str:
    line = {
        "level": level,
        "logger": logger,
        "pid": pid,
        "message": message,
        **fields,
        "time": time,
    }
    try:
        return orjson.dumps(line).decode()
    except TypeError:  # a value orjson does not write: as python-json-logger would
        return json.dumps(line, default=str)


def _parts(record: logging.LogRecord) -> Parts:
    """What a line of ``record`` is made of, besides its fields."""
    return record.name, record.levelname, record.getMessage(), record.created, record.process


_second: tuple[float, str] = (math.nan, "")
"""The last whole second :func:`iso_time` formatted, and its text up to the seconds."""


def iso_time(created: float) -> str:
    """``datetime.fromtimestamp(created, UTC).isoformat()``, the seconds formatted once per
    second: the same rounding (half to even, to the microsecond), the same text (no fraction
    when it is zero)."""
    global _second
    whole = int(created)  # toward zero, as math.modf: the fraction is exact
    micros = round((created - whole) * 1_000_000)
    if not 0 <= micros < 1_000_000:  # rounded up to the next second, or a time before 1970
        whole, micros = (whole + 1, 0) if micros > 0 else (whole - 1, micros + 1_000_000)
    second, text = _second
    if whole != second:
        text = datetime.fromtimestamp(whole, tz=UTC).isoformat()[:-6]
        _second = (whole, text)
    # The six digits without a format spec, parsed anew on every call otherwise.
    return f"{text}.{str(1_000_000 + micros)[1:]}+00:00" if micros else f"{text}+00:00"


_LINE_FIELDS = "jiraguard_request_fields"
"""The record attribute holding a line's fields (besides each field on its own)."""


def json_formatter() -> logging.Formatter:
    """One JSON object per record: time, level, logger, pid, message and the record's extras."""
    return _JsonFormatter(
        "%(levelname)s %(name)s %(process)d %(message)s",
        timestamp="time",  # ISO 8601, UTC
        rename_fields={"levelname": "level", "name": "logger", "process": "pid"},
        reserved_attrs=[*RESERVED_ATTRS, "color_message", "taskName", _LINE_FIELDS],
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

    def line(self, parts: Parts, fields: dict[str, Any]) -> str:
        """The line, as :meth:`format` writes a record of these parts and ``fields``."""
        logger, level, message, created, _ = parts
        stamp = time.strftime(self.default_time_format, self.converter(created))
        msecs = int((created - int(created)) * 1000) + 0.0  # as LogRecord computes it
        if self.default_msec_format:
            stamp = self.default_msec_format % (stamp, msecs)
        head = f"{stamp} {level} {logger} {message}"
        pairs = (
            f"{name}={_printable(value)}"
            for name in _FIELDS
            if (value := fields.get(name)) is not None
        )
        return " ".join((head, *pairs))


_LINE_FORMATTERS = (_JsonFormatter, TextFormatter)
"""The formatters a line can be written by without a record."""


def text_formatter() -> logging.Formatter:
    return TextFormatter()


_BATCH_LINES = 256
"""Most request lines held before they are written, whatever the event loop is doing."""


class StderrHandler(logging.StreamHandler[TextIO]):
    """stderr (:class:`logging.StreamHandler`), plus request lines written in batches.

    A request line handed to :meth:`request_line` waits for the end of the event loop's turn
    (or for :data:`_BATCH_LINES` others), then goes out with the others of that turn in one
    write: one system call for many requests. Any record, :meth:`flush` and :meth:`close`
    write what waits first, so the order of lines is the order they were logged in."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._scheduled = False

    def request_line(self, line: str) -> None:
        with self.lock:  # type: ignore[union-attr]  # always set by Handler.__init__
            self._pending.append(line)
            if len(self._pending) < _BATCH_LINES and self._scheduled:
                return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop: nothing to wait for
            loop = None
        if loop is None or len(self._pending) >= _BATCH_LINES:
            self._write_pending()
        else:
            self._scheduled = True
            loop.call_soon(self._write_pending)

    def _write_pending(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._scheduled = False
            if not self._pending:
                return
            text = self.terminator.join(self._pending) + self.terminator
            self._pending.clear()
            try:
                self.stream.write(text)
                self.stream.flush()
            except Exception:
                # As logging does for a record it cannot write: said on stderr, never raised
                # into the request that logged it.
                if logging.raiseExceptions and sys.stderr:
                    sys.stderr.write("--- Logging error: request lines could not be written\n")

    def emit(self, record: logging.LogRecord) -> None:
        if self._pending:
            self._write_pending()
        super().emit(record)

    def flush(self) -> None:
        self._write_pending()
        super().flush()


def _direct_handler(logger: logging.Logger, level: int) -> StderrHandler | None:
    """The handler a line of ``logger`` at ``level`` may go to directly: the root's only
    handler, when it is a :class:`StderrHandler` with one of this module's formatters and
    nothing on the way (a logger's own handlers or filters, a handler's level or filters)
    would change the outcome. The caller has checked that ``logger`` is enabled for
    ``level``."""
    root = logging.root
    node: logging.Logger | None = logger
    while node is not root:
        if node is None or node.handlers or node.filters or not node.propagate:
            return None
        node = node.parent
    if root.filters or len(root.handlers) != 1:
        return None
    handler = root.handlers[0]
    if (
        type(handler) is not StderrHandler
        or handler.filters
        or handler.level > level
        or not isinstance(handler.formatter, _LINE_FORMATTERS)
    ):
        return None
    return handler


def write_line(
    logger: logging.Logger,
    level: int,
    message: str,
    fields: dict[str, Any],
    function: str,
) -> None:
    """One line of ``logger``: ``message`` and plain ``fields`` (each an extra of the record).

    Under ``serve``'s configuration the line is formatted from its fields, without a
    :class:`logging.LogRecord`, and written with the others of the event loop's turn; under
    any other, a record is made (its origin ``function`` in this module: the caller's file
    and line are never looked up) and handled as usual. Both give the same bytes. The caller
    has checked ``logger.isEnabledFor(level)``."""
    handler = _direct_handler(logger, level)
    if handler is not None:
        formatter: _JsonFormatter | TextFormatter = handler.formatter  # type: ignore[assignment]
        name = logging.getLevelName(level)
        line = formatter.line((logger.name, name, message, time.time(), _pid()), fields)
        handler.request_line(line)
        return
    extra = {**fields, _LINE_FIELDS: fields}
    record = logger.makeRecord(logger.name, level, __file__, 0, message, (), None, function, extra)
    logger.handle(record)


def logging_config(log_format: LogFormat, level: str) -> dict[str, Any]:
    """The ``dictConfig`` mapping: every logger through one stderr handler at ``level``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"jiraguard": {"()": f"{__name__}.{log_format}_formatter"}},
        "handlers": {
            "stderr": {
                "class": f"{__name__}.StderrHandler",
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


def _pid() -> int | None:
    """What a record's ``process`` would say (None when ``logging.logProcesses`` is off)."""
    return _process_id if logging.logProcesses else None


_process_id = os.getpid()
"""This process's id, asked once (and again in a forked child): not a system call a line."""


def _forked() -> None:
    global _process_id
    _process_id = os.getpid()


os.register_at_fork(after_in_child=_forked)


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
    latency = round(seconds * 10_000) / 10  # milliseconds, to a tenth
    if route == "<unmatched>" or route.endswith("/{path}"):
        # A 404, or gateway mode's catch-all: the path, escaped, never the query string.
        route = _printable(path[:256])
    method = scope["method"]
    user = provider = auth = decision = reason = None
    allowed = note.allowed
    if allowed is not None:
        user = note.username
        if (principal := note.principal) is not None:
            provider, auth = principal.provider, principal.method
        else:
            auth = _scheme(scope)
        decision = "allowed" if allowed else "refused"
        reason = note.reason
    handler = _direct_handler(request_log, logging.INFO)
    shape: _Shape = (method, route, status, client, user, provider, auth, decision, reason, _pid())
    if handler is not None and type(handler.formatter) is _JsonFormatter:
        pieces = _shapes.get(shape, _UNSEEN)
        if pieces is _UNSEEN:
            pieces = _pieces(shape)
        if pieces is not None:
            head, after_latency, after_id, after_ms, end = pieces
            number = orjson.dumps(latency).decode()
            # The message's "{latency:.1f}": orjson's shortest spelling of a number of tenths
            # is that, below 10**15 (tests/ops: test_logs).
            said = number if latency < 1e15 else f"{latency:.1f}"
            handler.request_line(
                f"{head}{said}{after_latency}{orjson.dumps(request_id).decode()}"
                f"{after_id}{number}{after_ms}{iso_time(time.time())}{end}"
            )
            return
    fields = _fields(request_id, shape, latency)
    message = f"{method} {route} {status} {latency:.1f}ms"
    write_line(request_log, logging.INFO, message, fields, "log_request")


_Shape = tuple[
    str,
    str,
    int,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    int | None,
]
"""What a request line holds besides its request id, latency and time: method, route,
status, client, user, provider, authentication, decision, reason (each None when the line
leaves it out) and the process id. Requests of one client to one route mostly share it."""


def _fields(request_id: str, shape: _Shape, latency: Any) -> dict[str, Any]:
    """A line's fields in their order, those without a value left out."""
    method, route, status, client, user, provider, auth, decision, reason, _ = shape
    fields: dict[str, Any] = {"request_id": request_id}
    if user is not None:
        fields["user"] = user
    if provider is not None:
        fields["provider"] = provider
    if auth is not None:
        fields["auth"] = auth
    if decision is not None:
        fields["decision"] = decision
    if reason is not None:
        fields["reason"] = reason
    fields["method"] = method
    fields["route"] = route
    fields["status"] = status
    fields["latency_ms"] = latency
    if client is not None:
        fields["client"] = client
    return fields


_Pieces = tuple[str, str, str, str, str]
_shapes: dict[_Shape, _Pieces | None] = {}
"""Each shape's JSON line in pieces (:func:`_pieces`), for the next line of that shape."""
_SHAPES_KEPT = 1024
"""Most shapes kept (past that, the kept ones are dropped)."""
_UNSEEN: Any = object()
_MARKS = ("\\u0000l", '"\\u0000r"', '"\\u0000m"', "\\u0000t")
"""Where the JSON text of :func:`_pieces`'s line is cut: as orjson writes ``"\\x00l"`` in the
message, and the id, latency and time values ``"\\x00r"``, ``"\\x00m"``, ``"\\x00t"``."""


def _pieces(shape: _Shape) -> _Pieces | None:
    """The JSON line of ``shape`` cut where the message's latency, the request id, the
    latency and the time go: the line is these pieces with those in between, the bytes
    :meth:`_JsonFormatter.line` writes for the same fields (the level's name as it was when
    the shape was first seen). None (and each line of the shape formatted whole) when a
    field's own text holds one of the marks it is cut at."""
    method, route, status, pid = shape[0], shape[1], shape[2], shape[9]
    text = _json_object(
        request_log.name,
        logging.getLevelName(logging.INFO),
        pid,
        f"{method} {route} {status} \x00lms",
        _fields("\x00r", shape, "\x00m"),
        "\x00t",
    )
    pieces: _Pieces | None = None
    if all(text.count(mark) == 1 for mark in _MARKS):
        head, _, rest = text.partition(_MARKS[0])
        after_latency, _, rest = rest.partition(_MARKS[1])
        after_id, _, rest = rest.partition(_MARKS[2])
        after_ms, _, end = rest.partition(_MARKS[3])
        if end:  # the marks in their order
            pieces = (head, after_latency, after_id, after_ms, end)
    if len(_shapes) >= _SHAPES_KEPT:
        _shapes.clear()
    _shapes[shape] = pieces
    return pieces
