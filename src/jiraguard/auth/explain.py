"""``check-token``: run a token through every step and say what each step found."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import jwt

from jiraguard.auth.credentials import parse_authorization
from jiraguard.auth.errors import AuthError, InvalidToken, ProviderUnavailable
from jiraguard.auth.identity import IdentityMapper, username_from
from jiraguard.auth.principal import fingerprint
from jiraguard.auth.provider_http import ProviderClients
from jiraguard.auth.router import Attempt, ProviderRouter
from jiraguard.settings import Settings
from jiraguard.store.db import Database
from jiraguard.store.users import UserDirectory


def _jwt_header(token: str) -> dict[str, Any] | None:
    """The unverified header of a token shaped like a JWT, for display only."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None
    return header if isinstance(header, dict) else None


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
    clients = ProviderClients(settings.auth.provider_timeout)
    try:
        router = ProviderRouter.from_settings(settings.providers, settings.auth, clients)
        db = Database(settings.storage.url)
        try:
            validated = await router.validate(token, trace)
            report["attempts"] = [asdict(a) for a in trace]
            report["username"] = username_from(
                validated.claims, validated.provider.username_attribute
            )
            mapper = IdentityMapper(UserDirectory(db), create_users=False)
            principal = await mapper.principal(validated)
        except InvalidToken as exc:
            report["attempts"] = [asdict(a) for a in trace]
            return {**report, "outcome": "rejected", "reason": exc.description}
        except ProviderUnavailable as exc:
            report["attempts"] = [asdict(a) for a in trace]
            return {**report, "outcome": "undecided", "reason": exc.description}
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
    }
