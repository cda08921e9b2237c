"""Soak: one server at 80 % of its peak throughput for a long time, no errors, no growth.

    .venv/bin/python -m bench.soak [--minutes 30] [--load 0.8]

1. Peak: ``GET /rest/api/2/issue/{key}`` with a cached JWT, wrk with 32 connections for
   10 s, on a ``jiraguard serve`` process (SQLite, the test OpenID provider).
2. Soak: wrk holds ``--load`` x peak by pausing each connection between requests (a wrk
   ``delay()`` script, calibrated over two 10 s runs) for ``--minutes``, while the server's
   resident memory is sampled every 10 s.
3. Report: the rate held, errors (non-2xx responses and socket errors: target 0), and the
   RSS drift from the end of the first minute (after warm-up) to the end (target < 5 %).

Needs Node.js (for the test OpenID provider) and wrk (``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.auth import _pinned, _server
from bench.directory import add_user
from tests.support.idp import RESOURCE, TestProvider, free_port
from tests.support.processes import write_config

CONNECTIONS = 32
_DELAY_SCRIPT = (
    'local pause = tonumber(os.getenv("SOAK_DELAY_MS"))\nfunction delay() return pause end\n'
)


def _run_wrk(
    url: str, token: str, seconds: int, delay_ms: float | None, script: Path
) -> dict[str, Any]:
    command = [*_pinned(0), "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s"]
    if delay_ms is not None:
        command += ["-s", str(script)]
    command += ["-H", f"Authorization: Bearer {token}", url]
    environ = {"SOAK_DELAY_MS": f"{delay_ms or 0:.3f}", "PATH": "/usr/bin:/bin"}
    output = subprocess.run(command, capture_output=True, text=True, check=True, env=environ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if rps is None or total is None:
        raise RuntimeError(output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "rps": float(rps.group(1)),
        "requests": int(total.group(1)),
        "errors": (int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(int(g) for g in socket.groups()) if socket else 0),
    }


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS missing")


def soak(minutes: float, load: float) -> dict[str, Any]:
    # The token must outlive the soak: an expired one turns every request into a 401.
    lifetime = int(minutes * 60) + 600
    with (
        tempfile.TemporaryDirectory() as tmp,
        TestProvider(workdir=Path(tmp), access_token_ttl=lifetime) as idp,
    ):
        workdir = Path(tmp)
        config = write_config(
            workdir / "soak.toml",
            {
                "storage": {"url": f"sqlite:///{workdir / 'soak.db'}"},
                "providers": [
                    {"name": "corp", "method": "jwt", "issuer": idp.issuer, "audience": [RESOURCE]}
                ],
            },
        )
        add_user(config, "alice", admin=True)
        port = free_port()
        server = _server(config, port, {})
        try:
            base = f"http://127.0.0.1:{port}/rest/api/2"
            token = idp.jwt_token("alice")
            auth = {"Authorization": f"Bearer {token}"}
            assert (
                httpx.post(
                    f"{base}/project",
                    json={"key": "SOAK", "name": "Soak", "lead": "alice"},
                    headers=auth,
                ).status_code
                == 201
            )
            issue = httpx.post(
                f"{base}/issue",
                json={
                    "fields": {
                        "project": {"key": "SOAK"},
                        "issuetype": {"name": "Task"},
                        "summary": "soak",
                    }
                },
                headers=auth,
            )
            assert issue.status_code == 201, issue.text
            url = f"{base}/issue/{issue.json()['key']}"
            script = workdir / "delay.lua"
            script.write_text(_DELAY_SCRIPT)
            _run_wrk(url, token, 3, None, script)  # warm-up
            peak = _run_wrk(url, token, 10, None, script)["rps"]
            target = load * peak
            # Each connection waits delay + latency per request: rate = connections / that.
            delay_ms = max(0.0, CONNECTIONS / target * 1000 - CONNECTIONS / peak * 1000)
            for _ in range(2):
                rate = _run_wrk(url, token, 10, delay_ms, script)["rps"]
                latency_ms = CONNECTIONS / rate * 1000 - delay_ms  # what each request took
                delay_ms = max(0.0, CONNECTIONS / target * 1000 - latency_ms)
            samples: list[tuple[float, float]] = []
            done = threading.Event()

            def sample() -> None:
                start = time.monotonic()
                while not done.wait(10):
                    samples.append((time.monotonic() - start, _rss_mb(server.pid)))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            result = _run_wrk(url, token, int(minutes * 60), delay_ms, script)
            done.set()
            sampler.join()
        finally:
            server.terminate()
            server.wait(10)
    warm = next((rss for at, rss in samples if at >= 60), samples[0][1] if samples else 0.0)
    end = samples[-1][1] if samples else 0.0
    return {
        "minutes": minutes,
        "peak_rps": round(peak, 1),
        "held_rps": round(result["rps"], 1),
        "held_over_peak": round(result["rps"] / peak, 3),
        "requests": result["requests"],
        "errors": result["errors"],
        "rss_after_1_min_mb": round(warm, 1),
        "rss_end_mb": round(end, 1),
        "rss_drift_pct": round((end - warm) / warm * 100, 2) if warm else None,
        "rss_samples_mb": [round(rss, 1) for _, rss in samples],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--load", type=float, default=0.8)
    args = parser.parse_args()
    print(json.dumps(soak(args.minutes, args.load), indent=2))


if __name__ == "__main__":
    main()
