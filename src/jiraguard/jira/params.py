"""Reading query parameters and JSON bodies the way Jira clients send them (docs/jira-compat.md §4).

Query booleans are case-insensitive (``True``, ``false``), empty parameters mean "absent",
list parameters arrive repeated or comma-separated. JSON bodies are read with a size limit
(413 past ``server.max_body_bytes``), must be objects, and ``null`` members are dropped.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import ClientDisconnect, Request

from jiraguard.errors import JiraError, bad_request
from jiraguard.untrusted import InvalidUnicode, UntrustedInput, is_digits, load_json

MAX_INT = 2**31 - 1
"""Largest paging number passed on (SQLite rejects OFFSETs past 64 bits)."""


def query_str(request: Request, name: str) -> str | None:
    """The parameter's value, or None when it is missing or empty."""
    value = request.query_params.get(name)
    return value if value else None


def query_flag(request: Request, name: str, default: bool) -> bool:
    """A boolean parameter, case-insensitive (clients send Python's ``True``/``False``)."""
    value = query_str(request, name)
    if value is None:
        return default
    folded = value.strip().lower()
    if folded in ("true", "false"):
        return folded == "true"
    raise bad_request(f"The value '{value}' of the parameter '{name}' is not a boolean.")


def query_int(request: Request, name: str, default: int, *, minimum: int = 0) -> int:
    """An integer parameter; 400 when it is not a number or is below ``minimum``."""
    value = query_str(request, name)
    if value is None:
        return default
    return as_int(value, name, minimum=minimum)


def as_int(value: Any, name: str, *, minimum: int = 0) -> int:
    """``value`` (an int or a numeric string) as an int of at least ``minimum``; else 400."""
    if isinstance(value, bool):
        raise bad_request(f"The value '{value}' of '{name}' is not a number.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and is_digits(value.strip().removeprefix("-")):
        text = value.strip()
        negative = text.startswith("-")
        digits = text.removeprefix("-").lstrip("0")
        # Past ten digits the number is out of range either way: clamp before int(), which
        # refuses (or is slow on) thousands of digits.
        if len(digits) > len(str(MAX_INT)):
            number = -MAX_INT - 1 if negative else MAX_INT
        else:
            number = -int(digits or "0") if negative else int(digits or "0")
    else:
        raise bad_request(f"The value '{value}' of '{name}' is not a number.")
    if number < minimum:
        raise bad_request(f"The value of '{name}' must be at least {minimum}.")
    return min(number, MAX_INT)  # absurd values are clamped, then capped by the caller


def query_list(request: Request, name: str) -> list[str]:
    """A list parameter: repeated (``fields=a&fields=b``) and/or comma-separated (``a,b``)."""
    items: list[str] = []
    for value in request.query_params.getlist(name):
        items.extend(part.strip() for part in value.split(",") if part.strip())
    return items


async def read_body(request: Request) -> bytes:
    """The request body, refused with 413 once it passes ``server.max_body_bytes``."""
    limit: int = request.app.state.services.settings.server.max_body_bytes
    declared = request.headers.get("content-length", "")
    if is_digits(declared) and int(declared) > limit:
        raise too_large(limit)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise too_large(limit)
    except ClientDisconnect:
        # The client half-closed mid-body: nobody will read the answer, but it is the
        # client's doing, not a server error with a traceback in the log.
        raise JiraError(400, [DISCONNECTED]) from None
    return bytes(body)


DISCONNECTED = "The client closed the connection before the request body was complete."


def too_large(limit: int) -> JiraError:
    """413 in Jira's format for a body past ``limit`` bytes."""
    return JiraError(413, [f"The request body is larger than the limit of {limit} bytes."])


async def read_json(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The JSON object in the body, without its ``null`` members (docs/jira-compat.md §4.9).

    An empty body is ``{}`` unless ``required``; anything but a JSON object is a 400.
    """
    raw = await read_body(request)
    if not raw.strip():
        if required:
            raise bad_request("No content to map due to end-of-input")
        return {}
    try:
        document = load_json(raw)
    except InvalidUnicode as exc:
        raise bad_request(
            "The request body contains an unpaired surrogate (invalid Unicode)."
        ) from exc
    except UntrustedInput as exc:  # bad JSON or UTF-8, too deep, huge numbers, lone surrogates
        raise bad_request(f"The request body is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise bad_request("The request body must be a JSON object.")
    return {key: value for key, value in document.items() if value is not None}


def member_object(document: dict[str, Any], name: str) -> dict[str, Any]:
    """``document[name]`` as an object (absent → ``{}``); 400 for any other type."""
    value = document.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"'{name}' must be a JSON object.")
    return value
