"""The client's address: the socket peer, or ``X-Forwarded-For`` behind a trusted proxy.

``X-Forwarded-For`` is believed only when the immediate peer is a configured trusted proxy.
The client is then the right-most address in the header that is not itself a trusted proxy
(every proxy appends the address it saw; anything left of a trusted hop may be forged).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address
from operator import itemgetter

from starlette.types import Scope

from jiraguard.settings import Network

Address = IPv4Address | IPv6Address


@functools.lru_cache(maxsize=4096)
def _parse(value: str) -> Address | None:
    """The address ``value`` names (None if none). Kept for the last few thousand values:
    the same peers come back on every request, and parsing one costs more than the rest of
    the address's resolution."""
    try:
        return ip_address(value.strip())
    except ValueError:
        return None


_VERDICTS_KEPT = 4096
_FORWARDED_FOR = b"x-forwarded-for"
_name = itemgetter(0)


class ClientAddress:
    """Resolves a request's client address according to the trusted proxies."""

    def __init__(self, trusted_proxies: Sequence[Network]) -> None:
        self.trusted = tuple(trusted_proxies)
        self._verdicts: dict[Address, bool] = {}
        """Addresses already judged (a network test is slow Python): the proxies themselves
        come back on every request."""
        self._peers: dict[str, bool] = {}
        """Peer hosts as the server gives them, already judged: trusted proxies or not (no
        parse, no address hashed in Python, for the peer every request comes from)."""

    def _is_trusted(self, address: Address) -> bool:
        verdict = self._verdicts.get(address)
        if verdict is None:
            verdict = any(address in network for network in self.trusted)
            if len(self._verdicts) >= _VERDICTS_KEPT:
                self._verdicts.clear()  # a flood of distinct addresses: start again
            self._verdicts[address] = verdict
        return verdict

    def _is_trusted_peer(self, host: str) -> bool:
        verdict = self._peers.get(host)
        if verdict is None:
            address = _parse(host)
            verdict = address is not None and self._is_trusted(address)
            if len(self._peers) >= _VERDICTS_KEPT:
                self._peers.clear()
            self._peers[host] = verdict
        return verdict

    def peer_trusted(self, scope: Scope) -> bool:
        """Whether the socket peer is one of the trusted proxies (whose ``X-Forwarded-*``
        headers may then be believed)."""
        peer = scope.get("client")
        if not peer or not self.trusted:
            return False
        return self._is_trusted_peer(peer[0])

    def of(self, scope: Scope) -> str | None:
        peer = scope.get("client")
        if not peer:
            return None
        if not self.trusted:
            host: str = peer[0]  # ASGI: the client is (host, port), the host a str
            return host
        if not self._is_trusted_peer(peer[0]):
            return str(peer[0])
        headers = scope["headers"]
        if _FORWARDED_FOR not in map(_name, headers):  # the trusted proxy speaks for itself
            return str(peer[0])
        hops = [value.decode("latin-1") for name, value in headers if name == _FORWARDED_FOR]
        address = _parse(peer[0])
        for hop in reversed(",".join(hops).split(",")):
            parsed = _parse(hop)
            if parsed is None:
                break  # a garbled hop: trust nothing further left
            if not self._is_trusted(parsed):
                return str(parsed)
            address = parsed
        return str(address)
