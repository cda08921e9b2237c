"""HTTPS with client certificates: what ``jiraguard serve`` runs when ``server.tls_cert`` is set.

uvicorn terminates TLS but does not hand the application the connection's client certificate.
:class:`ClientCertificateProtocol` (jiraguard's HTTP protocol, one per connection) reads it
once the handshake is done and puts it in every request's scope as the ASGI TLS extension
says (``scope["extensions"]["tls"]["client_cert_chain"]``, PEM), where certificate-bound
tokens (RFC 8705, :mod:`jiraguard.auth.sender`) are checked against it.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from jiraguard.http_protocol import CoalescingProtocol
from jiraguard.settings import ServerSettings


def uvicorn_tls_options(server: ServerSettings) -> dict[str, Any]:
    """The ``uvicorn.run`` keyword arguments for ``server``'s TLS settings (none for HTTP)."""
    if server.tls_cert is None:
        return {}
    options: dict[str, Any] = {
        "ssl_certfile": str(server.tls_cert),
        "ssl_keyfile": str(server.tls_key) if server.tls_key is not None else None,
    }
    if server.tls_client_ca is not None:
        required = server.tls_client_auth == "required"
        options.update(
            ssl_ca_certs=str(server.tls_client_ca),
            ssl_cert_reqs=ssl.CERT_REQUIRED if required else ssl.CERT_OPTIONAL,
            http=ClientCertificateProtocol,
        )
    return options


def with_client_certificate(app: ASGIApp, pem: str) -> ASGIApp:
    """``app`` seeing ``pem`` as the client certificate of every request of one connection."""

    async def tls_app(scope: Scope, receive: Receive, send: Send) -> None:
        extensions = dict(scope.get("extensions") or {})
        extensions["tls"] = {**extensions.get("tls", {}), "client_cert_chain": [pem]}
        await app({**scope, "extensions": extensions}, receive, send)

    return tls_app


class ClientCertificateProtocol(CoalescingProtocol):
    """jiraguard's HTTP/1.1 protocol, with the connection's client certificate in the scope."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der:  # verified against tls_client_ca by the handshake (CERT_OPTIONAL/REQUIRED)
            self.app = with_client_certificate(self.app, ssl.DER_cert_to_PEM_cert(der))
