"""What the fuzz properties share: run sizes, the time bound, hostile text and JSON.

CI runs each property deterministically (``derandomize=True``) with a few hundred examples,
the whole set in well under a minute. ``JIRAGUARD_FUZZ_EXAMPLES=20000`` runs every property
with that many examples and a random seed, for before a release (bench/README.md).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

LONG_RUN = int(os.environ.get("JIRAGUARD_FUZZ_EXAMPLES", "0") or 0)
"""Examples per property in a long run; 0 in CI."""
MAX_SECONDS = 5.0
"""No single input may take longer than this (the issue's bar for a hang)."""

F = TypeVar("F", bound=Callable[..., Any])


def fuzz(ci_examples: int) -> Callable[[F], F]:
    """Hypothesis settings for one property: ``ci_examples`` in CI, LONG_RUN when set."""
    return settings(
        max_examples=LONG_RUN or ci_examples,
        derandomize=not LONG_RUN,
        database=None,
        deadline=None,  # timing is checked by `bounded`, generously (the machine is shared)
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
            HealthCheck.filter_too_much,
        ],
        print_blob=True,
    )


@contextmanager
def bounded(what: object = "") -> Iterator[None]:
    started = time.perf_counter()
    yield
    elapsed = time.perf_counter() - started
    assert elapsed < MAX_SECONDS, f"{elapsed:.1f} s for {what!r:.200}"


async def checked_request(
    client: httpx.AsyncClient, method: str, path: str, **kw: Any
) -> httpx.Response:
    """One request that must be answered below 500 and within :data:`MAX_SECONDS`."""
    with bounded((method, path[:200])):
        response = await client.request(method, path, **kw)
    assert response.status_code < 500, (method, path[:200], response.text[:500])
    return response


_K = TypeVar("_K")
_V = TypeVar("_V")


class PerTest(Generic[_K, _V]):
    """What ``build(key)`` makes, once per test (``key``: its harness factory) and reused by
    every example: an app per example would cost most of the run."""

    def __init__(self, build: Callable[[_K], Awaitable[_V]]) -> None:
        self.build = build
        self.kept: list[tuple[_K, _V]] = []

    async def __call__(self, key: _K) -> _V:
        if not self.kept or self.kept[0][0] is not key:
            self.kept[:] = [(key, await self.build(key))]
        return self.kept[0][1]


# Characters that break things: NUL, lone surrogates, JSON and JQL syntax, non-ASCII digits.
SPECIAL = "\x00\ud800\udfff\ufffd\"\\'[]{}(),:;=!~<>-+*/.%&|#²٣\u07c0 \t\r\n"
HOSTILE_CHAR = st.one_of(
    st.characters(),
    st.characters(categories=["Cs"]),  # lone surrogates
    st.sampled_from(SPECIAL),
)
HOSTILE_TEXT = st.text(HOSTILE_CHAR, max_size=40)
HUGE_DIGITS = st.one_of(
    st.integers(min_value=0, max_value=10**40).map(str),
    st.integers(min_value=15, max_value=6000).map(lambda n: "9" * n),
    st.just("0" * 5000 + "1"),
)
NUMBERISH = st.one_of(
    HUGE_DIGITS,
    HUGE_DIGITS.map(lambda d: "-" + d),
    st.text("0123456789²³¹٣\u07c0+-. e", min_size=1, max_size=12),
    st.sampled_from(["", " ", "1e5", "0x10", "NaN", "Infinity", "-0", "+1", " 7 "]),
)

JSON_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**50), max_value=10**50),
    st.floats(allow_nan=False, allow_infinity=False),
    HOSTILE_TEXT,
    NUMBERISH,
)
JSON_VALUE = st.recursive(
    JSON_SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(HOSTILE_TEXT, inner, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def deep(draw: st.DrawFn) -> bytes:
    """Hundreds to thousands of ``[`` / ``{"a":`` levels, closed or not."""
    opener = draw(st.sampled_from([b"[", b'{"a":', b"[{", b'{"":[']))
    levels = draw(st.integers(min_value=30, max_value=5000))
    closer = {b"[": b"]", b'{"a":': b"}", b"[{": b"}]", b'{"":[': b"]}"}[opener]
    body = opener * levels + b"1" + closer * draw(st.sampled_from([0, levels]))
    return body


@st.composite
def json_bytes(draw: st.DrawFn) -> bytes:
    """A JSON text (bytes) a hostile client may send: valid, deep, huge or broken."""
    kind = draw(st.sampled_from(["value", "object", "deep", "huge", "raw", "mutated"]))
    if kind == "deep":
        return draw(deep())
    if kind == "huge":
        return b'{"n": ' + draw(HUGE_DIGITS).encode() + b"}"
    if kind == "raw":
        return draw(st.binary(max_size=200))
    value: Any = draw(JSON_VALUE)
    if kind == "object":
        value = {"fields": value, "name": draw(HOSTILE_TEXT), "body": draw(JSON_VALUE)}
    text = json.dumps(value, ensure_ascii=draw(st.booleans()))
    raw = text.encode("utf-8", "surrogatepass")
    if kind == "mutated":
        raw = draw(mutated(raw))
    return raw


INSERTS = [b"[", b"{", b"}", b"]", b'"', b"\\u", b"\\ud800", b"\x00", b"9" * 50, b"\xff"]


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` with a few bytes deleted, replaced, inserted or repeated."""
    out = bytearray(data)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(out)))
        op = draw(st.sampled_from(["delete", "insert", "repeat", "flip"]))
        if op == "delete" and out:
            del out[at : at + draw(st.integers(min_value=1, max_value=8))]
        elif op == "insert":
            out[at:at] = draw(st.sampled_from(INSERTS))
        elif op == "repeat" and out:
            chunk = bytes(out[at : at + 4])
            out[at:at] = chunk * draw(st.integers(min_value=1, max_value=300))
        elif op == "flip" and out:
            out[min(at, len(out) - 1)] ^= draw(st.integers(min_value=1, max_value=255))
    return bytes(out)


@st.composite
def mutated_text(draw: st.DrawFn, text: str) -> str:
    """``text`` with a few characters deleted, inserted or repeated."""
    out = list(text)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        at = draw(st.integers(min_value=0, max_value=len(out)))
        op = draw(st.sampled_from(["delete", "insert", "repeat"]))
        if op == "delete" and out:
            del out[at : at + draw(st.integers(min_value=1, max_value=6))]
        elif op == "insert":
            out[at:at] = list(draw(st.text(HOSTILE_CHAR, min_size=1, max_size=4)))
        elif op == "repeat" and out:
            out[at:at] = out[at : at + 3] * draw(st.integers(min_value=1, max_value=200))
    return "".join(out)


class SharedApp:
    """One app per test, made by ``build`` for the test's harness on first use and reused by
    every example (a fresh app per example would cost most of the run)."""

    def __init__(self, build: Callable[[Any], Awaitable[tuple[Any, dict[str, str]]]]) -> None:
        self.build = build
        self.kept: tuple[Any, tuple[Any, dict[str, str]]] | None = None

    async def __call__(self, harness: Any) -> tuple[Any, dict[str, str]]:
        if self.kept is None or self.kept[0] is not harness:
            self.kept = (harness, await self.build(harness))
        return self.kept[1]


async def answered(client: Any, method: str, path: str, **kw: Any) -> Any:
    """``client``'s answer to one request, in time and without a 5xx."""
    with bounded((method, path[:200])):
        response = await client.request(method, path, **kw)
    assert response.status_code < 500, (method, path[:200], response.text[:500])
    return response
