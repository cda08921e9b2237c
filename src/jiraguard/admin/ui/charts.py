"""The status page's charts, drawn on the server as SVG: no script, no build step.

Each chart is geometry in a 600 x 160 box that the stylesheet stretches to the page's width;
every label (legend, axis, figures) is HTML beside it, so it stays readable on a phone. The
numbers come from the audit log (decisions, every process) and from this process's samples
(:mod:`jiraguard.sampling`); nothing here is made up or smoothed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise

from jiraguard.sampling import Sample
from jiraguard.store.audit import MinuteCount

WIDTH = 600.0
HEIGHT = 160.0
MINUTES = 60
REASONS_SHOWN = 5
"""Refusal reasons with a colour of their own; the rest are one "other" series."""
_CLIP = 90

STATUS_WORDS = {
    400: "malformed request",
    401: "not authenticated",
    403: "forbidden",
    429: "rate-limited",
    503: "provider unavailable",
}


def plural(count: float, one: str, many: str | None = None) -> str:
    """``1 request``, ``1,204 requests``."""
    number = round(count)
    return f"{number:,} {one if number == 1 else (many or one + 's')}"


def outcome_words(allowed: bool, status: int) -> str:
    """A decision in words: ``accepted``, ``refused: not authenticated (401)``."""
    if allowed:
        return "accepted"
    return f"refused: {STATUS_WORDS.get(status, 'refused')} ({status})"


def _clip(text: str) -> str:
    return text if len(text) <= _CLIP else text[: _CLIP - 1] + "…"


@dataclass
class Series:
    """One coloured series of a chart and its legend entry."""

    css: str
    label: str
    total: float = 0.0


@dataclass
class Bar:
    x: float
    y: float
    height: float
    css: str
    title: str


@dataclass
class DecisionsChart:
    """Stacked bars, one per minute of the last hour: accepted, then refusals by reason."""

    series: list[Series]
    bars: list[Bar]
    peak: int
    """The busiest minute's requests (the chart's top)."""
    rows: list[tuple[str, list[tuple[str, int]]]]
    """The minutes with decisions, for the table under the chart: (time, [(label, count)])."""
    bar_width: float = WIDTH / MINUTES

    @property
    def total(self) -> float:
        return sum(s.total for s in self.series)


def _minute_label(minute: int) -> str:
    return datetime.fromtimestamp(minute * 60, UTC).strftime("%H:%M UTC")


def decisions_chart(counts: Iterable[MinuteCount], now: float) -> DecisionsChart:
    """The last :data:`MINUTES` whole minutes up to ``now`` from the audit log's counts."""
    last = int(now // 60)
    first = last - MINUTES + 1
    kept = [c for c in counts if first <= c.minute <= last]
    by_reason: dict[tuple[int, str], int] = {}
    for c in kept:
        if not c.allowed:
            by_reason[(c.status, c.reason)] = by_reason.get((c.status, c.reason), 0) + c.count
    top = sorted(by_reason, key=lambda k: (-by_reason[k], k))[:REASONS_SHOWN]
    accepted = Series("s-accepted", "accepted")
    series = [accepted]
    keyed: dict[tuple[int, str], Series] = {}
    for index, (status, reason) in enumerate(top):
        keyed[(status, reason)] = Series(
            f"s-refused{index}", f"{outcome_words(False, status)} — {_clip(reason)}"
        )
        series.append(keyed[(status, reason)])
    other = Series("s-other", "refused for another reason")
    per_minute: dict[int, dict[str, int]] = {}
    for c in kept:
        target = accepted if c.allowed else keyed.get((c.status, c.reason), other)
        target.total += c.count
        cell = per_minute.setdefault(c.minute, {})
        cell[target.css] = cell.get(target.css, 0) + c.count
    if other.total:
        series.append(other)
    peak = max((sum(cell.values()) for cell in per_minute.values()), default=0)
    bars: list[Bar] = []
    rows: list[tuple[str, list[tuple[str, int]]]] = []
    width = WIDTH / MINUTES
    for minute in range(first, last + 1):
        if not per_minute.get(minute):
            continue
        cell = per_minute[minute]
        when = _minute_label(minute)
        parts = [(s.label, cell[s.css]) for s in series if cell.get(s.css)]
        rows.append((when, parts))
        bottom = HEIGHT
        for s in series:
            count = cell.get(s.css, 0)
            if not count:
                continue
            height = HEIGHT * count / peak
            bottom -= height
            title = f"{when}: {plural(count, 'request')} {s.label}"
            bars.append(Bar((minute - first) * width, bottom, height, s.css, title))
    return DecisionsChart(series, [s for s in bars if s.height > 0], peak, rows)


@dataclass
class Line:
    css: str
    label: str
    segments: list[str] = field(default_factory=list)
    """SVG ``points`` of each unbroken run (no data between runs: a gap, not a zero)."""
    summary: str = ""


@dataclass
class LineChart:
    lines: list[Line]
    top: float
    """The value at the chart's top."""
    unit: str


def _points(
    values: Sequence[tuple[float, float | None]], start: float, end: float, top: float
) -> list[str]:
    runs: list[list[str]] = [[]]
    span = max(end - start, 1.0)
    for at, value in values:
        if value is None:
            if runs[-1]:
                runs.append([])
            continue
        x = WIDTH * (at - start) / span
        y = HEIGHT - HEIGHT * min(value, top) / top if top else HEIGHT
        runs[-1].append(f"{x:.1f},{y:.1f}")
    # A single point is drawn as a tiny segment so that it shows.
    out = []
    for run in runs:
        if len(run) == 1:
            left, top_y = run[0].split(",")
            run = [f"{max(float(left) - 2, 0):.1f},{top_y}", run[0]]
        if run:
            out.append(" ".join(run))
    return out


def cache_chart(samples: Sequence[Sample], start: float, end: float) -> tuple[LineChart, str]:
    """The share of principal lookups answered from the cache, per sampling interval."""
    values: list[tuple[float, float | None]] = []
    hits = lookups = 0
    for before, after in pairwise(samples):
        asked = after.cache_lookups - before.cache_lookups
        found = after.cache_hits - before.cache_hits
        if asked < 0:  # counters restarted (never in one process; be safe)
            continue
        hits += found
        lookups += asked
        values.append((after.at, 100.0 * found / asked if asked else None))
    line = Line("line0", "answered from the cache", _points(values, start, end, 100.0))
    if lookups:
        summary = (
            f"{100 * hits / lookups:.0f} % of {plural(lookups, 'lookup')} were answered "
            "from the cache"
        )
    else:
        summary = "no token was looked up in the cache"
    line.summary = summary
    return LineChart([line], 100.0, "%"), summary


@dataclass
class HostFigures:
    host: str
    providers: str
    requests: float
    mean_ms: float | None
    failed: float
    """Answers with a 5xx status."""


def provider_chart(
    samples: Sequence[Sample], start: float, end: float, names: dict[str, list[str]]
) -> tuple[LineChart, list[HostFigures]]:
    """Mean latency of the requests to each provider host, per sampling interval."""
    hosts = sorted({h for s in samples for h in s.hosts})
    per_host: dict[str, list[tuple[float, float | None]]] = {h: [] for h in hosts}
    figures: list[HostFigures] = []
    for host in hosts:
        count = seconds = failed = 0.0
        for before, after in pairwise(samples):
            a, b = before.hosts.get(host), after.hosts.get(host)
            if b is None:
                continue
            n = b.count - (a.count if a else 0.0)
            t = b.seconds - (a.seconds if a else 0.0)
            count, seconds = count + n, seconds + t
            failed += b.failed - (a.failed if a else 0.0)
            per_host[host].append((after.at, 1000 * t / n if n > 0 else None))
        mean = 1000 * seconds / count if count else None
        figures.append(HostFigures(host, ", ".join(names.get(host, [])), count, mean, failed))
    peak = max((v for vs in per_host.values() for _, v in vs if v is not None), default=0.0)
    top = _round_up(peak)
    lines = []
    for index, host in enumerate(hosts):
        lines.append(Line(f"line{index % 4}", host, _points(per_host[host], start, end, top)))
    return LineChart(lines, top, "ms"), figures


def provider_errors(samples: Sequence[Sample]) -> dict[str, int]:
    """Per provider name: checks that could not reach it, from the first sample to the last."""
    if len(samples) < 2:
        return {}
    first, last = samples[0], samples[-1]
    out = {}
    for name, value in last.errors.items():
        grown = int(value - first.errors.get(name, 0.0))
        if grown > 0:
            out[name] = grown
    return out


def _round_up(value: float) -> float:
    """A round top for a chart: 1, 2, 5, 10, 20, 50, ..."""
    if value <= 0:
        return 1.0
    step = 1.0
    while True:
        for factor in (1, 2, 5):
            if value <= step * factor:
                return step * factor
        step *= 10
