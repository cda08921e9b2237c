"""Status page: readiness (database, Redis, providers), JWKS age, cache hit ratio, decisions
per minute. Reads what ``/readyz`` and ``/metrics`` read; never calls a provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from jiraguard.admin.ui.render import page
from jiraguard.admin.ui.session import AdminUser, admin_page, services
from jiraguard.auth.validators.jwks import JWKSKeys
from jiraguard.ops import ServicesCollector, readiness
from jiraguard.store.audit import AuditFilter, AuditLog


def _providers(request: Request) -> list[dict[str, Any]]:
    rows = []
    for validator in services(request).router.validators:
        keys = getattr(validator, "keys", None)
        age = None
        if isinstance(keys, JWKSKeys) and keys.fetched_at is not None:
            age = round(keys.clock() - keys.fetched_at)
        rows.append(
            {
                "name": validator.provider.name,
                "method": validator.provider.method,
                "jwks_age": age,
                "jwks_fetches": keys.fetches if isinstance(keys, JWKSKeys) else None,
            }
        )
    return rows


def _cache_ratio(request: Request) -> tuple[int, int]:
    """(hits, lookups) of the principal cache, summed over its levels."""
    hits = lookups = 0
    for family in ServicesCollector(services(request)).collect():
        if family.name != "jiraguard_principal_cache_lookups":
            continue
        for sample in family.samples:
            lookups += int(sample.value)
            if sample.labels.get("result") == "hit":
                hits += int(sample.value)
    return hits, lookups


@admin_page
async def status_page(request: Request, admin: AdminUser) -> Response:
    parts = services(request)
    checks = await readiness(parts)
    since = datetime.now(UTC) - timedelta(minutes=1)
    log = AuditLog(parts.db)
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
            "counts": sorted(parts.decisions.counts.items()),
        },
    )
