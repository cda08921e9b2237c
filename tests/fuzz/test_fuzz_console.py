"""Fuzz what the admin console reads from tokens and requests: a refused token's claims
(mismatches, username candidates), request paths rendered in the audit tables, the chart of
whatever the audit log holds. None may raise, hang or let markup through."""

from __future__ import annotations

import html
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from jiraguard.admin.ui.charts import decisions_chart
from jiraguard.admin.ui.claims import mismatches, plausible_username
from jiraguard.admin.ui.render import path_breaks
from jiraguard.admin.ui.testing import claim_paths
from jiraguard.settings import ProviderSettings
from jiraguard.store.audit import MinuteCount
from tests.fuzz.support import HOSTILE_TEXT, JSON_VALUE, bounded, fuzz

PROVIDER = ProviderSettings(
    name="corp", method="jwt", issuer="https://idp.example.com", audience=["jira"], leeway=30
)


@fuzz(300)
@given(HOSTILE_TEXT)
def test_paths_are_escaped_and_only_gain_word_breaks(path: str) -> None:
    with bounded(path):
        rendered = str(path_breaks(path))
    assert "<" not in rendered.replace("<wbr>", "")
    assert html.unescape(rendered.replace("<wbr>", "")) == path


@fuzz(300)
@given(st.dictionaries(HOSTILE_TEXT, JSON_VALUE, max_size=6), st.sampled_from(["rejected", "x"]))
def test_any_claims_give_candidates_and_mismatches_without_raising(
    claims: dict[str, Any], outcome: str
) -> None:
    report = {
        "outcome": outcome,
        "attempts": [{"provider": "corp", "outcome": "rejected", "mismatches": [
            {"claim": "aud", "token": claims.get("aud"), "expected": ["jira"]}]}],
        "issuer": {"token": claims.get("iss"), "configured": {"corp": PROVIDER.issuer}},
    }  # fmt: skip
    with bounded(claims):
        for claim in claim_paths(claims):
            plausible_username(claim["path"], claim["value"])
        found = mismatches(report, claims, [PROVIDER], now=1e9)
    assert all(isinstance(v, str) for v in found.values())


@fuzz(200)
@given(
    st.lists(
        st.builds(
            MinuteCount,
            st.integers(-10, 70).map(lambda m: 1_000_000 - m),
            st.booleans(),
            st.sampled_from([200, 400, 401, 403, 429, 503, 999]),
            HOSTILE_TEXT,
            st.integers(0, 10**9),
        ),
        max_size=40,
    )
)
def test_the_decisions_chart_draws_any_counts_inside_its_box(counts: list[MinuteCount]) -> None:
    with bounded(counts):
        chart = decisions_chart(counts, 1_000_000 * 60 + 59)
    for bar in chart.bars:
        assert 0 <= bar.x < 600
        assert -1e-6 <= bar.y <= 160
        assert 0 < bar.height <= 160 + 1e-6
