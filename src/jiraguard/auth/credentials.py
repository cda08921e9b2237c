"""Step 1 of the request path: find the credentials a request carries (RFC 6750, RFC 7617,
RFC 9449).

A bearer token may arrive in the ``Authorization`` header (RFC 6750 §2.1) and, only when the
configuration allows it, in the form body (§2.2) or the query string (§2.3). A request that
uses more than one method is malformed (§2: "Clients MUST NOT use more than one method").
A DPoP-bound token comes as ``Authorization: DPoP <token>`` (RFC 9449 §7.1), with its proof
in the ``DPoP`` header (checked later, by :mod:`.sender`).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import parse_qs

from starlette.types import Scope

from jiraguard.auth.errors import InvalidRequest

# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_B64TOKEN_CHARACTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"
_MAX_TOKEN_LENGTH = 16 * 1024


def _well_formed_bearer(value: bytes) -> str | None:
    """The token of ``Bearer <b64token>`` exactly (the common case, checked at C speed: a
    regular expression walks a 1 KiB token several times slower), or None for anything
    else, which the general parser then reads."""
    if value[:7] not in (b"Bearer ", b"bearer ", b"BEARER "):
        return None
    token = value[7:]
    body = token.rstrip(b"=")
    if not body or len(token) > _MAX_TOKEN_LENGTH or body.translate(None, _B64TOKEN_CHARACTERS):
        return None
    return token.decode("ascii")


class BearerToken(NamedTuple):
    """A bearer token and where it came from (a named tuple: made on every request, and a
    frozen dataclass takes several times as long to build)."""

    token: str
    source: str
    """Where it came from: header, form or query."""
    scheme: str = "Bearer"
    """``Bearer`` (RFC 6750) or ``DPoP`` (RFC 9449 §7.1: a proof must come with it)."""
    key: str = ""
    """The token's fingerprint when already worked out (a header the authenticator has read
    before: :meth:`~jiraguard.auth.authenticator.Authenticator.read`); empty otherwise."""

    def __repr__(self) -> str:  # never print the secret
        return f"BearerToken(source={self.source!r}, scheme={self.scheme!r})"


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    username: str
    password: str
    raw: str
    """The header's credentials part, kept to fingerprint the pair for caching."""

    def __repr__(self) -> str:
        return f"BasicCredentials(username={self.username!r})"


Credentials = BearerToken | BasicCredentials


def _bearer(token: str, source: str, scheme: str = "Bearer") -> BearerToken:
    if not token:
        raise InvalidRequest("The bearer token is empty")
    if len(token) > _MAX_TOKEN_LENGTH:
        raise InvalidRequest("The bearer token is too long")
    if not _B64TOKEN.fullmatch(token):
        raise InvalidRequest("The bearer token has characters RFC 6750 does not allow")
    return BearerToken(token, source, scheme)


def parse_authorization(values: list[bytes]) -> Credentials | None:
    """Parse the ``Authorization`` header(s) of a request.

    Returns None when there is no header or its scheme is one jiraguard does not take (the
    request then counts as unauthenticated). Raises :class:`InvalidRequest` when a header is
    malformed or repeated. The scheme is matched case-insensitively (RFC 7235 §2.1).
    """
    if not values:
        return None
    if len(values) > 1:
        raise InvalidRequest("More than one Authorization header was sent")
    well_formed = _well_formed_bearer(values[0])
    if well_formed is not None:
        return BearerToken(well_formed, "header")
    try:
        header = values[0].decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise InvalidRequest("The Authorization header is not ASCII") from exc
    scheme, _, rest = header.partition(" ")
    scheme = scheme.lower()
    rest = rest.strip(" ")
    if scheme == "bearer":
        return _bearer(rest, "header")
    if scheme == "dpop":  # RFC 9449 §7.1: the same token68 syntax as Bearer
        return _bearer(rest, "header", "DPoP")
    if scheme == "basic":
        return _basic(rest)
    return None


def _basic(encoded: str) -> BasicCredentials:
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidRequest("The Basic credentials are not valid base64 of user:password") from exc
    username, colon, password = decoded.partition(":")
    if not colon or not username:
        raise InvalidRequest("The Basic credentials are not valid base64 of user:password")
    return BasicCredentials(username, password, encoded)


def query_token(query_string: bytes) -> BearerToken | None:
    """The ``access_token`` URI query parameter (RFC 6750 §2.3), if present exactly once."""
    if b"access_token" not in query_string:
        return None
    values = parse_qs(query_string.decode("latin-1"), keep_blank_values=True).get("access_token")
    if not values:
        return None
    if len(values) > 1:
        raise InvalidRequest("access_token was sent more than once")
    return _bearer(values[0], "query")


def form_token(body: bytes) -> BearerToken | None:
    """The ``access_token`` form-encoded body parameter (RFC 6750 §2.2), if present once."""
    if b"access_token" not in body:
        return None
    try:
        values = parse_qs(body.decode("utf-8"), keep_blank_values=True).get("access_token")
    except UnicodeDecodeError as exc:
        raise InvalidRequest("The form body is not UTF-8") from exc
    if not values:
        return None
    if len(values) > 1:
        raise InvalidRequest("access_token was sent more than once")
    return _bearer(values[0], "form")


def combine(*found: Credentials | None) -> Credentials | None:
    """The one credential a request carries; two at once is ``invalid_request`` (RFC 6750 §2)."""
    present = [c for c in found if c is not None]
    if len(present) > 1:
        raise InvalidRequest("More than one credential was sent; use exactly one method")
    return present[0] if present else None


_FORM = b"application/x-www-form-urlencoded"


def is_form(scope: Scope) -> bool:
    """Whether the request's body is ``application/x-www-form-urlencoded`` (never for GET or
    HEAD, which carry no body to read)."""
    if scope["method"] in ("GET", "HEAD"):
        return False
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bool(value.split(b";")[0].strip().lower() == _FORM)
    return False
