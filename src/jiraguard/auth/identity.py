"""Step 3 of the request path: from what a provider vouched for to a Jira user.

* The **username** is read at the provider's ``username_attribute`` — dotted paths into the
  claims or the provider's JSON answer, tried in order — then transformed (``lowercase``,
  ``strip_domain``) and matched against ``username_pattern`` when one is set. The user is
  looked up by name (case-insensitively, as Jira does) or by e-mail address (``lookup``); an
  e-mail that matches several users is refused, never guessed.
* **Groups** come from ``groups_attribute`` (a list, or a space- or comma-separated string),
  mapped through ``group_mapping``; they count for decisions, and with ``sync_user`` they are
  written to the user's membership together with the display name and e-mail.
* A token with **no user** (client credentials: no username, or ``sub`` is the client id) is
  mapped to the service user ``client_users`` names for its client; other clients are refused.
* An unknown user is refused, or created from the claims when ``create_users`` is on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from jiraguard.auth.confirmation import confirmation_of, sign_in_of
from jiraguard.auth.errors import InvalidToken
from jiraguard.auth.principal import Principal
from jiraguard.auth.validators.base import ValidatedToken
from jiraguard.settings import ProviderSettings, Settings
from jiraguard.store.users import UserDirectory, UserExists, UserRecord

_CLIENT_ID_CLAIMS = ("client_id", "azp", "cid", "appid")
_SEPARATORS = re.compile(r"[\s,]+")


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` (``realm_access.roles``); None when absent.

    A key that itself contains dots (``https://example.com/username``) is matched whole first.
    """
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def username_from(claims: Mapping[str, Any], attributes: Iterable[str]) -> str | None:
    """The first non-empty string (or integer, like GitHub's ids) at one of ``attributes``."""
    for attribute in attributes:
        value = claim_at(claims, attribute)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return str(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def groups_from(claims: Mapping[str, Any], attributes: Iterable[str]) -> list[str]:
    """Group names at ``attributes``: JSON arrays of strings, or space/comma-separated strings."""
    found: list[str] = []
    for attribute in attributes:
        value = claim_at(claims, attribute)
        if isinstance(value, str):
            found.extend(g for g in _SEPARATORS.split(value) if g)
        elif isinstance(value, list):
            found.extend(g for g in value if isinstance(g, str) and g)
    return list(dict.fromkeys(found))


def scopes_from(claims: Mapping[str, Any]) -> frozenset[str]:
    """Scopes from ``scope`` (RFC 8693 §4.2, space-separated) or ``scp`` (string or list)."""
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            return frozenset(value.split())
        if isinstance(value, list):
            return frozenset(v for v in value if isinstance(v, str))
    return frozenset()


def client_id_from(claims: Mapping[str, Any]) -> str | None:
    for name in _CLIENT_ID_CLAIMS:
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


_CLAIM_NAME = re.compile(r"^[A-Za-z0-9_.:/@#-]{1,64}$")
_MAX_NAMES = 40


def claim_names(claims: Mapping[str, Any]) -> list[str]:
    """The names of the top-level claims, sorted, safe to show anywhere (an HTTP body): names
    only, never values; odd or long names left out, at most 40."""
    names = sorted(str(k) for k in claims if _CLAIM_NAME.match(str(k)))
    return names[:_MAX_NAMES] + (["..."] if len(names) > _MAX_NAMES else [])


def no_username(provider: ProviderSettings, claims: Mapping[str, Any], client: str | None) -> str:
    """Why no username was found, and what to change."""
    attributes = ", ".join(provider.username_attribute)
    present = ", ".join(claim_names(claims)) or "none"
    message = (
        f"The username attribute ({attributes}) of provider '{provider.name}' was not found in "
        f"the token's claims; claims present: {present}"
    )
    if client is not None:
        shown = client if _CLAIM_NAME.match(client) else "(its client id)"
        if provider.client_users:
            return (
                f"The client {shown} is not mapped to a Jira user (client_users), and t"
                + (message[1:])
            )
        message += f"; or, for a token without a user, map the client {shown} in client_users"
    return message


class UsernameRule:
    """How one provider's claims become a username (attributes, transforms, pattern)."""

    def __init__(self, provider: ProviderSettings) -> None:
        self.attributes = provider.username_attribute
        self.transforms = provider.username_transforms
        self.pattern = re.compile(provider.username_pattern) if provider.username_pattern else None

    def apply(self, claims: Mapping[str, Any]) -> str | None:
        value = username_from(claims, self.attributes)
        if value is None:
            return None
        for transform in self.transforms:
            if transform == "lowercase":
                value = value.lower()
            elif transform == "strip_domain":
                value = value.partition("@")[0]
        if self.pattern is not None:
            match = self.pattern.fullmatch(value)
            if match is None:
                raise InvalidToken("The token's username does not have the expected form")
            if "username" in self.pattern.groupindex:
                value = match.group("username")
            elif self.pattern.groups:
                value = match.group(1)
        return value or None


def jira_groups(provider: ProviderSettings, groups: Iterable[str]) -> list[str]:
    """Provider groups as Jira groups: mapped ones renamed, others kept only on passthrough."""
    result: list[str] = []
    for group in groups:
        mapped = provider.group_mapping.get(group)
        if mapped is not None:
            result.append(mapped)
        elif provider.group_passthrough:
            result.append(group)
    return list(dict.fromkeys(result))


def _from_claims(username: str, claims: Mapping[str, Any]) -> UserRecord:
    name, email = claims.get("name"), claims.get("email")
    return UserRecord(
        id=0,
        name=username,
        key=username,
        display_name=name if isinstance(name, str) and name else username,
        email=email if isinstance(email, str) else "",
        active=True,
        admin=False,
        groups=frozenset(),
    )


class IdentityMapper:
    """Maps validated tokens to principals through the user directory."""

    def __init__(
        self,
        users: UserDirectory,
        *,
        create_users: bool,
        directory_optional: bool = False,
        unreachable: str | None = None,
    ) -> None:
        self.users = users
        self.unreachable = unreachable.lower() if unreachable else None
        """The bootstrap administrator's name, when provider tokens may not act as it."""
        self.create_users = create_users
        self.directory_optional = directory_optional
        """Gateway mode: a user missing from the directory is built from the claims alone and
        the upstream Jira decides whether it exists."""
        self._rules: dict[str, UsernameRule] = {}

    def _rule(self, provider: ProviderSettings) -> UsernameRule:
        rule = self._rules.get(provider.name)
        if rule is None:
            rule = self._rules[provider.name] = UsernameRule(provider)
        return rule

    async def principal(self, validated: ValidatedToken) -> Principal:
        provider, claims = validated.provider, validated.claims
        confirmation = confirmation_of(claims)  # before any lookup: an unusable cnf refuses
        sign_in = sign_in_of(claims)
        client_id = client_id_from(claims)
        username = self._rule(provider).apply(claims)
        mapped_client = client_id is not None and client_id in provider.client_users
        if client_id is not None and username is not None and claims.get("sub") == client_id:
            user = await self._service_user(provider, client_id)
        elif username is not None:
            user = await self._user(provider, username, claims)
        elif client_id is not None and mapped_client:
            user = await self._service_user(provider, client_id)
        else:
            raise InvalidToken(no_username(provider, claims, client_id))
        if not user.active:
            raise InvalidToken(f"The Jira user {user.name} is disabled", username=user.name)
        groups = user.groups
        if provider.groups_attribute:
            token_groups = jira_groups(provider, groups_from(claims, provider.groups_attribute))
            if provider.sync_user:
                user = await self._sync(provider, user, claims, token_groups)
                groups = user.groups
            else:
                groups = groups | frozenset(token_groups)
        return Principal(
            username=user.name,
            key=user.key,
            display_name=user.display_name,
            email=user.email,
            groups=groups,
            admin=user.admin,
            scopes=scopes_from(claims),
            method=validated.method,
            provider=provider.name,
            client_id=client_id,
            expires_at=validated.expires_at,
            jkt=confirmation.jkt,
            x5t=confirmation.x5t,
            acr=sign_in.acr,
            amr=sign_in.amr,
            auth_time=sign_in.auth_time,
        )

    async def _service_user(self, provider: ProviderSettings, client_id: str) -> UserRecord:
        name = provider.client_users.get(client_id)
        if name is None:
            raise InvalidToken(f"The client {client_id} is not mapped to a Jira user")
        user = await self.users.get(name)
        if user is None:
            raise InvalidToken(f"The service user {name} of client {client_id} does not exist")
        return user

    async def _user(
        self, provider: ProviderSettings, username: str, claims: Mapping[str, Any]
    ) -> UserRecord:
        if provider.lookup == "email":
            matches = await self.users.find_by_email(username)
            if len(matches) > 1:
                raise InvalidToken("The token's e-mail address matches several Jira users")
            user = matches[0] if matches else None
        else:
            user = await self.users.get(username)
        if user is None and self.create_users:
            user = await self._create(username, claims)
        if user is None and self.directory_optional:
            user = _from_claims(username, claims)
        if user is None:
            raise InvalidToken(f"No Jira user is named {username}")
        if self.unreachable is not None and user.name.lower() == self.unreachable:
            raise InvalidToken(
                f"The Jira user {user.name} is jiraguard's bootstrap administrator: provider "
                "tokens cannot act as it (admin.bootstrap_reachable_by_tokens)",
                username=user.name,
            )
        return user

    async def _sync(
        self,
        provider: ProviderSettings,
        user: UserRecord,
        claims: Mapping[str, Any],
        groups: list[str],
    ) -> UserRecord:
        name, email = claims.get("name"), claims.get("email")
        managed = set(provider.group_mapping.values())
        synced = await self.users.sync(
            user.name,
            display_name=name if isinstance(name, str) and name else None,
            email=email if isinstance(email, str) else None,
            groups=groups,
            managed=managed,
        )
        return synced or user

    async def _create(self, username: str, claims: Mapping[str, Any]) -> UserRecord | None:
        name = claims.get("name")
        email = claims.get("email")
        try:
            return await self.users.add(
                username,
                display_name=name if isinstance(name, str) and name else username,
                email=email if isinstance(email, str) else "",
            )
        except UserExists:  # created by a concurrent request
            return await self.users.get(username)


def unreachable_admin(settings: Settings) -> str | None:
    """The user name provider tokens may not reach (the bootstrap administrator), or None."""
    if settings.admin.bootstrap_reachable_by_tokens or not settings.tokens.enabled:
        return None
    return settings.tokens.bootstrap_admin
