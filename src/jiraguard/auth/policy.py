"""Step 4 of the request path: may this principal do this request?

Three questions, each answered from configuration compiled once at start:

* **Basic authentication**: blocked by default; exceptions by user, group, path glob or client
  network; a report-only mode lets it through but logs and counts what would be blocked.
* **Access rules**: an ordered list; the first rule whose conditions match decides (see
  :class:`~jiraguard.settings.Rule`). No match: ``auth.default_policy``.
* **Rate limits**: per user, per client, per token, and per rule.

A rule may also ask how the token is held and how its user signed in: sender-constrained
(DPoP-bound or certificate-bound, checked by :mod:`.sender` before this step), and step-up
(RFC 9470): ``acr`` one of some values, ``amr`` containing methods, ``auth_time`` recent
enough. Failing those is 401 (``invalid_token``; ``insufficient_user_authentication`` with
``acr_values``/``max_age``), so a client knows to get another token, not that it is refused.

A refusal of a known, authenticated user is 403 (``insufficient_scope`` when a scope is what is
missing), never 401 and never 400; too many requests is 429.
"""

from __future__ import annotations

import enum
import fnmatch
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from ipaddress import ip_address

from jiraguard.auth.errors import (
    AuthError,
    Forbidden,
    InsufficientScope,
    InsufficientUserAuthentication,
    InvalidToken,
    RateLimited,
)
from jiraguard.auth.principal import Principal
from jiraguard.auth.ratelimit import RateLimiter, headers
from jiraguard.settings import AuthSettings, Network, RateLimits, Rule, parse_rate

log = logging.getLogger("jiraguard.policy")

_FORBIDDEN = "You do not have the permission to use this resource."


class BasicVerdict(enum.Enum):
    ALLOW = "allow"
    """Not blocked, or an exception applies before we know the user's groups."""
    BLOCK = "block"
    """Blocked and no exception can apply: refuse without checking the password."""
    CHECK_GROUPS = "check_groups"
    """Blocked unless the authenticated user is in an exception group."""
    REPORT = "report"
    """Blocked in report-only mode: let it through, count and log it."""


def _in_networks(address: str | None, networks: Sequence[Network]) -> bool:
    if address is None or not networks:
        return False
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in networks)


def _globs_match(path: str, globs: Sequence[str]) -> bool:
    return any(fnmatchcase(path, glob) for glob in globs)


@dataclass(frozen=True, slots=True)
class _CompiledRule:
    rule: Rule
    methods: frozenset[str]
    groups: frozenset[str]
    limit: tuple[int, float] | None
    paths: Callable[[str], object] | None = None
    """The ``paths`` globs as one compiled pattern's ``fullmatch`` (None: any path)."""
    step_up: bool = False
    """Whether the rule asks anything of the sign-in (``require_acr``/``amr``/``max_auth_age``)."""

    @classmethod
    def of(cls, rule: Rule) -> _CompiledRule:
        paths = None
        if rule.paths:  # fnmatchcase's own translation, every glob in one pattern
            paths = re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in rule.paths))
        return cls(
            rule,
            frozenset(rule.methods),
            frozenset(rule.groups),
            parse_rate(rule.rate_limit) if rule.rate_limit else None,
            paths.fullmatch if paths is not None else None,
            bool(rule.require_acr or rule.require_amr or rule.max_auth_age is not None),
        )

    def matches(self, method: str, path: str, address: str | None, groups: frozenset[str]) -> bool:
        if self.methods and method not in self.methods:
            return False
        if self.paths is not None and not self.paths(path):
            return False
        rule = self.rule
        if rule.networks and not _in_networks(address, rule.networks):
            return False
        return not self.groups or not self.groups.isdisjoint(groups)


