"""Test configuration page: paste an access token, see every step of its check.

Built on :func:`jiraguard.auth.explain.explain` (what ``jiraguard check-token`` prints): the
providers tried and their verdicts, the JWT header, the claims or the provider's response,
the value at the username attribute, the Jira user, groups and scopes. Each claim can be
picked as the provider's username or groups attribute. The token itself is never stored,
logged or rendered back.

When the token is refused its claims are shown all the same, decoded but not verified, with
each mismatching claim beside the configured value (:mod:`jiraguard.admin.ui.claims`); only
claims that look like user names are offered as the username attribute, and the one that
finds an existing Jira user is marked.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from jiraguard.admin.common import provider_client, services
from jiraguard.admin.ui.claims import mismatches, username_candidates
from jiraguard.admin.ui.render import page
from jiraguard.admin.ui.session import AdminUser, admin_form, admin_page, settings
from jiraguard.auth.discovery import ProviderMetadata
from jiraguard.auth.errors import ProviderUnavailable
from jiraguard.auth.explain import explain, unverified_claims
from jiraguard.auth.provider_http import call
from jiraguard.settings import ProviderSettings

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


def _attempt_checks(
    attempt: Mapping[str, Any], provider: ProviderSettings | None, header: Mapping[str, Any]
) -> list[tuple[bool, str]]:
    """What one provider checked, each check passed or failed with the reason."""
    name, method = attempt.get("provider"), attempt.get("method")
    if attempt.get("outcome") != "accepted":
        return [(False, f"{name} ({method}): {attempt.get('reason') or attempt.get('outcome')}")]
    claims: Mapping[str, Any] = attempt.get("claims") or {}
    found: list[tuple[bool, str]] = []
    if method == "jwt":
        found.append(
            (
                True,
                f"{name}: signature verified with its keys (alg {header.get('alg')}, "
                f"kid {header.get('kid', '—')})",
            )
        )
        found.append((True, f"issuer is {claims.get('iss')}, the configured one"))
        if provider is not None and provider.verify_audience:
            found.append((True, f"audience {claims.get('aud')} is one of {provider.audience}"))
        elif provider is not None:
            client = claims.get("client_id") or claims.get("azp")
            found.append((True, f"client {client} is one of {provider.allowed_client_ids}"))
        if provider is not None and provider.token_type:
            found.append((True, f"token type is {provider.token_type}"))
    elif method == "introspection":
        found.append((True, f"{name}: the introspection endpoint says the token is active"))
    else:
        found.append((True, f"{name}: the userinfo endpoint accepted the token"))
    expiry = claims.get("exp")
    if isinstance(expiry, int | float) and not isinstance(expiry, bool):
        left = round(expiry - time.time())
        when = datetime.fromtimestamp(expiry, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        found.append((True, f"not expired: valid until {when} ({left} s left)"))
    return found


def token_checks(
    report: Mapping[str, Any], provider: ProviderSettings | None
) -> list[tuple[bool, str]]:
    """Every check of the report in order: providers, username, Jira user."""
    header: Mapping[str, Any] = report.get("jwtHeader") or {}
    found: list[tuple[bool, str]] = []
    for attempt in report.get("attempts", []):
        found.extend(_attempt_checks(attempt, provider, header))
    if provider is not None:
        attribute = ", ".join(provider.username_attribute)
        username = report.get("username")
        if username:
            found.append((True, f"username attribute {attribute} holds {username!r}"))
        else:
            found.append((False, f"nothing found at the username attribute {attribute}"))
    if report.get("outcome") == "accepted":
        found.append((True, f"maps to the Jira user {report['user']['name']}"))
    elif not found or found[-1][0]:
        found.append((False, str(report.get("reason", report.get("outcome")))))
    return found


def _claims_shown(
    report: Mapping[str, Any], token: str
) -> tuple[str | None, Mapping[str, Any], bool]:
    """(provider, claims, verified): the accepted provider's claims; else the token's own,
    decoded without verification, and the provider that refused it (if one was tried)."""
    for attempt in report.get("attempts", []):
        if attempt.get("outcome") == "accepted":
            return attempt.get("provider"), attempt.get("claims") or {}, True
    tried = next((a.get("provider") for a in report.get("attempts", [])), None)
    claims = unverified_claims(token) if report.get("jwtHeader") else {}
    return tried, claims, False


def _context(request: Request, **extra: Any) -> dict[str, Any]:
    providers = settings(request).providers
    fetchable = [p.name for p in providers if p.enabled and p.client_id and p.client_secret]
    return {"providers": providers, "fetchable": fetchable, **extra}


@admin_page
async def test_page(request: Request, admin: AdminUser) -> Response:
    return page(request, "test.html", _context(request))


async def _report(request: Request, token: str, source: str) -> Response:
    current = settings(request)
    report = await explain(current, token)
    provider_name, claims, verified = _claims_shown(report, token)
    provider = next((p for p in current.providers if p.name == provider_name), None)
    paths = claim_paths(claims)
    context = _context(
        request,
        report=report,
        provider=provider,
        claims=paths,
        verified=verified,
        candidates=await username_candidates(paths, provider, services(request).users),
        mismatches=mismatches(report, claims, current.providers),
        header=report.get("jwtHeader"),
        source=source,
        checks=token_checks(report, provider if verified else None),
    )
    return page(request, "test.html", context)


@admin_form
async def run_test(request: Request, admin: AdminUser, form: FormData) -> Response:
    token = str(form.get("token") or "").strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    if not token:
        return page(request, "test.html", _context(request, error="Paste an access token."), 400)
    if len(token) > MAX_TOKEN:
        error = f"A token longer than {MAX_TOKEN} characters is not accepted."
        return page(request, "test.html", _context(request, error=error), 400)
    return await _report(request, token, "the pasted token")


async def client_credentials_token(request: Request, provider: ProviderSettings, scope: str) -> str:
    """A token from ``provider``'s token endpoint for its own client (RFC 6749 §4.4)."""
    http = provider_client(request, provider)
    endpoint = await ProviderMetadata(provider, http).endpoint("token_endpoint")
    assert provider.client_id is not None
    assert provider.client_secret is not None
    secret = provider.client_secret.get_secret_value()
    form = {"grant_type": "client_credentials"}
    if scope:
        form["scope"] = scope
    options: dict[str, Any] = {}
    if provider.client_auth == "client_secret_post":
        form.update(client_id=provider.client_id, client_secret=secret)
    else:
        options["auth"] = (provider.client_id, secret)
    answer = await call(http, "POST", endpoint, "the token endpoint", data=form, **options)
    body = answer.json_object("the token endpoint")
    token = body.get("access_token")
    if answer.status_code != 200 or not isinstance(token, str) or not token:
        raise ProviderUnavailable(
            f"the token endpoint gave no token ({body.get('error', answer.status_code)})"
        )
    return token


@admin_form
async def fetch_and_test(request: Request, admin: AdminUser, form: FormData) -> Response:
    """Ask a provider for a client-credentials token with its configured client, then test
    that token; it is never shown."""
    name = str(form.get("provider") or "")
    scope = str(form.get("scope") or "").strip()[:1024]
    context = _context(request)
    if name not in context["fetchable"]:
        error = "Pick a provider that has a client id and secret configured."
        return page(request, "test.html", {**context, "error": error}, 400)
    provider = next(p for p in settings(request).providers if p.name == name)
    try:
        token = await client_credentials_token(request, provider, scope)
    except ProviderUnavailable as exc:
        error = f"{name} gave no token: {exc.description}"
        return page(request, "test.html", {**context, "error": error}, 502)
    return await _report(request, token, f"a client-credentials token from {name}")
