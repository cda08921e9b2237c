"""Types and the base class every settings section shares."""

from __future__ import annotations

import re
import ssl
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, FilePath

Method = Literal["jwt", "introspection", "userinfo"]
Algorithm = Literal[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512",
]  # fmt: skip
DPoPAlgorithm = Literal[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
]  # fmt: skip
"""Asymmetric JWS algorithms only: a DPoP proof is signed with the client's private key."""
HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
Seconds = Annotated[float, Field(ge=0)]
Network = IPv4Network | IPv6Network
HttpMethod = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _loads_as_ca_bundle(path: Path) -> Path:
    """A PEM file of CA certificates that OpenSSL loads (checked at start, named on error)."""
    try:
        ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"{path} is not a readable PEM file of CA certificates") from exc
    return path


CABundle = Annotated[FilePath, AfterValidator(_loads_as_ca_bundle)]
"""A PEM file of the CA certificates to trust, instead of the system's."""
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)\s*$")
_PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}


def parse_rate(value: str) -> tuple[int, float]:
    """``"100/minute"`` → (100, 60.0): a count of requests per period in seconds."""
    match = _RATE.match(value)
    if match is None or int(match.group(1)) < 1:
        raise ValueError(f"{value!r} is not a rate like '100/minute' (second, minute, hour, day)")
    return int(match.group(1)), _PERIODS[match.group(2)]


def check_rate(value: str | None) -> str | None:
    if value is not None:
        parse_rate(value)
    return value


def safe_url(url: str) -> str:
    """``url`` without user information, query or fragment: fit for a log line or an error."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = host + (f":{parts.port}" if parts.port else "")
    except ValueError:
        return url.partition(":")[0] + ":..."
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class Section(BaseModel):
    # A validation error never repeats the value it refused: it may be a secret or a key.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
