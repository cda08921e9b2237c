"""Latency histograms and error counters for what happens off the hot path.

Token checks (cache misses), provider requests and upstream responses are timed here; the
request path's cache hits are not touched. The metrics live in no registry of their own: the
app's ``/metrics`` collector (:mod:`jiraguard.ops`) reads them at scrape time, so the many apps
a test run builds never collide in prometheus-client's global registry.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
from prometheus_client import Counter, Histogram
from prometheus_client.core import Metric

from jiraguard.auth.outages import OutageWarnings
from jiraguard.loop_histogram import LoopHistogram

_STARTED = "jiraguard.started"
_FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Telemetry:
    def __init__(self) -> None:
        self.validation = LoopHistogram(
            "jiraguard_token_validation_seconds",
            "Token checks by a provider validator (cache misses), by method and outcome",
            ["method", "outcome"],
            _FAST,
        )
        """Every token check, a flood of forged tokens' too: counted without
        prometheus-client's locks."""
        self.provider_errors = Counter(
            "jiraguard_provider_errors",
            "Token checks that could not reach a provider or got an unusable answer",
            ["provider"],
            registry=None,
        )
        self.provider_requests = Histogram(
            "jiraguard_provider_request_seconds",
            "HTTP requests to identity providers (discovery, JWKS, introspection, userinfo)",
            ["host", "status"],
            buckets=_FAST,
            registry=None,
        )
        self.last_check: dict[str, tuple[str, float]] = {}
        """Per provider name: the outcome of its last token check and when (Unix time)."""
        self.outages = OutageWarnings()
        """Warnings about providers that could not be asked, one per provider per interval."""
        self.upstream = LoopHistogram(
            "jiraguard_upstream_response_seconds",
            "Gateway mode: time to the upstream Jira's response headers, by status class",
            ["status"],
            _FAST,
        )
        """Every forwarded request: counted without prometheus-client's locks."""

    def collect(self) -> Iterator[Metric]:
        for metric in (
            self.validation,
            self.provider_errors,
            self.provider_requests,
            self.upstream,
        ):
            yield from metric.collect()

    def watch(self, client: httpx.AsyncClient) -> None:
        """Time every request ``client`` sends (a client of the providers')."""
        client.event_hooks["request"].append(self._sent)
        client.event_hooks["response"].append(self._answered)

    async def _sent(self, request: httpx.Request) -> None:
        request.extensions[_STARTED] = time.perf_counter()

    async def _answered(self, response: httpx.Response) -> None:
        started = response.request.extensions.get(_STARTED)
        if started is not None:
            self.provider_requests.labels(
                response.request.url.host, f"{response.status_code // 100}xx"
            ).observe(time.perf_counter() - started)


class ProviderCalls:
    """Counts requests sent to providers, through an httpx event hook on their clients."""

    def __init__(self) -> None:
        self.count = 0

    def watch(self, client: httpx.AsyncClient) -> None:
        """Count what ``client`` sends."""
        client.event_hooks["request"].append(self._sent)

    async def _sent(self, request: httpx.Request) -> None:
        self.count += 1
