"""Providers page: the providers in force, with their method, issuer and endpoints.

Secrets are never shown: a client secret or HMAC secret is reported as "set" or "not set".
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from jiraguard.admin.ui.render import page
from jiraguard.admin.ui.session import AdminUser, admin_page, settings
from jiraguard.presets import PRESETS


@admin_page
async def providers_page(request: Request, admin: AdminUser) -> Response:
    return page(
        request,
        "providers.html",
        {"providers": settings(request).providers, "presets": PRESETS},
    )