class Policy:
    """The compiled access policy of one configuration."""

    def __init__(
        self,
        auth: AuthSettings,
        rules: Sequence[Rule],
        limits: RateLimits,
        limiter: RateLimiter,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.auth = auth
        self.clock = clock
        self.exceptions = auth.basic_exceptions
        self._exception_users = frozenset(u.lower() for u in self.exceptions.users)
        self._exception_groups = frozenset(self.exceptions.groups)
        self.rules = [_CompiledRule.of(rule) for rule in rules]
        methods = {method for compiled in self.rules for method in compiled.methods}
        self._by_method = {
            method: [c for c in self.rules if not c.methods or method in c.methods]
            for method in methods
        }
        """The rules a request of each method named by some rule can match, in order."""
        self._any_method = [c for c in self.rules if not c.methods]
        """Those a request of any other method can match."""
        self.public_rules = any(r.rule.action == "public" for r in self.rules)
        self.limiter = limiter
        self._limits = [
            (kind, parse_rate(value))
            for kind, value in (
                ("user", limits.per_user),
                ("client", limits.per_client),
                ("token", limits.per_token),
            )
            if value
        ]
        self.basic_reported: Counter[str] = Counter()
        """Basic requests let through by report-only mode, by user name."""
        self.admits_all = not self.rules and not self._limits and auth.default_policy != "deny"
        """No rule, no rate limit and an allowing default: :meth:`authorize` admits every
        authenticated request and :meth:`limit` has nothing to count."""

    # Basic authentication ---------------------------------------------------------------

    def basic(self, username: str, path: str, address: str | None) -> BasicVerdict:
        if not self.auth.block_basic:
            return BasicVerdict.ALLOW
        exceptions = self.exceptions
        if (
            username.lower() in self._exception_users
            or _globs_match(path, exceptions.paths)
            or _in_networks(address, exceptions.networks)
        ):
            return BasicVerdict.ALLOW
        if self._exception_groups:
            return BasicVerdict.CHECK_GROUPS
        return BasicVerdict.REPORT if self.auth.basic_report_only else BasicVerdict.BLOCK

    def basic_group_exempt(self, principal: Principal) -> bool:
        return not self._exception_groups.isdisjoint(principal.groups)

    def report_basic(self, username: str, method: str, path: str) -> None:
        self.basic_reported[username] += 1
        log.warning(
            "report-only: Basic authentication by %s for %s %s would have been blocked",
            username,
            method,
            path,
        )

    # Access rules ------------------------------------------------------------------------

    def is_public(self, method: str, path: str, address: str | None) -> bool:
        """Whether the first matching rule for this anonymous request is a public one."""
        for compiled in self.rules:
            if compiled.rule.action == "public":
                if compiled.matches(method, path, address, frozenset()):
                    return True
            elif not compiled.groups and compiled.matches(method, path, address, frozenset()):
                return False  # an earlier non-public rule matches every caller here
        return False

    def authorize(
        self, principal: Principal, method: str, path: str, address: str | None
    ) -> _CompiledRule | None:
        """The rule that admits the request (None: admitted by default); raises on refusal."""
        for compiled in self._by_method.get(method, self._any_method):
            if not compiled.matches(method, path, address, principal.groups):
                continue
            rule = compiled.rule
            if rule.action == "deny":
                raise _refused(Forbidden(_FORBIDDEN), f"rule '{rule.name}' denies it")
            if rule.action == "public":
                return compiled
            if rule.deny_groups and not principal.groups.isdisjoint(rule.deny_groups):
                groups = ", ".join(sorted(principal.groups & set(rule.deny_groups)))
                raise _refused(
                    Forbidden(_FORBIDDEN), f"rule '{rule.name}' denies the group(s) {groups}"
                )
            if rule.require_groups and principal.groups.isdisjoint(rule.require_groups):
                raise _refused(
                    Forbidden(_FORBIDDEN),
                    f"rule '{rule.name}' requires one of the groups "
                    f"{', '.join(rule.require_groups)}",
                )
            scopes = rule.require_scopes
            if scopes and not principal.scopes.issuperset(scopes):
                missing = [s for s in scopes if s not in principal.scopes]
                scope = InsufficientScope(
                    f"The token lacks the scope {' '.join(missing)}", " ".join(rule.require_scopes)
                )
                raise _refused(
                    scope, f"rule '{rule.name}' requires the scope(s) {' '.join(missing)}"
                )
            if rule.require_sender_constrained and principal.jkt is None and principal.x5t is None:
                refusal = InvalidToken(
                    "This request needs a sender-constrained token (DPoP-bound, or bound to "
                    "the client certificate)"
                )
                raise _refused(refusal, f"rule '{rule.name}' requires a sender-constrained token")
            if compiled.step_up:
                self._step_up(rule, principal)
            return compiled
        if self.auth.default_policy == "deny":
            raise _refused(Forbidden(_FORBIDDEN), "no rule matches: auth.default_policy = deny")
        return None

    def admits(self, principal: Principal, method: str, path: str, address: str | None) -> bool:
        """Whether :meth:`authorize` lets this request through (the rate limits aside): what
        the embedded API's ``mypermissions`` reports for the caller's own token."""
        try:
            self.authorize(principal, method, path, address)
        except AuthError:
            return False
        return True

    def admits_groups(self, groups: frozenset[str], method: str, path: str) -> bool:
        """Whether a user in ``groups`` may make this request, as far as the user decides it:
        rules on methods, paths and groups. What depends on the token or the connection
        (scopes, sender constraints, sign-in strength, client networks) is not known for a
        user who is not the caller, so rules that need a network never match here and token
        requirements count as met (``/user/viewissue/search`` uses this)."""
        for compiled in self.rules:
            if compiled.rule.networks or not compiled.matches(method, path, None, groups):
                continue
            rule = compiled.rule
            if rule.action == "deny":
                return False
            if rule.action == "public":
                return True
            if rule.deny_groups and not groups.isdisjoint(rule.deny_groups):
                return False
            return not (rule.require_groups and groups.isdisjoint(rule.require_groups))
        return self.auth.default_policy != "deny"

    def _step_up(self, rule: Rule, principal: Principal) -> None:
        """RFC 9470 §3: what the token's sign-in lacks for this rule, as one challenge."""
        lacking: list[str] = []
        if rule.require_acr and principal.acr not in rule.require_acr:
            lacking.append(f"an acr of {', '.join(rule.require_acr)}")
        missing = [m for m in rule.require_amr if m not in principal.amr]
        if missing:
            lacking.append(f"the authentication method(s) {', '.join(missing)}")
        age = rule.max_auth_age
        if age is not None and (
            principal.auth_time is None or self.clock() - principal.auth_time > age
        ):
            lacking.append(f"a sign-in within the last {age:g} seconds")
        if lacking:
            error = InsufficientUserAuthentication(
                "Authentication is not strong or recent enough: this needs " + "; ".join(lacking),
                acr_values=" ".join(rule.require_acr) or None,
                max_age=int(age) if age is not None else None,
            )
            raise _refused(error, f"rule '{rule.name}' requires {'; '.join(lacking)}")

    # Rate limits -------------------------------------------------------------------------

    def limits(self, rule: _CompiledRule | None) -> bool:
        """Whether any rate limit applies to a request admitted by ``rule`` (else
        :meth:`limit` has nothing to count)."""
        return bool(self._limits) or (rule is not None and rule.limit is not None)

    async def limit(self, principal: Principal, rule: _CompiledRule | None) -> None:
        """Count the request against every applicable bucket; 429 when one is empty."""
        checks: list[tuple[str, tuple[int, float]]] = []
        for kind, rate in self._limits:
            key: str | None
            if kind == "user":
                key = principal.key
            elif kind == "client":
                key = principal.client_id
            else:
                key = principal.fingerprint or principal.token_id
            if key is not None:
                checks.append((f"{kind}:{key}", rate))
        if rule is not None and rule.limit is not None:
            checks.append((f"rule:{rule.rule.name}:{principal.key}", rule.limit))
        for key, (count, period) in checks:
            verdict = await self.limiter.hit(key, count, period)
            if not verdict.allowed:
                raise RateLimited("Rate limit exceeded. Try again later.", headers(verdict))


def _refused(error: AuthError, why: str) -> AuthError:
    error.decided_by = why
    return error
