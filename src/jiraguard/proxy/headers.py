"""Header rules of a forwarding proxy: hop-by-hop fields, ``X-Forwarded-*``, and the rewriting
of ``Location`` and ``Set-Cookie`` for an upstream served under a context path.

Context-path mapping: the upstream URL's path (``https://jira.internal:8080/jira``) is the
upstream's context path; jiraguard serves that context at its own root. A request for
``/rest/api/2/myself`` goes to ``/jira/rest/api/2/myself``; a ``Location`` naming the upstream
(``http://jira.internal:8080/jira/login.jsp`` or ``/jira/login.jsp``) comes back as the public
origin's ``/login.jsp``, and a cookie's ``Path=/jira`` becomes ``Path=/``. Locations that
name other hosts, and cookie ``Domain`` attributes, are left alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from urllib.parse import unquote_plus

import httpx

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
"""RFC 9110 §7.6.1: meant for one connection only, so never forwarded (in either direction).
``Proxy-Connection`` is the pre-standard spelling some clients still send."""


_name = itemgetter(0)
_NONE: frozenset[bytes] = frozenset()
_CONNECTION = b"connection"


def connection_options(headers: Sequence[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """The names listed in ``Connection`` (RFC 9110 §7.6.1: "a proxy ... MUST remove any
    header fields listed in the Connection header"), any case. Most messages have none: that
    is found in C, with no bytecode per header."""
    if 10 not in map(len, map(_name, headers)) or _CONNECTION not in map(
        bytes.lower, map(_name, headers)
    ):
        return _NONE
    return frozenset(
        option.strip().lower()
        for name, value in headers
        if name.lower() == _CONNECTION
        for option in value.split(b",")
    )


def without_access_token(query: bytes) -> bytes:
    """The query string minus every ``access_token`` parameter (RFC 6750 §2.3), the rest kept
    byte for byte. Names are compared decoded, as the credential parser reads them."""
    if b"access_token" not in query and b"%" not in query:
        return query
    kept = [
        part
        for part in query.split(b"&")
        if unquote_plus(part.partition(b"=")[0].decode("latin-1")) != "access_token"
    ]
    return b"&".join(kept)


class ContextPath:
    """Maps between jiraguard's root and the upstream's context path (see module docs)."""

    def __init__(self, upstream: httpx.URL) -> None:
        self.prefix = upstream.raw_path.split(b"?")[0].rstrip(b"/").decode("ascii")
        """The upstream's context path without a trailing slash (``""`` at the root)."""
        self.origins = _origins(upstream)

    def upstream_target(self, target: bytes) -> bytes:
        """A client request-target (path and query) as the upstream's."""
        return self.prefix.encode("ascii") + target if self.prefix else target

    def _strip(self, path: str) -> str | None:
        """``path`` without the context path, or None when it is outside the context."""
        if not self.prefix:
            return path
        if path == self.prefix:
            return "/"
        rest = path[len(self.prefix) :]
        if not path.startswith(self.prefix) or rest[:1] not in ("/", "?", "#"):
            return None
        return rest if rest[:1] == "/" else "/" + rest

    def location(self, value: str, public_origin: str) -> str:
        """A ``Location`` value (RFC 9110 §10.2.2) as the client must see it."""
        lowered = value.lower()
        for origin in self.origins:
            if lowered.startswith(origin) and value[len(origin) : len(origin) + 1] in ("", "/"):
                path = self._strip(value[len(origin) :] or "/")
                return public_origin + path if path is not None else value
        if value.startswith("/") and not value.startswith("//"):
            path = self._strip(value)
            return path if path is not None else value
        return value

    def set_cookie(self, value: str) -> str:
        """A ``Set-Cookie`` value with its ``Path`` attribute (RFC 6265 §5.2.4) mapped."""
        if not self.prefix:
            return value
        parts = value.split(";")
        for index, part in enumerate(parts[1:], start=1):
            name, equals, path = part.partition("=")
            if equals and name.strip().lower() == "path":
                mapped = self._strip(path.strip())
                if mapped is not None:
                    parts[index] = f" Path={mapped}"
        return ";".join(parts)


def _origins(url: httpx.URL) -> tuple[str, ...]:
    """The spellings of the upstream's origin: with and without an explicit default port."""
    host = url.raw_host.decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(url.scheme)
    port = url.port or default
    spelled = {f"{url.scheme}://{host}:{port}".lower()}
    if port == default:
        spelled.add(f"{url.scheme}://{host}".lower())
    return tuple(sorted(spelled, key=len, reverse=True))
