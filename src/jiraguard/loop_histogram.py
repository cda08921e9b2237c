"""A latency histogram counted in plain numbers, for updates on the request path.

prometheus-client's histogram takes a lock for the sum and another for the bucket on every
observation, which on the request path costs more than the counting itself. Every update
here happens on the event loop's one thread, so the counts are plain numbers, turned into a
metric family when scraped, exposed exactly as prometheus-client's own histogram would
expose the same observations (``tests/ops/test_http_metrics.py``).
"""

from __future__ import annotations

import bisect
import itertools
import math
import time
from collections.abc import Iterator, Sequence

from prometheus_client.core import HistogramMetricFamily, Metric


class LoopHistogram:
    """One labelled histogram; :meth:`observe` from the event loop's thread only."""

    def __init__(
        self, name: str, documentation: str, labels: Sequence[str], buckets: Sequence[float]
    ) -> None:
        self.name = name
        self.documentation = documentation
        self.labels = list(labels)
        bounds = [float(bound) for bound in buckets]
        self.bounds = tuple(bounds if bounds[-1] == math.inf else [*bounds, math.inf])
        self._le = tuple("+Inf" if bound == math.inf else repr(bound) for bound in self.bounds)
        self._series: dict[tuple[str, ...], tuple[list[float], list[int]]] = {}
        """Label values → ([sum, created], the count of each bucket, not cumulated)."""

    def observe(self, values: tuple[str, ...], seconds: float) -> None:
        series = self._series.get(values)
        if series is None:
            series = self._series[values] = ([0.0, time.time()], [0] * len(self.bounds))
        series[0][0] += seconds
        series[1][bisect.bisect_left(self.bounds, seconds)] += 1  # the first bound >= it

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labels)
        for values, ((total, created), counts) in list(self._series.items()):
            cumulated = itertools.accumulate(counts)
            family.add_metric(list(values), list(zip(self._le, cumulated, strict=True)), total)
            family.add_sample(
                self.name + "_created", dict(zip(self.labels, values, strict=True)), created
            )
        yield family
