"""``check-token``: run a token through every step and say what each step found."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import jwt

from jiraguard.auth.authenticator import remaining_lifetime
from jiraguard.auth.credentials import parse_authorization
from jiraguard.auth.errors import AuthError, InvalidToken, ProviderUnavailable
from jiraguard.auth.identity import IdentityMapper, unreachable_admin, username_from
from jiraguard.auth.principal import fingerprint
from jiraguard.auth.provider_http import ProviderClients
from jiraguard.auth.router import Attempt, ProviderRouter
from jiraguard.settings import ProviderSettings, Settings
from jiraguard.store.db import Database
from jiraguard.store.users import UserDirectory


def _jwt_header(token: str) -> dict[str, Any] | None:
    """The unverified header of a token shaped like a JWT, for display only."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None
    return header if isinstance(header, dict) else None


_SHOWN = 200
"""Characters of a token's claim value shown next to the configured one (CLI and admin UI)."""


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a token shaped like a JWT, not verified: to show what it says."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def _shown(value: Any) -> Any:
    """A claim value bounded for display."""
    if isinstance(value, str):
        return value if len(value) <= _SHOWN else value[:_SHOWN] + "..."
    if isinstance(value, list):
        return [_shown(v) for v in value[:20]]
    return value if isinstance(value, int | float | bool) or value is None else str(value)


def _mismatches(provider: ProviderSettings, claims: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The claims of ``claims`` that differ from what ``provider`` expects (iss, aud)."""
    found = []
    if provider.issuer is not None and claims.get("iss") != provider.issuer:
        found.append(
            {"claim": "iss", "token": _shown(claims.get("iss")), "expected": provider.issuer}
        )
    if provider.verify_audience:
        aud = claims.get("aud")
        values = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if not set(map(str, values)) & set(provider.audience):
            found.append({"claim": "aud", "token": _shown(aud), "expected": provider.audience})
    return found


def _describe(mismatch: Mapping[str, Any]) -> str:
    expected = mismatch["expected"]
    if isinstance(expected, list):
        return (
            f"the token's {mismatch['claim']} is {mismatch['token']!r}, expected one of {expected}"
        )
    return f"the token's {mismatch['claim']} is {mismatch['token']!r}, expected {expected!r}"


def _attempts(
    settings: Settings, trace: list[Attempt], claims: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The trace as JSON, a rejected JWT's mismatching claims next to the configured values."""
    by_name = {p.name: p for p in settings.providers}
    attempts = []
    for attempt in trace:
        entry = asdict(attempt)
        provider = by_name.get(attempt.provider)
        if attempt.outcome == "rejected" and attempt.method == "jwt" and provider and claims:
            mismatches = _mismatches(provider, claims)
            if mismatches:
                entry["mismatches"] = mismatches
                entry["reason"] += ": " + "; ".join(_describe(m) for m in mismatches)
        attempts.append(entry)
    return attempts


def _issuer_report(settings: Settings, claims: Mapping[str, Any]) -> dict[str, Any] | None:
    """The token's ``iss`` next to the configured issuers, when no jwt provider has it."""
    iss = claims.get("iss")
    jwt_providers = [p for p in settings.providers if p.enabled and p.method == "jwt"]
    accepted = {i for p in jwt_providers for i in (p.issuer, *p.issuers) if i}
    if not isinstance(iss, str) or iss in accepted:
        return None
    if any(p.issuer_discovery for p in jwt_providers):
        return None  # the issuers are known once discovered: the attempts say what happened
    configured = {p.name: ", ".join(i for i in (p.issuer, *p.issuers) if i) for p in jwt_providers}
    return {"token": _shown(iss), "configured": configured}


async def explain(settings: Settings, token: str) -> dict[str, Any]:
    """A JSON-ready report on ``token``; it carries the fingerprint, never the token."""
    report: dict[str, Any] = {"fingerprint": fingerprint(token)[:16], "attempts": []}
    header = _jwt_header(token)
    if header is not None:
        report["jwtHeader"] = header
    try:
        parse_authorization([f"Bearer {token}".encode()])
    except AuthError as exc:
        return {**report, "outcome": "rejected", "reason": exc.description}
    trace: list[Attempt] = []
    claims = unverified_claims(token) if header is not None else {}
    issuer = _issuer_report(settings, claims)
    if issuer is not None:
        report["issuer"] = issuer
    clients = ProviderClients(settings.auth.provider_timeout)
    try:
        router = ProviderRouter.from_settings(settings.providers, settings.auth, clients)
        db = Database(settings.storage.url)
        try:
            validated = await router.validate(token, trace)
            report["attempts"] = _attempts(settings, trace, claims)
            report["username"] = username_from(
                validated.claims, validated.provider.username_attribute
            )
            mapper = IdentityMapper(
                UserDirectory(db), create_users=False, unreachable=unreachable_admin(settings)
            )
            principal = await mapper.principal(validated)
            # The request path's own rule, with the provider's leeway (authenticator.py).
            remaining_lifetime(validated.expires_at, validated.provider.leeway, time.time())
        except InvalidToken as exc:
            report["attempts"] = _attempts(settings, trace, claims)
            reason = exc.description
            if not trace and issuer is not None:
                configured = ", ".join(f"{k}: {v}" for k, v in issuer["configured"].items())
                reason = (
                    f"No provider is configured for the token's issuer {issuer['token']!r} "
                    f"(configured jwt issuers: {configured or 'none'})"
                )
            return {**report, "outcome": "rejected", "reason": reason}
        except ProviderUnavailable as exc:
            report["attempts"] = _attempts(settings, trace, claims)
            named = f"provider {exc.provider}: " if exc.provider else ""
            return {**report, "outcome": "undecided", "reason": named + exc.description}
        finally:
            await db.close()
    finally:
        await clients.aclose()
    return {
        **report,
        "outcome": "accepted",
        "provider": principal.provider,
        "user": {
            "name": principal.username,
            "key": principal.key,
            "displayName": principal.display_name,
            "emailAddress": principal.email,
            "groups": sorted(principal.groups),
            "scopes": sorted(principal.scopes),
            "clientId": principal.client_id,
        },
        **_binding(principal.jkt, principal.x5t),
    }


def _binding(jkt: str | None, x5t: str | None) -> dict[str, Any]:
    """What a request with a sender-constrained token must carry (nothing for a bearer one)."""
    if jkt is not None:
        return {
            "binding": {
                "kind": "DPoP (RFC 9449)",
                "thumbprint": jkt,
                "requires": "Authorization: DPoP <token> and a DPoP proof header signed with "
                "the key of this JWK thumbprint (cnf.jkt), a new one per request",
            }
        }
    if x5t is not None:
        return {
            "binding": {
                "kind": "client certificate (RFC 8705)",
                "thumbprint": x5t,
                "requires": "a TLS connection with the client certificate of this SHA-256 "
                "thumbprint (cnf.x5t#S256), to jiraguard or to a trusted proxy that passes it on",
            }
        }
    return {}
