"""Capturing what the app logs, through the real JSON formatter."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from jiraguard.logs import json_formatter
from tests.conftest import BASE_URL


class Captured:
    """Every record any logger wrote, as JSON lines."""

    def __init__(self, stream: io.StringIO) -> None:
        self.stream = stream

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def requests(self) -> list[dict[str, Any]]:
        """The request log's lines."""
        lines = [json.loads(line) for line in self.text.splitlines()]
        return [line for line in lines if line["logger"] == "jiraguard.request"]


@contextmanager
def capture_logs() -> Iterator[Captured]:
    """Send every INFO record to a string, formatted as ``jiraguard serve`` formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    # The test's own client (httpx) logs the URLs it calls; only the app's records count.
    handler.addFilter(
        lambda record: not (record.name == "httpx" and BASE_URL in record.getMessage())
    )
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield Captured(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
