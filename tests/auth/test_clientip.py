"""The client address behind trusted proxies: the same verdicts with the per-address memory."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network

from hypothesis import given
from hypothesis import strategies as st

from jiraguard.auth.clientip import ClientAddress

NETWORKS = [IPv4Network("10.0.0.0/30"), IPv4Network("192.0.2.128/25")]

addresses = st.builds(IPv4Address, st.integers(min_value=0, max_value=2**32 - 1)) | st.sampled_from(
    [IPv4Address("10.0.0.1"), IPv4Address("192.0.2.200"), IPv4Address("10.0.0.9")]
)


def _reference(peer: IPv4Address, hops: list[IPv4Address], trusted: list[IPv4Network]) -> str:
    """The rule without any memory: right-most address that is not a trusted proxy."""
    if not any(peer in n for n in trusted):
        return str(peer)
    address = peer
    for hop in reversed(hops):
        if not any(hop in n for n in trusted):
            return str(hop)
        address = hop
    return str(address)


@given(st.lists(st.tuples(addresses, st.lists(addresses, max_size=4)), min_size=1, max_size=40))
def test_the_verdicts_are_those_of_the_rule(
    requests: list[tuple[IPv4Address, list[IPv4Address]]],
) -> None:
    resolver = ClientAddress(NETWORKS)
    for peer, hops in requests * 2:  # the second time from memory
        scope = {
            "client": (str(peer), 1234),
            "headers": [(b"x-forwarded-for", ", ".join(map(str, hops)).encode())] if hops else [],
        }
        assert resolver.of(scope) == _reference(peer, hops, NETWORKS)
        assert resolver.peer_trusted(scope) == any(peer in n for n in NETWORKS)


def test_a_flood_of_addresses_is_not_kept_for_ever() -> None:
    resolver = ClientAddress(NETWORKS)
    for n in range(10_000):
        resolver.of({"client": (str(IPv4Address(0x0B000000 + n)), 1), "headers": []})
        resolver.peer_trusted({"client": (str(IPv4Address(0x0B000000 + n)), 1), "headers": []})
    assert len(resolver._verdicts) <= 4096
    assert len(resolver._peers) <= 4096
