"""JSON responses in Jira's wire format.

Jira sends ``Content-Type: application/json;charset=UTF-8`` (some clients check for exactly that
string on a 401) and reports every error as ``{"errorMessages": [...], "errors": {...}}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json;charset=UTF-8"


def dump_json(content: Any) -> bytes:
    """Compact UTF-8 JSON, as Jira writes it."""
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class JiraJSONResponse(Response):
    """A JSON response with Jira's exact content type."""

    media_type = JSON_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return dump_json(content)


def error_body(messages: list[str] | None = None, errors: Mapping[str, str] | None = None) -> bytes:
    """Jira's error envelope, serialised."""
    return dump_json({"errorMessages": list(messages or []), "errors": dict(errors or {})})


def error_response(
    status_code: int,
    messages: list[str] | None = None,
    errors: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An error in Jira's format: ``{"errorMessages": [...], "errors": {...}}``."""
    return Response(
        error_body(messages, errors),
        status_code=status_code,
        headers=dict(headers or {}),
        media_type=JSON_MEDIA_TYPE,
    )
