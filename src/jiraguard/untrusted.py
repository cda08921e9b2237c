"""Where untrusted text becomes values: JSON documents, integers, database text.

Everything a client (or a token) sends passes one of these before anything else sees it, so
the bounds hold in one place:

* :func:`load_json` — at most ``max_bytes`` and ``max_depth`` levels of nesting (checked on
  the raw bytes, before the parser recurses), numbers of at most :data:`MAX_NUMBER_DIGITS`
  digits and finite, no ``NaN``/``Infinity``, and (unless told otherwise) no lone surrogates
  (``"\\ud800"`` decodes to a string no database driver and no UTF-8 response accepts).
* :func:`bounded_int` — ASCII digits only, at most ``digits`` of them, before ``int()``.
* :func:`db_text` — any value as text a database column holds: no NUL, lone surrogates
  replaced by U+FFFD, cut to the column's length.

They raise :class:`UntrustedInput` (a ``ValueError``), never ``RecursionError``,
``OverflowError`` or ``UnicodeError``; each caller turns it into its own 400 or 401.
"""

from __future__ import annotations

import binascii
import json
import math
import re
from itertools import accumulate
from typing import Any

import orjson

MAX_DEPTH = 32
"""Nesting levels a JSON document may have (Jira's own bodies need fewer than 8)."""
MAX_NUMBER_DIGITS = 40
"""Characters a JSON number may have: enough for any 128-bit integer or any float."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
for _open in b"[{":
    _STEP[_open] = 1
for _close in b"]}":
    _STEP[_close] = -1
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class UntrustedInput(ValueError):
    """Input past a bound, or not valid: the message says which, for the client."""


class InvalidUnicode(UntrustedInput):
    """A string with a lone surrogate: JSON can spell it, UTF-8 cannot."""


def is_digits(text: str) -> bool:
    """Only ASCII digits (``str.isdigit`` alone lets ``"²"`` and ``"٣"`` through, which
    ``int`` refuses or reads differently)."""
    return text.isascii() and text.isdigit()


def bounded_int(text: str, *, digits: int = 18, signed: bool = False) -> int:
    """``text`` (surrounding blanks allowed) as an int of at most ``digits`` ASCII digits."""
    body = text.strip()
    negative = signed and body.startswith("-")
    if negative or (signed and body.startswith("+")):
        body = body[1:]
    if not is_digits(body):
        raise UntrustedInput("not a whole number")
    significant = body.lstrip("0")
    if len(significant) > digits:
        raise UntrustedInput("the number is too large")
    number = int(significant or "0")
    return -number if negative else number


def nesting_depth(raw: bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` in a JSON text, outside its strings."""
    if raw.count(b"[") + raw.count(b"{") == 0:
        return 0
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKET)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _number(text: str) -> int:
    if len(text) > MAX_NUMBER_DIGITS:
        raise UntrustedInput(f"a number is longer than {MAX_NUMBER_DIGITS} characters")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS:
        raise UntrustedInput(f"a number is longer than {MAX_NUMBER_DIGITS} characters")
    value = float(text)
    if not math.isfinite(value):
        raise UntrustedInput("a number is out of range")
    return value


def _constant(name: str) -> Any:
    raise UntrustedInput(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_int=_number, parse_float=_float, parse_constant=_constant)
"""One decoder with the bounded number readers, made once: ``json.loads`` with hooks builds
a new decoder and scanner on every call, which cost more than decoding a token's claims."""


