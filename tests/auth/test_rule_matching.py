"""Access rules are tried as the configuration lists them: the first whose conditions match
decides. The policy only tries the rules a request's method can match, and matches a rule's
path globs as one compiled pattern; both must decide exactly as trying every rule in order
with :func:`fnmatch.fnmatchcase` would."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from jiraguard.auth.errors import AuthError
from jiraguard.auth.policy import Policy
from jiraguard.auth.principal import Principal
from jiraguard.auth.ratelimit import MemoryRateLimiter
from jiraguard.settings import AuthSettings, RateLimits, Rule
from tests.fuzz.support import fuzz

METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE"]
GROUPS = ["dev", "ops", "qa"]
SCOPES = ["read", "write"]
# Globs over a small alphabet, so that paths hit them; the glob syntax fnmatch knows included.
GLOB = st.text(st.sampled_from("ab/*?[]!-"), min_size=1, max_size=6).map(lambda g: "/" + g)
PATH = st.text(st.sampled_from("ab/-[]!*?"), max_size=8).map(lambda p: "/" + p)

RULES = st.lists(
    st.builds(
        dict,
        methods=st.lists(st.sampled_from(METHODS), unique=True, max_size=2),
        paths=st.lists(GLOB, max_size=3),
        groups=st.lists(st.sampled_from(GROUPS), unique=True, max_size=1),
        action=st.sampled_from(["allow", "deny"]),
        require_groups=st.lists(st.sampled_from(GROUPS), unique=True, max_size=1),
        require_scopes=st.lists(st.sampled_from(SCOPES), unique=True, max_size=2),
    ),
    max_size=8,
)


def _reference(
    rules: list[Rule], principal: Principal, method: str, path: str, default: str
) -> str:
    """The first rule whose conditions hold, every rule tried in order: its verdict."""
    for rule in rules:
        if rule.methods and method not in rule.methods:
            continue
        if rule.paths and not any(fnmatchcase(path, glob) for glob in rule.paths):
            continue
        if rule.groups and principal.groups.isdisjoint(rule.groups):
            continue
        if rule.action == "deny":
            return f"{rule.name}: refused"
        if rule.require_groups and principal.groups.isdisjoint(rule.require_groups):
            return f"{rule.name}: refused"
        if not set(rule.require_scopes) <= principal.scopes:
            return f"{rule.name}: refused"
        return f"{rule.name}: admitted"
    return "default: refused" if default == "deny" else "default: admitted"


def _decided(policy: Policy, principal: Principal, method: str, path: str) -> str:
    try:
        compiled = policy.authorize(principal, method, path, "127.0.0.1")
    except AuthError as exc:
        why: str = getattr(exc, "decided_by", "")
        return (why.split("'")[1] if "'" in why else "default") + ": refused"
    return f"{compiled.rule.name}: admitted" if compiled is not None else "default: admitted"


@fuzz(ci_examples=400)
@given(
    raw=RULES,
    method=st.sampled_from([*METHODS, "PATCH", "OPTIONS"]),
    path=PATH,
    groups=st.frozensets(st.sampled_from(GROUPS)),
    scopes=st.frozensets(st.sampled_from(SCOPES)),
    default=st.sampled_from(["allow", "deny"]),
)
def test_the_first_matching_rule_decides_as_in_order_matching_would(
    raw: list[dict[str, Any]],
    method: str,
    path: str,
    groups: frozenset[str],
    scopes: frozenset[str],
    default: str,
) -> None:
    rules = [Rule(name=f"r{i}", **fields) for i, fields in enumerate(raw)]
    auth = AuthSettings(default_policy=default)
    policy = Policy(auth, rules, RateLimits(), MemoryRateLimiter())
    principal = Principal("u", "u", "U", "u@x", groups=groups, scopes=scopes)
    assert _decided(policy, principal, method, path) == _reference(
        rules, principal, method, path, default
    )


@given(glob=GLOB, path=PATH)
@fuzz(ci_examples=400)
def test_a_rules_compiled_paths_match_as_fnmatchcase(glob: str, path: str) -> None:
    rule = Rule(name="r", paths=[glob, "/zz*"])
    policy = Policy(AuthSettings(default_policy="deny"), [rule], RateLimits(), MemoryRateLimiter())
    matched = policy.rules[0].matches("GET", path, None, frozenset())
    assert matched == (fnmatchcase(path, glob) or fnmatchcase(path, "/zz*"))
