"""Status page: readiness (database, Redis, providers), JWKS age, cache hit ratio, decisions
per minute. Reads what ``/readyz`` and ``/metrics`` read; never calls a provider."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from jiraguard.admin.common import provider_client, services
from jiraguard.admin.ui.render import page
from jiraguard.admin.ui.session import AdminUser, admin_form, admin_page
from jiraguard.auth.errors import ProviderUnavailable
from jiraguard.auth.provider_http import call
from jiraguard.ops import readiness
from jiraguard.services import Services
from jiraguard.settings import ProviderSettings
from jiraguard.store.audit import AuditFilter, AuditLog


def _providers(request: Request) -> list[dict[str, Any]]:
    rows = []
    for state in services(request).router.states():
        keys = state.keys
        rows.append(
            {
                "name": state.name,
                "method": state.method,
                "jwks_age": round(keys.age) if keys is not None and keys.age is not None else None,
                "jwks_fetches": keys.fetches if keys is not None else None,
            }
        )
    return rows


def _cache_ratio(request: Request) -> tuple[int, int]:
    """(hits, lookups) of the principal cache, summed over its levels."""
    levels = services(request).cache.levels()
    hits = sum(level.hits for level in levels)
    return hits, hits + sum(level.misses for level in levels)


def _by_outcome(services: Services) -> list[tuple[tuple[bool, int], int]]:
    """This process's decisions by (allowed, status), whatever else they are counted by."""
    totals: Counter[tuple[bool, int]] = Counter()
    for key, count in services.decisions.counts.items():
        totals[(key[0], key[1])] += count
    return sorted(totals.items())


async def _reach(request: Request, provider: ProviderSettings) -> dict[str, Any]:
    """One GET of the provider's discovery document (or its configured endpoint)."""
    url = provider.discovery_document_url or provider.jwks_uri or provider.userinfo_endpoint
    if url is None:
        return {"name": provider.name, "url": "—", "state": "nothing to probe (static key)"}
    started = time.monotonic()
    try:
        answer = await call(provider_client(request, provider), "GET", url, "the provider")
    except ProviderUnavailable as exc:
        return {"name": provider.name, "url": url, "state": exc.description, "ok": False}
    elapsed = round(1000 * (time.monotonic() - started))
    # A userinfo endpoint answers 401 without a token: reachable all the same.
    ok = answer.status_code < 500
    state = f"HTTP {answer.status_code} in {elapsed} ms"
    return {"name": provider.name, "url": url, "state": state, "ok": ok}


async def _status(request: Request, **extra: Any) -> Response:
    shared = services(request)
    checks = await readiness(shared)
    since = datetime.now(UTC) - timedelta(minutes=1)
    log = AuditLog(shared.db)
    decided, _ = await log.search(AuditFilter(since=since, kind="auth"), start_at=0, max_results=0)
    denied, _ = await log.search(
        AuditFilter(since=since, kind="auth", allowed=False), start_at=0, max_results=0
    )
    hits, lookups = _cache_ratio(request)
    return page(
        request,
        "status.html",
        {
            "checks": checks,
            "providers": _providers(request),
            "hits": hits,
            "lookups": lookups,
            "ratio": f"{100 * hits / lookups:.0f} %" if lookups else "no lookups yet",
            "decided": decided,
            "denied": denied,
            "counts": _by_outcome(shared),
            **extra,
        },
    )


@admin_page
async def status_page(request: Request, admin: AdminUser) -> Response:
    return await _status(request)


@admin_form
async def probe(request: Request, admin: AdminUser, form: FormData) -> Response:
    """Ask every enabled provider once, now (the page itself never calls a provider)."""
    enabled = [p for p in services(request).settings.providers if p.enabled]
    reached = await asyncio.gather(*(_reach(request, p) for p in enabled))
    return await _status(request, reached=reached)