def load_json(
    raw: bytes | bytearray | str,
    *,
    max_bytes: int | None = None,
    max_depth: int = MAX_DEPTH,
    valid_unicode: bool = True,
) -> Any:
    """The JSON document in ``raw`` within the bounds in the module doc; else
    :class:`UntrustedInput`.

    orjson reads it, in a third of the time :func:`bounded_json` takes (a JWT's claims are
    read before its signature is checked, so a forged token costs this too); a document
    orjson refuses, or one whose reading could differ (:func:`_has_float`), is read again,
    and its error worded, by :func:`bounded_json`."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    if max_bytes is not None and len(data) > max_bytes:
        raise UntrustedInput(f"the document is larger than {max_bytes} bytes")
    # The depth is at most the number of openers: most documents need no scan at all.
    if data.count(b"[") + data.count(b"{") > max_depth and nesting_depth(data) > max_depth:
        raise UntrustedInput(f"the document is nested deeper than {max_depth} levels")
    try:
        document = orjson.loads(data)
    except ValueError:  # orjson.JSONDecodeError, whatever it refused
        pass  # bounded_json says why, in its words
    else:
        if not _has_float(document):
            return document
    return bounded_json(data, valid_unicode=valid_unicode)


def _has_float(document: Any) -> bool:
    """Whether orjson's reading holds a float, where it may differ from
    :func:`bounded_json`'s: orjson reads an integer past 64 bits as a float, and a float
    longer than :data:`MAX_NUMBER_DIGITS` is refused there. Without one the two agree:
    integers within 64 bits (20 digits at most) read exactly, RFC 8259's grammar, strict
    UTF-8, no ``NaN``/``Infinity``, no lone surrogates, the same key order
    (``tests/fuzz`` compares the two on hostile input)."""
    if type(document) is not dict and type(document) is not list:
        return type(document) is float
    pending = [document]
    while pending:
        item = pending.pop()
        members = item.values() if type(item) is dict else item
        kinds = set(map(type, members))  # a container's members looked at in C, not one by one
        if float in kinds:
            return True
        if dict in kinds or list in kinds:
            pending.extend(m for m in members if type(m) is dict or type(m) is list)
    return False


def bounded_json(data: bytes, *, valid_unicode: bool = True) -> Any:
    """The standard library's reading of ``data`` with the module doc's bounds on numbers
    and strings (its size and depth already checked by :func:`load_json`)."""
    try:
        # Strict UTF-8 (RFC 8259 §8.1): json.loads(bytes) would decode with "surrogatepass"
        # and let encoded surrogates (ED A0 80) through as lone surrogates.
        text = data.decode("utf-8", "strict" if valid_unicode else "surrogatepass")
    except UnicodeDecodeError as exc:
        raise UntrustedInput(f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        document = _DECODER.decode(text)
    except UntrustedInput:
        raise
    except (ValueError, RecursionError) as exc:  # bad JSON
        raise UntrustedInput(str(exc)) from None
    if valid_unicode and _SURROGATE_ESCAPE.search(data) and not encodable(document):
        raise InvalidUnicode("a string contains an unpaired surrogate (invalid Unicode)")
    return document


def encodable(document: Any) -> bool:
    """Whether every string in ``document`` (keys too) encodes as UTF-8."""
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and _SURROGATE.search(item):
            return False
    return True


def db_text(value: Any, limit: int) -> str:
    """``value`` as text a column of ``limit`` characters holds: str() of a non-string, NUL
    removed, lone surrogates replaced by U+FFFD, cut to ``limit``."""
    try:
        text = value if isinstance(value, str) else str(value)
    except ValueError:  # an int past the interpreter's digit limit
        text = "?"
    if "\x00" in text:
        text = text.replace("\x00", "")
    if _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text[:limit]


_TO_STANDARD = bytes.maketrans(b"-_+/", b"+/!!")
"""base64url's alphabet as standard base64's, and standard's own ``+`` and ``/`` as a byte
neither alphabet has (so that strict decoding refuses them)."""
_UNUSED_BITS = {2: 0x0F, 3: 0x03}
"""The low bits of a segment's last character that carry no data, by the segment's length
modulo 4: they must be zero in the one canonical spelling of the bytes."""
_SEXTET = {
    c: n for n, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
}


def base64url(segment: str) -> bytes:
    """The bytes of a base64url segment (RFC 4648 §5) as JOSE writes it (RFC 7515 §2): only
    the URL-safe alphabet, no padding but up to two ``=`` (some issuers send them), and the
    one canonical spelling of its bytes. :class:`UntrustedInput` otherwise.

    ``base64.urlsafe_b64decode`` alone skips characters outside the alphabet, so ``ab!!cd``
    would read as ``abcd``; PyJWT checks the alphabet a character at a time in Python (about
    60 µs for a 2048-bit RSA signature); this decodes strictly in C and checks the last
    character's unused bits.
    """
    stripped = segment.rstrip("=")
    padding = len(segment) - len(stripped)
    if padding > 2 or (padding and len(segment) % 4) or len(stripped) % 4 == 1:
        raise UntrustedInput("not base64url: its length or padding")
    if not stripped.isascii():
        raise UntrustedInput("not base64url: a character outside its alphabet")
    data = stripped.encode("ascii")
    try:
        raw = binascii.a2b_base64(
            data.translate(_TO_STANDARD) + b"=" * (-len(data) % 4), strict_mode=True
        )
    except binascii.Error:
        raise UntrustedInput("not base64url: a character outside its alphabet") from None
    unused = _UNUSED_BITS.get(len(data) % 4)
    if unused is not None and _SEXTET[data[-1]] & unused:
        raise UntrustedInput("not base64url: unused bits set")  # one spelling per value
    return raw
