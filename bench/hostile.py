"""Hostile traffic against a live server: no 5xx, nothing slower than 5 s, no lost audit record.

    .venv/bin/python -m bench.hostile [--requests 6000] [--seed 15] [--concurrency 8]

Starts jiraguard (uvicorn on a loopback port, a fresh SQLite database, sync_user on) and
sends a seeded mix of the inputs issue 15 found behind 5xx answers, hangs and lost audit
records: deep nesting in JWT headers, payloads and JSON bodies; huge integers in paging
parameters, ids, JQL keys and ``exp``; wrongly typed registered claims; lone and encoded
surrogates in claims (``client_id``/``azp``/username) and in PAT names; JQL date arithmetic
out of range; superscript digits; half-broken Authorization headers; and bursts of first
requests of one user (sync_user). Every request to ``/rest/`` is one authentication
decision, so once the server has stopped (the audit writer flushes on shutdown) the
``auth`` records' counts must add up to the number of requests sent.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import random
import sqlite3
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from jiraguard.store.db import run_migrations
from tests.support.live import live_server
from tests.support.tokens import ISSUER, SECRET, claims_for, hmac_provider

SLOW = 5.0
DEEP = [1000, 5000, 50_000]
HUGE = ["9" * 30, "9" * 5000, "0" * 5000 + "1", "-" + "9" * 5000, "²", "٣", "1e9", "+1"]
SURROGATES = ["\ud800", "\udfff", "a\ud83dz"]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _token(payload: bytes, header: bytes = b'{"alg":"HS256","typ":"JWT"}') -> str:
    signing_input = f"{_b64(header)}.{_b64(payload)}"
    mac = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def _claims(**extra: Any) -> bytes:
    return json.dumps(claims_for("alice", **extra)).encode()


def _deep(rng: random.Random) -> bytes:
    levels = rng.choice(DEEP)
    opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}")])
    return opener * levels + b"1" + closer * levels


class Traffic:
    """A seeded stream of (method, path, headers, body) that each hit one hostile class."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.good = _token(_claims())

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.good}"}

    def next(self) -> tuple[str, str, str, dict[str, str], bytes | None]:
        rng = self.rng
        kind = rng.choice(
            ["token_deep", "token_numbers", "token_types", "token_unicode", "body", "paging",
             "ids", "jql", "pat", "header", "plain"]
        )  # fmt: skip
        api = "/rest/api/2"
        if kind == "token_deep":
            if rng.random() < 0.5:
                token = _token(b'{"iss":"' + ISSUER.encode() + b'","x":' + _deep(rng) + b"}")
            else:
                token = _token(_claims(), header=b'{"alg":"HS256","x":' + _deep(rng) + b"}")
            return kind, "GET", f"{api}/myself", self.auth(token), None
        if kind == "token_numbers":
            raw = _claims().replace(
                b'"exp": ', b'"exp": ' + rng.choice(HUGE[:4]).encode() + b', "x": '
            )
            return kind, "GET", f"{api}/myself", self.auth(_token(raw)), None
        if kind == "token_types":
            claim, value = rng.choice(
                [("exp", "1764331800"), ("exp", True), ("nbf", "0"), ("iss", 1), ("sub", []),
                 ("aud", [1]), ("azp", {}), ("client_id", 7)]
            )  # fmt: skip
            payload = json.dumps({**claims_for("alice"), claim: value}).encode()
            return kind, "GET", f"{api}/myself", self.auth(_token(payload)), None
        if kind == "token_unicode":
            where = rng.choice(["client_id", "azp", "preferred_username", "name"])
            text = "x" + rng.choice(SURROGATES) * rng.randint(1, 300)
            payload = json.dumps({**claims_for("alice"), where: text}).encode()
            if rng.random() < 0.3:  # the surrogate as raw bytes, not as a \u escape
                payload = payload.replace(b'"alice"', b'"al\xed\xa0\x80ice"', 1)
            return kind, "GET", f"{api}/myself", self.auth(_token(payload)), None
        if kind == "body":
            path = rng.choice([f"{api}/issue", f"{api}/issue/TEST-1/comment", f"{api}/search"])
            body = rng.choice(
                [b'{"fields": ' + _deep(rng) + b"}",
                 b'{"fields": {"summary": ' + HUGE[1].encode() + b"}}", b'{"body": "\\ud800"}',
                 b'{"fields": NaN}', b"\xed\xa0\x80", b'{"jql": 1e999}']
            )  # fmt: skip
            headers = {**self.auth(), "Content-Type": "application/json"}
            return kind, "POST", path, headers, body
        if kind == "paging":
            template = rng.choice(
                [f"{api}/search?startAt={{}}", f"{api}/search?maxResults={{}}",
                 f"{api}/issue/TEST-1/comment?startAt={{}}",
                 f"{api}/issue/TEST-1/worklog?maxResults={{}}"]
            )  # fmt: skip
            return kind, "GET", template.format(quote(rng.choice(HUGE))), self.auth(), None
        if kind == "ids":
            template = rng.choice(
                [f"{api}/issue/{{}}", f"{api}/issue/TEST-{{}}",
                 f"{api}/issue/TEST-1/comment/{{}}", f"{api}/issue/TEST-1/worklog/{{}}",
                 f"{api}/project/{{}}", f"{api}/attachment/{{}}"]
            )  # fmt: skip
            return kind, "GET", template.format(quote(rng.choice(HUGE))), self.auth(), None
        if kind == "jql":
            jql = rng.choice(
                ["created > -99999999999d", "updated >= startOfYear(-99999999999)",
                 f"key = {HUGE[0]}", f"key = TEST-{HUGE[2]}", "key = FZ-²", f"id > {HUGE[1]}",
                 'created = "9999-12-31"', "(" * 2000 + "key = TEST-1" + ")" * 2000,
                 "duedate <= endOfYear(+8000)", f"project = {HUGE[1]}"]
            )  # fmt: skip
            return kind, "GET", f"{api}/search?jql={quote(jql)}", self.auth(), None
        if kind == "pat":
            name = rng.choice(['"ci\\ud800"', '"\\udc00"', '"ci\xed\xa0\x80"', _deep(rng).decode()])
            body = b'{"name": ' + name.encode("utf-8", "surrogatepass") + b"}"
            headers = {**self.auth(), "Content-Type": "application/json"}
            return kind, "POST", "/rest/pat/latest/tokens", headers, body
        if kind == "header":
            value = rng.choice(
                ["Bearer", "Bearer x y", "Basic !!!",
                 "Basic " + base64.b64encode(b"\xff:x").decode(),
                 "Bearer " + "a" * 20000, "Negotiate x", "bearer a.b.c", "Bearer e30.e30.e30"]
            )  # fmt: skip
            return kind, "GET", f"{api}/serverInfo", {"Authorization": value}, None
        return kind, "GET", f"{api}/myself", self.auth(), None


