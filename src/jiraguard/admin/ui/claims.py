"""What the test page says about a token's claims: which differ from the configuration, and
which could be the username attribute.

* **Mismatches**: the claims a refused token carries that differ from what the provider
  expects (``iss``, ``aud`` from :func:`jiraguard.auth.explain.explain`, an ``exp`` in the
  past), each with the configured value to show beside it.
* **Username candidates**: claims whose values look like user names (a short string without
  spaces that is not a URL, a GUID, an opaque id or a claim known to be something else), each
  run through the provider's username rule (transforms, pattern, lookup) against the user
  directory, so the page can mark the one that finds an existing Jira user.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from jiraguard.auth.errors import InvalidToken
from jiraguard.auth.identity import UsernameRule
from jiraguard.settings import ProviderSettings
from jiraguard.store.users import UserDirectory

MAX_CANDIDATES = 20
"""Directory lookups one test makes at most."""
MAX_USERNAME = 128

NOT_USERNAMES = frozenset(
    {
        "iss",
        "aud",
        "azp",
        "client_id",
        "cid",
        "appid",
        "jti",
        "nonce",
        "at_hash",
        "c_hash",
        "s_hash",
        "sid",
        "scope",
        "scp",
        "typ",
        "token_use",
        "tid",
        "ver",
        "idp",
        "acr",
        "amr",
        "auth_time",
        "session_state",
        "alg",
        "kid",
        "uti",
        "rh",
        "aio",
        "xms_tcdt",
        "origin_jti",
        "event_id",
        "locale",
        "zoneinfo",
        "gender",
        "birthdate",
        "website",
        "picture",
        "profile",
        "given_name",
        "family_name",
        "middle_name",
        "name",
    }
)
"""Claims that hold something other than the user's name (an id of the token, the client,
the tenant, a session; a profile field)."""

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_OPAQUE = re.compile(r"[A-Za-z0-9_\-+/=]{33,}")
_DIGITS = re.compile(r"[0-9]{6,}")


def plausible_username(path: str, value: object) -> bool:
    """Whether the claim at ``path`` could hold a Jira user name."""
    if not isinstance(value, str) or path.rsplit(".", 1)[-1] in NOT_USERNAMES:
        return False
    if not 0 < len(value) <= MAX_USERNAME:
        return False
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        return False
    if "://" in value or value.startswith("urn:"):
        return False  # an issuer, an audience, a URL
    return not (_GUID.fullmatch(value) or _OPAQUE.fullmatch(value) or _DIGITS.fullmatch(value))


async def username_candidates(
    claims: Sequence[Mapping[str, Any]],
    provider: ProviderSettings | None,
    users: UserDirectory,
) -> dict[str, str | None]:
    """Per plausible claim path: the Jira user it finds through ``provider``'s username rule
    (None: no user, or the rule refuses the value)."""
    found: dict[str, str | None] = {}
    for claim in claims:
        path, value = str(claim["path"]), claim["value"]
        if len(found) >= MAX_CANDIDATES or not plausible_username(path, value):
            continue
        found[path] = await _jira_user(path, value, provider, users)
    return found


async def _jira_user(
    path: str, value: Any, provider: ProviderSettings | None, users: UserDirectory
) -> str | None:
    name: str | None = value
    if provider is not None:
        rule = UsernameRule(provider.model_copy(update={"username_attribute": [path]}))
        try:
            name = rule.apply({path: value})
        except InvalidToken:  # the provider's username_pattern refuses it
            return None
    if not name:
        return None
    if provider is not None and provider.lookup == "email":
        matches = await users.find_by_email(name)
        return matches[0].name if len(matches) == 1 else None
    user = await users.get(name)
    return user.name if user is not None else None


def _shown(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)


def mismatches(
    report: Mapping[str, Any],
    claims: Mapping[str, Any],
    providers: Sequence[ProviderSettings],
    now: float | None = None,
) -> dict[str, str]:
    """Per claim path: what the configuration expected instead, for a refused token."""
    if report.get("outcome") == "accepted":
        return {}
    found: dict[str, str] = {}
    tried = {a.get("provider") for a in report.get("attempts", [])}
    for attempt in report.get("attempts", []):
        for mismatch in attempt.get("mismatches", []):
            claim = str(mismatch.get("claim"))
            expected = f"{attempt.get('provider')} expects {_shown(mismatch.get('expected'))}"
            found[claim] = "; ".join(filter(None, [found.get(claim), expected]))
    issuer = report.get("issuer")
    if isinstance(issuer, Mapping) and "iss" not in found:
        configured = issuer.get("configured") or {}
        listed = "; ".join(f"{name}: {iss}" for name, iss in configured.items())
        found["iss"] = f"configured issuers: {listed or 'none'}"
    expiry = claims.get("exp")
    if isinstance(expiry, int | float) and not isinstance(expiry, bool):
        moment = time.time() if now is None else now
        leeway = max((p.leeway for p in providers if p.name in tried), default=0.0)
        if expiry + leeway < moment:
            when = datetime.fromtimestamp(expiry, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            found["exp"] = (
                f"expired at {when}, {round(moment - expiry)} s ago (leeway {leeway:g} s)"
            )
    return found
