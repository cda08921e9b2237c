"""``/metrics`` for the whole server when ``serve --workers N`` runs several processes.

A scrape reaches one worker, chosen by the kernel; each worker counts only what it served.
prometheus-client's multiprocess mode cannot help: most of jiraguard's series are read at
scrape time from counters the services keep anyway (:class:`jiraguard.ops.ServicesCollector`),
not kept in prometheus-client's memory-mapped values. So every worker writes what its registry
would answer to a file of its own in a directory the parent made for this run
(:data:`ENV_DIRECTORY`), every :data:`WRITE_INTERVAL` seconds and when it stops, and the
worker that is scraped answers the sum of its own fresh samples and the others' files.

* Counters and histograms are summed, those of workers that have exited included, so a
  total never goes down when a worker is replaced (a reload, a crash).
* Gauges are summed over the workers that are alive (cache entries, pending audit records,
  subscriptions to the change feed).
* ``*_created`` samples take the earliest worker's value.

Another worker's samples are at most :data:`WRITE_INTERVAL` seconds old.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

ENV_DIRECTORY = "JIRAGUARD_SHARED_METRICS_DIR"
"""Set by ``jiraguard serve`` for its workers when it starts more than one."""
WRITE_INTERVAL = 1.0
"""Seconds between two writes of a worker's samples."""
_SUFFIX = ".metrics.json"
_SampleKey = tuple[str, tuple[tuple[str, str], ...]]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's (a reused pid): counts as alive
        return True
    return True


class _Merged(Collector):
    """The families of several workers' snapshots, summed as the module doc says."""

    def __init__(self, snapshots: Iterable[tuple[list[dict[str, Any]], bool]]) -> None:
        self.families: dict[str, tuple[str, str, dict[_SampleKey, float]]] = {}
        for families, alive in snapshots:
            for family in families:
                kind = family["type"]
                if kind == "gauge" and not alive:
                    continue
                _, _, samples = self.families.setdefault(family["name"], (kind, family["help"], {}))
                for name, labels, value in family["samples"]:
                    key = (name, tuple(sorted(labels.items())))
                    if key not in samples:
                        samples[key] = value
                    elif name.endswith("_created"):
                        samples[key] = min(samples[key], value)
                    else:
                        samples[key] += value

    def collect(self) -> Iterable[Metric]:
        for name, (kind, documentation, samples) in self.families.items():
            metric = Metric(name, documentation, kind)
            for (sample, labels), value in samples.items():
                metric.add_sample(sample, dict(labels), value)
            yield metric


class SharedMetrics:
    """One worker's part: writes its samples, answers a scrape for all the workers."""

    def __init__(self, registry: CollectorRegistry, directory: Path, pid: int | None = None):
        self.registry = registry
        self.directory = directory
        self.pid = os.getpid() if pid is None else pid
        self._task: asyncio.Task[None] | None = None

    def _snapshot(self) -> list[dict[str, Any]]:
        return [
            {
                "name": metric.name,
                "type": metric.type,
                "help": metric.documentation,
                "samples": [[s.name, s.labels, s.value] for s in metric.samples],
            }
            for metric in self.registry.collect()
        ]

    def write(self, snapshot: list[dict[str, Any]] | None = None) -> None:
        """Write this worker's samples (atomically: a reader never sees half a file)."""
        path = self.directory / f"{self.pid}{_SUFFIX}"
        scratch = path.with_suffix(".tmp")
        scratch.write_text(json.dumps(self._snapshot() if snapshot is None else snapshot))
        os.replace(scratch, path)

    def render(self) -> bytes:
        """The Prometheus text of every worker: this one's fresh, the others' last written."""
        own = self._snapshot()
        self.write(own)
        snapshots: list[tuple[list[dict[str, Any]], bool]] = [(own, True)]
        for path in sorted(self.directory.glob(f"*{_SUFFIX}")):
            pid = int(path.name.removesuffix(_SUFFIX))
            if pid == self.pid:
                continue
            try:
                snapshots.append((json.loads(path.read_text()), _alive(pid)))
            except (OSError, ValueError):  # being replaced, or gone: its next write counts
                continue
        merged = CollectorRegistry()
        merged.register(_Merged(snapshots))
        return generate_latest(merged)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(WRITE_INTERVAL)
            try:
                self.write()
            except OSError:
                log.warning("could not write this worker's metrics to %s", self.directory)

    def start(self) -> None:
        self.write()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """The last write: what this worker counted stays in the totals after it exits."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:
            self.write()
        except OSError:
            log.warning("could not write this worker's metrics to %s", self.directory)


def shared_metrics_directory(environ: dict[str, str]) -> Path | None:
    """The directory ``serve`` made for its workers' metrics, when it runs several."""
    value = environ.get(ENV_DIRECTORY)
    return Path(value) if value else None