async def _fire(base: str, traffic: Traffic, total: int, concurrency: int) -> dict[str, Any]:
    statuses: Counter[tuple[str, int]] = Counter()
    slow: list[tuple[str, float]] = []
    sent = 0
    queue: asyncio.Queue[tuple[str, str, str, dict[str, str], bytes | None]] = asyncio.Queue()
    for _ in range(total):
        queue.put_nowait(traffic.next())

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def worker() -> None:
            nonlocal sent
            while not queue.empty():
                kind, method, path, headers, body = queue.get_nowait()
                started = time.perf_counter()
                try:
                    response = await client.request(method, path, headers=headers, content=body)
                except httpx.TransportError:  # the server broke the connection: a failure too
                    status = 0
                else:
                    status = response.status_code
                elapsed = time.perf_counter() - started
                sent += 1
                statuses[(kind, status)] += 1
                if elapsed > SLOW:
                    slow.append((kind, elapsed))

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        # First requests of one user arriving together (sync_user): a fresh user per burst.
        bursts = 0
        for n in range(5):
            token = _token(json.dumps(claims_for(f"burst{n}", groups=["eng", f"t{n}"])).encode())
            tokens = [
                _token(json.dumps(claims_for(f"burst{n}", jti=str(i), groups=["eng"])).encode())
                for i in range(16)
            ]
            answers = await asyncio.gather(
                *(
                    client.get("/rest/api/2/myself", headers={"Authorization": f"Bearer {t}"})
                    for t in [token, *tokens]
                )
            )
            for answer in answers:
                statuses[("sync_burst", answer.status_code)] += 1
            bursts += len(answers)
        sent += bursts
        seconds = time.perf_counter() - started
    return {"sent": sent, "statuses": statuses, "slow": slow, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--concurrency", type=int, default=8)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "hostile.db"
        url = f"sqlite:///{db_path}"
        run_migrations(url)
        users: dict[str, dict[str, Any]] = {"alice": {"admin": True, "groups": ["jira-users"]}}
        users.update({f"burst{n}": {"groups": ["jira-users", "old"]} for n in range(5)})
        config = {
            "storage": {"url": url},
            "providers": [
                hmac_provider(
                    sync_user=True,
                    groups_attribute=["groups"],
                    group_mapping={"eng": "developers"},
                    group_passthrough=True,
                )
            ],
            "audit": {"flush_interval": 0.5},
        }
        with live_server(config, users) as base:
            headers = {"Authorization": f"Bearer {Traffic(0).good}"}
            with httpx.Client(base_url=base, headers=headers) as setup:
                setup.post("/rest/api/2/project", json={"key": "TEST", "name": "Test"})
                setup.post(
                    "/rest/api/2/issue",
                    json={
                        "fields": {
                            "project": {"key": "TEST"},
                            "issuetype": {"name": "Task"},
                            "summary": "s",
                        }
                    },
                )
            result = asyncio.run(
                _fire(base, Traffic(options.seed), options.requests, options.concurrency)
            )
        with sqlite3.connect(db_path) as conn:
            (recorded,) = conn.execute(
                "SELECT COALESCE(SUM(count), 0) FROM audit_events WHERE kind = 'auth'"
            ).fetchone()
    setup_requests = 2
    server_errors = {k: v for k, v in result["statuses"].items() if k[1] >= 500 or k[1] == 0}
    by_kind: Counter[str] = Counter()
    for (kind, _), count in result["statuses"].items():
        by_kind[kind] += count
    print(f"requests sent: {result['sent']} in {result['seconds']:.1f} s (seed {options.seed})")
    print("by class:", dict(sorted(by_kind.items())))
    print(
        "statuses:",
        dict(
            sorted(Counter(s for (_, s), n in result["statuses"].items() for _ in range(n)).items())
        ),
    )
    print(f"5xx or broken connection (0): {sum(server_errors.values())} {server_errors or ''}")
    print(f"slower than {SLOW:.0f} s: {len(result['slow'])} {result['slow'][:5] or ''}")
    expected = result["sent"] + setup_requests
    print(f"audit records (auth, counted): {recorded} of {expected}; lost: {expected - recorded}")


if __name__ == "__main__":
    main()
