"""The HTTP metrics' own counting is exposed exactly as prometheus-client's counter and
histogram would expose the same observations."""

from __future__ import annotations

import re
from typing import cast

from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.registry import Collector

from jiraguard.observe import HTTPMetrics
from jiraguard.telemetry import _FAST, Telemetry

_observation = st.tuples(
    st.sampled_from(["GET", "POST", "BREW"]),
    st.sampled_from(["/rest/api/2/myself", "/rest/api/2/issue/{issue}", "<unmatched>"]),
    st.sampled_from([200, 401, 404, 500]),
    st.one_of(
        st.floats(min_value=0, max_value=30, allow_nan=False),
        st.sampled_from(Histogram.DEFAULT_BUCKETS[:-1]),  # exactly on a bound: that bucket
    ),
)


def _without_created(text: bytes) -> str:
    return "\n".join(
        line for line in text.decode().splitlines() if not re.match(r"^\w+_created\{", line)
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(_observation, max_size=40))
def test_exposition_is_prometheus_clients(observations: list[tuple[str, str, int, float]]) -> None:
    ours_registry, theirs_registry = CollectorRegistry(), CollectorRegistry()
    ours = HTTPMetrics(ours_registry)
    requests = Counter(
        "jiraguard_http_requests",
        "HTTP requests by route template and status",
        ["method", "route", "status"],
        registry=theirs_registry,
    )
    latency = Histogram(
        "jiraguard_http_request_duration_seconds",
        "Time to the end of the response, by route template",
        ["route"],
        registry=theirs_registry,
    )
    for method, route, status, seconds in observations:
        ours.observe(method, route, status, seconds)
        shown = method if method != "BREW" else "OTHER"
        requests.labels(shown, route, str(status)).inc()
        latency.labels(route).observe(seconds)
    mine, theirs = generate_latest(ours_registry), generate_latest(theirs_registry)
    assert sorted(_without_created(mine).splitlines()) == sorted(
        _without_created(theirs).splitlines()
    )
    # Each series has its creation time, as prometheus-client's do.
    assert mine.count(b"_created{") == theirs.count(b"_created{")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["2xx", "4xx", "5xx", "error"]),
            st.one_of(
                st.floats(min_value=0, max_value=30, allow_nan=False),
                st.sampled_from(_FAST),  # exactly on a bound: that bucket
            ),
        ),
        max_size=40,
    )
)
def test_upstream_latency_is_prometheus_clients(observations: list[tuple[str, float]]) -> None:
    """The gateway's upstream histogram (counted without locks) against prometheus-client's
    own, on the same observations."""
    ours = Telemetry().upstream
    registry = CollectorRegistry()
    theirs = Histogram(
        "jiraguard_upstream_response_seconds",
        "Gateway mode: time to the upstream Jira's response headers, by status class",
        ["status"],
        buckets=_FAST,
        registry=registry,
    )
    for status, seconds in observations:
        ours.observe((status,), seconds)
        theirs.labels(status).observe(seconds)
    mine_registry = CollectorRegistry()
    mine_registry.register(cast(Collector, ours))
    mine, found = generate_latest(mine_registry), generate_latest(registry)
    assert sorted(_without_created(mine).splitlines()) == sorted(
        _without_created(found).splitlines()
    )
    assert mine.count(b"_created{") == found.count(b"_created{")
