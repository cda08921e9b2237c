"""Servers loaded at the same moment: what each request costs, when throughput is too noisy.

On these shared machines a server's throughput drifts by a fifth or more from one run to the
next, so the ratio of two runs made one after the other carries that drift. Two servers of
the same stack (jiraguard with a feature on and off, protected and open) can instead be
loaded at once, pinned to the same core, each by a wrk of its own: whatever slows the machine
in those seconds slows both, and each server's CPU time per request (utime + stime of its
process tree from ``/proc``, over the requests its wrk counted) is still its own. Their
ratio, cheaper ÷ dearer, reads like a throughput ratio (1.0: the same cost; 0.9: the dearer
one costs a ninth more) and is what the targets of ``bench.auth`` and ``bench.peer`` compare
with, where those benchmarks' own throughput runs are too noisy to decide.

Both servers get about half the core, so a request costs a little more than when a server has
it alone (fewer requests arrive per turn of its event loop); that holds for both alike.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Load:
    """One server and the request its wrk repeats."""

    name: str
    pid: int
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process, its live descendants, and the children
    they have reaped (``/proc/PID/stat``: utime stime cutime cstime)."""
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        stats[int(entry.name)] = fields
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, p in parents.items() if p == parent and child not in tree]
        tree.update(children)
        frontier.extend(children)
    ticks = sum(int(stats[p][i]) for p in tree if p in stats for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


def _answered(name: str, output: str) -> int:
    """The requests one wrk run counted, each answered 2xx (else RuntimeError)."""
    total = re.search(r"(\d+) requests in", output)
    if total is None or "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"{name}: wrk saw errors:\n{output}")
    return int(total.group(1))


def at_once(
    loads: Sequence[Load], duration: int, connections: int, wrk_core: int
) -> dict[str, float]:
    """CPU µs per request of each load's server, all of them loaded at the same time (each
    wrk pinned to ``wrk_core``; the servers where they were started)."""
    before = {load.name: tree_cpu_seconds(load.pid) for load in loads}
    runs = []
    for load in loads:
        command = [
            "taskset",
            "-c",
            str(wrk_core),
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
        ]
        for name, value in load.headers.items():
            command += ["-H", f"{name}: {value}"]
        runs.append(subprocess.Popen([*command, load.url], stdout=subprocess.PIPE, text=True))
    outputs = [run.communicate()[0] for run in runs]
    used = {load.name: tree_cpu_seconds(load.pid) - before[load.name] for load in loads}
    return {
        load.name: used[load.name] / _answered(load.name, output) * 1e6
        for load, output in zip(loads, outputs, strict=True)
    }


def paired(
    cheaper: Load, dearer: Load, duration: int, connections: int, wrk_core: int, rounds: int
) -> dict[str, list[float]]:
    """``rounds`` runs of :func:`at_once` on the two (who is started first alternates):
    each one's CPU µs per request, and ``ratio`` (cheaper ÷ dearer, per round)."""
    found: dict[str, list[float]] = {cheaper.name: [], dearer.name: [], "ratio": []}
    for round_ in range(rounds):
        pair = [cheaper, dearer] if round_ % 2 == 0 else [dearer, cheaper]
        cost = at_once(pair, duration, connections, wrk_core)
        found[cheaper.name].append(cost[cheaper.name])
        found[dearer.name].append(cost[dearer.name])
        found["ratio"].append(cost[cheaper.name] / cost[dearer.name])
    return found
