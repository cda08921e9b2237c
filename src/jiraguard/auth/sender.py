"""Step 2b of the request path: is the sender the holder the token is bound to?

After the token is authenticated (from the cache or a provider), every request is checked
again here, because a binding is a property of the request, not of the token:

* ``Authorization: DPoP`` (RFC 9449 §7.1): the token must be DPoP-bound (``cnf.jkt``), its
  provider must accept DPoP, and the ``DPoP`` proof must verify for this request and be
  signed with the bound key. A DPoP-bound token sent as ``Bearer`` is refused (§7.2: never a
  downgrade); with ``dpop = "required"`` so is any token that is not DPoP-bound.
* ``cnf.x5t#S256`` (RFC 8705 §3): the request must come over a connection whose client
  certificate has that thumbprint: the certificate of jiraguard's own TLS connection (the
  ASGI TLS extension, ``scope["extensions"]["tls"]``), or the one a trusted proxy that
  terminated TLS put in ``server.client_cert_header``.

The URI a proof must name (``htu``) is the one the client used: ``server.base_url`` with the
request's path when set, else the ``X-Forwarded-Proto``/``-Host`` of a trusted proxy, else
the request's own scheme and ``Host``. For forward authentication it is the original
request's path (``X-Original-URI``), which the engine sends.
"""

from __future__ import annotations

import hmac
import ssl
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from starlette.types import Scope

from jiraguard.auth.clientip import ClientAddress
from jiraguard.auth.confirmation import certificate_thumbprint
from jiraguard.auth.credentials import BearerToken
from jiraguard.auth.dpop import DPoPVerifier
from jiraguard.auth.errors import InvalidDPoPProof, InvalidToken
from jiraguard.auth.principal import Principal
from jiraguard.settings import Settings

_MAX_CERT_HEADER = 16 * 1024
_DPOP = b"dpop"


class SenderConstraints:
    """The binding checks of one configuration."""

    def __init__(
        self, settings: Settings, verifier: DPoPVerifier, client_address: ClientAddress
    ) -> None:
        self.modes: Mapping[str, str] = {p.name: p.dpop for p in settings.providers}
        accepting = any(mode != "off" for mode in self.modes.values())
        self.algs = " ".join(settings.auth.dpop_algorithms) if accepting else None
        """What a 401's ``DPoP`` challenge names; None where no provider accepts DPoP."""
        self._requiring = frozenset(name for name, mode in self.modes.items() if mode == "required")
        """The providers whose tokens must be DPoP-bound."""
        self.verifier = verifier
        self.client_address = client_address
        server = settings.server
        self.origin: str | None = None
        self.base_path = ""
        if server.base_url:
            parts = urlsplit(server.base_url)
            self.origin = f"{parts.scheme}://{parts.netloc}"
            self.base_path = parts.path.rstrip("/")
        header = server.client_cert_header
        self.cert_header = header.lower().encode("latin-1") if header else None

    def plain(self, credentials: BearerToken, principal: Principal) -> bool:
        """Whether there is nothing for :meth:`check` to check: an unbound bearer token, of a
        provider that does not require binding."""
        return (
            credentials.scheme == "Bearer"
            and principal.jkt is None
            and principal.x5t is None
            and (not self._requiring or principal.provider not in self._requiring)
        )

    async def check(self, scope: Scope, credentials: BearerToken, principal: Principal) -> None:
        """Raise unless ``credentials`` are sent as their binding demands."""
        mode = self.modes.get(principal.provider, "off") if principal.provider else "off"
        if credentials.scheme == "DPoP":
            if mode == "off":
                raise InvalidToken("DPoP is not accepted for this access token")
            if principal.jkt is None:
                raise InvalidToken("The access token is not bound to a DPoP key")
            proofs = [value for name, value in scope["headers"] if name == _DPOP]
            jkt = await self.verifier.verify(
                proofs, scope["method"], self.request_uri(scope), credentials.token
            )
            if not hmac.compare_digest(jkt, principal.jkt):
                raise InvalidDPoPProof("The DPoP proof is not signed with the token's key")
        elif principal.jkt is not None:
            raise InvalidToken(
                "The access token is DPoP-bound: send it as 'Authorization: DPoP' with a proof"
            )
        elif mode == "required":
            raise InvalidToken("This provider's access tokens must be DPoP-bound")
        if principal.x5t is not None:
            der = self.client_certificate(scope)
            if der is None:
                raise InvalidToken(
                    "The access token is bound to a client certificate, and this connection "
                    "presented none"
                )
            if not hmac.compare_digest(certificate_thumbprint(der), principal.x5t):
                raise InvalidToken(
                    "The access token is bound to another client certificate than this connection's"
                )

    def request_uri(self, scope: Scope) -> str:
        """The URI the client sent the request to, without query (the proof's ``htu``)."""
        target = scope.get("jiraguard.forward_target") or scope.get("raw_path")
        if not target:
            target = scope["path"].encode("utf-8")
        path: str = bytes(target).split(b"?", 1)[0].decode("latin-1")
        if self.origin is not None:
            if self.base_path and not path.startswith(self.base_path + "/"):
                path = self.base_path + path
            return self.origin + path
        headers = scope["headers"]
        scheme = str(scope.get("scheme", "http"))
        host = _first(headers, b"host")
        if self.client_address.trusted:  # else no peer is a trusted proxy: nothing to parse
            proto = _first(headers, b"x-forwarded-proto")
            forwarded = _first(headers, b"x-forwarded-host")
            # The peer's address is parsed only when there is something to believe from it.
            if (proto or forwarded) and self.client_address.peer_trusted(scope):
                scheme = proto or scheme
                host = forwarded or host
        if host is None:
            server = scope.get("server") or ("localhost", None)
            host = f"{server[0]}:{server[1]}" if server[1] else str(server[0])
        return f"{scheme.split(',')[0].strip()}://{host.split(',')[0].strip()}{path}"

    def client_certificate(self, scope: Scope) -> bytes | None:
        """The DER client certificate of the request's TLS connection, when known."""
        tls = scope.get("extensions", {}).get("tls") or {}
        chain = tls.get("client_cert_chain") or ()
        if chain:
            return _der(chain[0])
        if self.cert_header is None or not self.client_address.peer_trusted(scope):
            return None
        value = _first(scope["headers"], self.cert_header)
        if not value or len(value) > _MAX_CERT_HEADER:
            return None
        return _der(unquote(value))


def _first(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def _der(pem: str) -> bytes | None:
    try:
        return ssl.PEM_cert_to_DER_cert(pem.strip())
    except ValueError:
        return None
