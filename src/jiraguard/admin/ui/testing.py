"""Test configuration page: paste an access token, see every step of its check.

Built on :func:`jiraguard.auth.explain.explain` (what ``jiraguard check-token`` prints): the
providers tried and their verdicts, the JWT header, the claims or the provider's response,
the value at the username attribute, the Jira user, groups and scopes. Each claim can be
picked as the provider's username or groups attribute. The token itself is never stored,
logged or rendered back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from jiraguard.admin.ui.render import page
from jiraguard.admin.ui.session import AdminUser, admin_form, admin_page, settings
from jiraguard.auth.explain import explain

MAX_TOKEN = 16 * 1024
MAX_DEPTH = 6


def _attribute_kind(value: object) -> str | None:
    """What a claim can serve as: a string a username, a list of strings the groups."""
    if isinstance(value, str):
        return "username"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "groups"
    return None


def claim_paths(
    claims: Mapping[str, Any], prefix: str = "", depth: int = 0
) -> list[dict[str, Any]]:
    """Every claim as a dotted path (the syntax of ``username_attribute``) with its value."""
    found: list[dict[str, Any]] = []
    for key, value in claims.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and depth < MAX_DEPTH:
            found.extend(claim_paths(value, path + ".", depth + 1))
        else:
            found.append({"path": path, "value": value, "kind": _attribute_kind(value)})
    return found


def _accepted_claims(report: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    for attempt in report.get("attempts", []):
        if attempt.get("outcome") == "accepted":
            return attempt.get("provider"), attempt.get("claims") or {}
    return None, {}


@admin_page
async def test_page(request: Request, admin: AdminUser) -> Response:
    return page(request, "test.html", {"providers": settings(request).providers})


@admin_form
async def run_test(request: Request, admin: AdminUser, form: FormData) -> Response:
    token = str(form.get("token") or "").strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    context: dict[str, Any] = {"providers": settings(request).providers}
    if not token:
        context["error"] = "Paste an access token."
        return page(request, "test.html", context, 400)
    if len(token) > MAX_TOKEN:
        context["error"] = f"A token longer than {MAX_TOKEN} characters is not accepted."
        return page(request, "test.html", context, 400)
    report = await explain(settings(request), token)
    provider_name, claims = _accepted_claims(report)
    provider = next((p for p in settings(request).providers if p.name == provider_name), None)
    context.update(
        report=report,
        provider=provider,
        claims=claim_paths(claims),
        header=report.get("jwtHeader"),
    )
    return page(request, "test.html", context)
