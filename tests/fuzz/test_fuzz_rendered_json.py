"""``dump_rendered_json`` writes what ``dump_json`` writes, byte for byte, or fails as it does.

Issue GET and search serialise through orjson; their bodies must stay those of the standard
library's encoder. Checked on every kind of value a rendered issue holds (strings with any
character, control characters and lone surrogates included, integers of any size, booleans,
null, nesting) and on what orjson refuses (keys that are not strings, huge integers).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiraguard.responses import dump_json, dump_rendered_json
from tests.fuzz.support import HOSTILE_TEXT, fuzz

pytestmark = pytest.mark.fuzz

TEXT = st.one_of(HOSTILE_TEXT, st.text(max_size=40))
"""Any character, surrogates and controls included, and the hostile ones of the fuzz kit."""
RECORD_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    TEXT,
)
RECORD_VALUE = st.recursive(
    RECORD_SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(TEXT, inner, max_size=5),
        st.dictionaries(st.integers(-5, 5), inner, max_size=3),  # json.dumps makes them str
    ),
    max_leaves=30,
)


def _outcome(dump: Any, value: Any) -> tuple[str, bytes | type[BaseException]]:
    try:
        return "wrote", dump(value)
    except Exception as exc:  # the kind of failure is what is compared
        return "failed", type(exc)


@fuzz(1500)
@given(RECORD_VALUE)
def test_the_same_bytes_or_the_same_failure(value: Any) -> None:
    assert _outcome(dump_rendered_json, value) == _outcome(dump_json, value)


@dataclass
class _Record:
    name: str


@pytest.mark.parametrize("value", [datetime(2026, 1, 2, tzinfo=UTC), _Record("a"), {1.5: "x"}])
def test_what_the_standard_encoder_refuses_stays_refused(value: Any) -> None:
    """orjson would write datetimes and dataclasses its own way; they go to json.dumps."""
    assert _outcome(dump_rendered_json, value) == _outcome(dump_json, value)
