"""JSON responses in Jira's wire format.

Jira sends ``Content-Type: application/json;charset=UTF-8`` (some clients check for exactly that
string on a 401) and reports every error as ``{"errorMessages": [...], "errors": {...}}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

JSON_MEDIA_TYPE = "application/json;charset=UTF-8"


def dump_json(content: Any) -> bytes:
    """Compact UTF-8 JSON, as Jira writes it."""
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_STANDARD_TYPES_ONLY = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
"""orjson refuses what :func:`dump_json` refuses, instead of writing it its own way."""


def dump_rendered_json(content: Any) -> bytes:
    """:func:`dump_json` for bodies built from stored records (issue GET, search), faster.

    Those hold strings, integers, booleans, null, lists and objects with string keys, which
    orjson writes byte for byte as :func:`dump_json` does (compact, UTF-8, the same escapes)
    in a tenth of the time (a page of 50 issues: 0.1 ms against 1.3 ms). What it refuses (an
    integer past 64 bits, a key that is not a string, a lone surrogate) goes to
    :func:`dump_json`, which answers or fails as it always did. Not for floats: orjson writes
    their exponents in another form (``1e16`` for ``1e+16``).
    """
    try:
        return orjson.dumps(content, option=_STANDARD_TYPES_ONLY)
    except orjson.JSONEncodeError:
        return dump_json(content)


_JSON_CONTENT_TYPE = (b"content-type", JSON_MEDIA_TYPE.encode("latin-1"))


class SerialisedJSONResponse(Response):
    """A 200 with a JSON body already serialised (an answer kept between requests): the
    headers :class:`JiraJSONResponse` sends, in its order, without working them out again."""

    def __init__(self, body: bytes) -> None:
        self.status_code = 200
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-length", b"%d" % len(body)), _JSON_CONTENT_TYPE]


class KeptResponse(Response):
    """An answer rendered before and kept (status, header list, body), sent again as it was;
    the header list is this answer's copy, so a header added to it reaches no other."""

    def __init__(self, template: Response) -> None:
        self.status_code = template.status_code
        self.background = None
        self.body = template.body
        self.raw_headers = list(template.raw_headers)


class JiraJSONResponse(Response):
    """A JSON response with Jira's exact content type."""

    media_type = JSON_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return dump_json(content)


class RenderedJSONResponse(JiraJSONResponse):
    """:class:`JiraJSONResponse` of a body built from stored records (see
    :func:`dump_rendered_json`)."""

    def render(self, content: Any) -> bytes:
        return dump_rendered_json(content)


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
