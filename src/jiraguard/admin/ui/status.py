"""Status page: readiness (database, Redis, providers), JWKS age, and the last hour as charts:
decisions per minute (accepted, refused by reason) from the audit log, the cache hit ratio and
the providers' latency and errors from this process's samples (:mod:`jiraguard.sampling`).
Reads what ``/readyz`` and ``/metrics`` read plus one grouped audit query; never calls a
provider."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from jiraguard.admin.common import provider_client, services
from jiraguard.admin.ui.charts import (
    cache_chart,
    decisions_chart,
    outcome_words,
    plural,
    provider_chart,
    provider_errors,
)
from jiraguard.admin.ui.render import page
from jiraguard.admin.ui.session import AdminUser, admin_form, admin_page
from jiraguard.auth.errors import ProviderUnavailable
from jiraguard.auth.provider_http import call
from jiraguard.ops import readiness
from jiraguard.sampling import cache_counts
from jiraguard.services import Services
from jiraguard.settings import ProviderSettings, Settings
from jiraguard.store.audit import AuditLog

HOUR = 3600.0


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


def _by_outcome(services: Services) -> list[str]:
    """This process's decisions since start in words, by outcome."""
    totals: Counter[tuple[bool, int]] = Counter()
    for key, count in services.decisions.counts.items():
        totals[(key[0], 0 if key[0] else key[1])] += count  # accepted is accepted, any status
    return [
        f"{plural(count, 'request')} {outcome_words(allowed, status)}"
        for (allowed, status), count in sorted(
            totals.items(), key=lambda kv: (not kv[0][0], kv[0][1])
        )
    ]


def _hosts(settings: Settings) -> dict[str, list[str]]:
    """Provider names by the host of each of their endpoints."""
    found: dict[str, list[str]] = {}
    for p in settings.providers:
        urls = (p.issuer, p.jwks_uri, p.introspection_endpoint, p.userinfo_endpoint,
                p.token_info_endpoint, p.discovery_document_url)  # fmt: skip
        for url in urls:
            host = urlsplit(url).hostname if url else None
            if host and p.name not in found.setdefault(host, []):
                found[host].append(p.name)
    return found


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
    now = time.time()
    start = now - HOUR
    since = datetime.fromtimestamp(start, UTC) - timedelta(minutes=1)
    decisions = decisions_chart(await AuditLog(shared.db).per_minute(since), now)
    samples = shared.sampler.series(since=start) if shared.sampler is not None else []
    cache, cache_summary = cache_chart(samples, start, now)
    latency, hosts = provider_chart(samples, start, now, _hosts(shared.settings))
    hits, lookups = cache_counts(shared.cache.levels())
    return page(
        request,
        "status.html",
        {
            "checks": checks,
            "providers": _providers(request),
            "decisions": decisions,
            "record_allowed": shared.settings.audit.enabled
            and shared.settings.audit.record_allowed,
            "cache": cache,
            "cache_summary": cache_summary,
            "latency": latency,
            "hosts": hosts,
            "errors": provider_errors(samples),
            "plural": plural,
            "ratio": f"{100 * hits / lookups:.0f} %" if lookups else "no lookups yet",
            "hits": hits,
            "lookups": lookups,
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
