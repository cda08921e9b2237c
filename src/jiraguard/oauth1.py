"""OAuth 1.0a (RFC 5849) primitives for the RSA-SHA1 signature method, free of any framework.

Everything a signer and a verifier share: percent-encoding (§3.6), the ``Authorization:
OAuth`` header (§3.5.1), query and form parameters (§3.4.1.3.1), the normalized parameter
string (§3.4.1.3.2), the base string URI (§3.4.1.2), the signature base string (§3.4.1.1)
and RSASSA-PKCS1-v1_5 with SHA-1 (§3.4.3). Malformed input raises :class:`OAuth1Error`
(a :class:`ValueError`), whose message never repeats the input.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from urllib.parse import quote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

MAX_HEADER_BYTES = 8192
"""Longest ``Authorization: OAuth`` value :func:`parse_authorization_header` reads."""
MAX_HEADER_PARAMS = 32
"""Most parameters one ``Authorization: OAuth`` value may carry."""

Params = list[tuple[str, str]]
"""Decoded (name, value) pairs, in the order they were found."""


class OAuth1Error(ValueError):
    """Malformed OAuth 1.0 input: a header, parameter string, URI or key that cannot be read."""


# §3.6: unreserved characters (RFC 3986 §2.3) are never encoded, everything else is.
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")
_BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def percent_encode(value: str | bytes) -> str:
    """Encode per RFC 5849 §3.6: the UTF-8 octets, each byte outside the unreserved set
    (``ALPHA``, ``DIGIT``, ``-``, ``.``, ``_``, ``~``) as ``%XX`` with upper-case hex."""
    # urllib's quote leaves exactly ALPHA, DIGIT and "_.-~" alone (RFC 3986 §2.3) and writes
    # upper-case hex, as §3.6 asks; it is several times faster than a table per byte.
    return quote(value, safe="")


def percent_decode(value: str | bytes, *, plus_is_space: bool = False) -> str:
    """Decode ``%XX`` escapes and read the octets as UTF-8 (RFC 5849 §3.6, in reverse).

    With ``plus_is_space`` a ``+`` is a space, as in ``application/x-www-form-urlencoded``
    (W3C HTML 4.0 §17.13.4, which §3.4.1.3.1 names for the query and the body). A ``%`` not
    followed by two hex digits, or octets that are not UTF-8, raise :class:`OAuth1Error`.
    """
    try:
        data = value.encode("ascii") if isinstance(value, str) else value
    except UnicodeEncodeError:
        raise OAuth1Error("an encoded parameter contains non-ASCII characters") from None
    if _BAD_PERCENT.search(data):
        raise OAuth1Error("invalid percent-encoding")
    if plus_is_space:
        data = data.replace(b"+", b" ")
    raw = _PERCENT.sub(lambda m: bytes([int(m.group(1), 16)]), data)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise OAuth1Error("a parameter is not UTF-8 once decoded") from None


def parse_form(data: str | bytes) -> Params:
    """Read a query string or an ``application/x-www-form-urlencoded`` body into decoded
    (name, value) pairs (RFC 5849 §3.4.1.3.1, W3C HTML 4.0 §17.13.4).

    Pairs are separated by ``&``; empty segments are skipped; a name without ``=`` has the
    empty value; ``+`` is a space. Invalid percent-encoding or non-UTF-8 raise
    :class:`OAuth1Error`.
    """
    raw = data.encode("latin-1") if isinstance(data, str) else data
    params: Params = []
    for segment in raw.split(b"&"):
        if not segment:
            continue
        name, _, value = segment.partition(b"=")
        params.append(
            (percent_decode(name, plus_is_space=True), percent_decode(value, plus_is_space=True))
        )
    return params


_SCHEME = re.compile(r"^OAuth(?:[ \t]+|$)", re.IGNORECASE)
_HEADER_PARAM = re.compile(r'([A-Za-z0-9%._~-]+)="([^"\\\x00-\x1f\x7f]*)"')
_SEPARATOR = re.compile(r"[ \t]*,[ \t]*")


def is_oauth_authorization(value: str | bytes | None) -> bool:
    """Whether an ``Authorization`` value uses the ``OAuth`` scheme (RFC 5849 §3.5.1; the
    scheme name is case-insensitive, RFC 9110 §11.1)."""
    if value is None:
        return False
    if isinstance(value, bytes):
        value = value[:6].decode("latin-1")
    return bool(_SCHEME.match(value[:6]))


def parse_authorization_header(value: str | bytes) -> dict[str, str]:
    """Read an ``Authorization: OAuth ...`` value into its decoded parameters (RFC 5849 §3.5.1).

    Strict: the ``OAuth`` scheme (any case), then ``name="value"`` pairs separated by a comma
    and optional spaces; every value quoted; names and values percent-encoded (§3.6) and
    decoded here; no name twice; at most :data:`MAX_HEADER_BYTES` long and
    :data:`MAX_HEADER_PARAMS` pairs. ``realm`` is returned like any other parameter: callers
    leave it out of the signature (§3.4.1.3.1). Anything else raises :class:`OAuth1Error`.
    """
    if len(value) > MAX_HEADER_BYTES:
        raise OAuth1Error("the OAuth Authorization header is too long")
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            raise OAuth1Error("the OAuth Authorization header is not ASCII") from None
    scheme = _SCHEME.match(value)
    if scheme is None:
        raise OAuth1Error("the Authorization header does not use the OAuth scheme")
    rest = value[scheme.end() :].rstrip(" \t")
    params: dict[str, str] = {}
    position = 0
    while position < len(rest):
        if params:
            separator = _SEPARATOR.match(rest, position)
            if separator is None:
                raise OAuth1Error("OAuth header parameters must be separated by commas")
            position = separator.end()
        match = _HEADER_PARAM.match(rest, position)
        if match is None:
            raise OAuth1Error('an OAuth header parameter is not name="value"')
        position = match.end()
        name = percent_decode(match.group(1))
        if name in params:
            raise OAuth1Error(f"the OAuth header names {percent_encode(name)} twice")
        if len(params) == MAX_HEADER_PARAMS:
            raise OAuth1Error("the OAuth header has too many parameters")
        # realm is an RFC 2617 quoted-string, not a percent-encoded value.
        params[name] = match.group(2) if name == "realm" else percent_decode(match.group(2))
    return params


def normalized_parameters(params: Iterable[tuple[str, str]]) -> str:
    """The normalized request parameters (RFC 5849 §3.4.1.3.2): names and values encoded
    (§3.6), sorted by encoded name then encoded value in byte order, joined as ``name=value``
    pairs with ``&``. The caller has already left out ``realm`` and ``oauth_signature``."""
    pairs = sorted((percent_encode(name), percent_encode(value)) for name, value in params)
    return "&".join(f"{name}={value}" for name, value in pairs)


_DEFAULT_PORTS = {"http": "80", "https": "443"}
_AUTHORITY = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%!$&'()*+,;=-]+)(?::([0-9]{0,5}))?$")
_PATH = re.compile(r"^(?:/[\x21-\x22\x24-\x3e\x40-\x7e]*)?$")  # printable ASCII, no ? or #
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([^?#]*)(?:\?([^#]*))?$")


def base_string_uri(scheme: str, authority: str, path: str) -> str:
    """The base string URI (RFC 5849 §3.4.1.2): ``scheme://host[:port]path``.

    The scheme and host in lower case; the port kept unless it is the scheme's default
    (80 for http, 443 for https); the path exactly as on the request line (its
    percent-encoding untouched), ``/`` when empty; no query, no fragment. ``authority`` is
    what the ``Host`` header says (``host[:port]``, no user information).
    """
    scheme = scheme.lower()
    match = _AUTHORITY.match(authority)
    if match is None:
        raise OAuth1Error("the host is not a valid URI authority")
    host, port = match.group(1).lower(), match.group(2)
    if port:
        port = port.lstrip("0") or "0"
        if int(port) > 65535:
            raise OAuth1Error("the port is out of range")
    if port and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    if not _PATH.match(path):
        raise OAuth1Error("the path is not an absolute path of printable ASCII without query")
    return f"{scheme}://{host}{path or '/'}"


def split_url(url: str) -> tuple[str, str, str, str]:
    """An absolute ``http(s)`` URL as (scheme, authority, path, query), the parts kept as
    written (no fragment allowed); :class:`OAuth1Error` when it is not one."""
    match = _URL.match(url)
    if match is None:
        raise OAuth1Error("not an absolute URL without fragment")
    scheme, authority, path, query = match.groups()
    return scheme, authority, path, query or ""


def signature_base_string(method: str, base_uri: str, params: Iterable[tuple[str, str]]) -> str:
    """The signature base string (RFC 5849 §3.4.1.1): the method in upper case, the base
    string URI and the normalized parameters (§3.4.1.3.2), each encoded (§3.6), joined by
    ``&``. ``params`` are every parameter of the request (§3.4.1.3.1) except ``realm`` and
    ``oauth_signature``."""
    return "&".join(
        (
            percent_encode(method.upper()),
            percent_encode(base_uri),
            percent_encode(normalized_parameters(params)),
        )
    )


def load_rsa_private_key(pem: str | bytes) -> rsa.RSAPrivateKey:
    """An unencrypted PEM RSA private key (PKCS#8 or PKCS#1); :class:`OAuth1Error` otherwise.
    The message never repeats the key."""
    data = pem.encode("utf-8") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnicodeError):
        raise OAuth1Error("not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise OAuth1Error("the private key is not an RSA key")
    return key


def load_rsa_public_key(pem: str | bytes) -> rsa.RSAPublicKey:
    """A PEM RSA public key (``PUBLIC KEY`` or ``RSA PUBLIC KEY``); :class:`OAuth1Error`
    otherwise."""
    data = pem.encode("utf-8") if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnicodeError):
        raise OAuth1Error("not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise OAuth1Error("the public key is not an RSA key")
    return key


_SHA1 = hashes.SHA1()  # noqa: S303 - RFC 5849 §3.4.3 defines RSA-SHA1, and Jira speaks only that


def sign_rsa_sha1(private_key: rsa.RSAPrivateKey, base_string: str) -> str:
    """``oauth_signature`` for RSA-SHA1 (RFC 5849 §3.4.3.1): RSASSA-PKCS1-v1_5 (RFC 3447
    §8.2) with SHA-1 over the ASCII base string, base64-encoded (RFC 2045 §6.8)."""
    message = base_string.encode("ascii")
    signature = private_key.sign(message, padding.PKCS1v15(), _SHA1)
    return base64.b64encode(signature).decode("ascii")


def verify_rsa_sha1(public_key: rsa.RSAPublicKey, base_string: str, signature: str) -> bool:
    """Whether ``signature`` is the RSA-SHA1 signature of ``base_string`` (RFC 5849 §3.4.3.2).

    Never raises: a signature that is not base64, a base string that is not ASCII or a
    signature of the wrong length are all simply False.
    """
    try:
        raw = base64.b64decode(signature.encode("ascii"), validate=True)
        public_key.verify(raw, base_string.encode("ascii"), padding.PKCS1v15(), _SHA1)
    except (InvalidSignature, binascii.Error, ValueError, TypeError, UnicodeError):
        return False
    return True
