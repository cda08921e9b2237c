"""JQL a hostile client may send: generated from the grammar (grammar.lark), then mutated."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.fuzz.support import HOSTILE_TEXT, HUGE_DIGITS, mutated_text

FIELDS = [
    "project", "key", "issuekey", "id", "summary", "description", "text", "comment",
    "status", "statusCategory", "priority", "issuetype", "type", "assignee", "reporter",
    "creator", "labels", "created", "createdDate", "updated", "resolution", "resolutiondate",
    "resolved", "duedate", "due", "fixVersion", "affectedVersion", "component", "cf[10000]",
    "filter", "originalEstimate", "remainingEstimate", "timeSpent", "timeestimate",
    "watcher", "voter", "watchers", "votes",
    "unknownField", "ORDER", "\"quoted field\"",
]  # fmt: skip
OPERATORS = ["=", "!=", "~", "!~", ">", ">=", "<", "<="]
FUNCTIONS = [
    "now", "startOfDay", "endOfDay", "startOfWeek", "endOfWeek", "startOfMonth",
    "endOfMonth", "startOfYear", "endOfYear", "currentUser", "membersOf", "issueHistory",
    "releasedVersions", "unreleasedVersions", "latestReleasedVersion",
    "earliestUnreleasedVersion",
    "nosuchFunction",
]  # fmt: skip
PERIOD = st.builds(
    lambda sign, amount, unit: f"{sign}{amount}{unit}",
    st.sampled_from(["", "-", "+"]),
    st.one_of(st.integers(min_value=0, max_value=400), HUGE_DIGITS),
    st.sampled_from([*"yMwdhm", ""]),
)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


UNQUOTED = st.text(
    st.characters(exclude_characters=" \t\r\n\"'(),=!<>~&|"), min_size=1, max_size=12
)
VALUE = st.one_of(
    UNQUOTED,
    HOSTILE_TEXT.map(_quote),
    PERIOD,
    HUGE_DIGITS,
    HUGE_DIGITS.map(lambda d: f"TEST-{d}"),
    st.sampled_from(
        [
            "TEST-1",
            "FZ-²",
            "TEST-٣",
            "2026-11-28",
            '"9999-12-31"',
            '"0001-01-01"',
            '"2026/02/30 25:61"',
            "EMPTY",
            "null",
            "jira-users",
            "alice",
        ]
    ),
    st.builds(
        lambda f, args: f"{f}({', '.join(args)})",
        st.sampled_from(FUNCTIONS),
        st.lists(st.one_of(PERIOD, UNQUOTED, HOSTILE_TEXT.map(_quote)), max_size=2),
    ),
)


@st.composite
def clause(draw: st.DrawFn) -> str:
    field = draw(st.sampled_from(FIELDS))
    shape = draw(st.sampled_from(["op", "in", "not in", "is", "is not"]))
    if shape == "op":
        return f"{field} {draw(st.sampled_from(OPERATORS))} {draw(VALUE)}"
    if shape in ("in", "not in"):
        values = draw(st.lists(VALUE, min_size=1, max_size=4))
        return f"{field} {shape} ({', '.join(values)})"
    return f"{field} {shape} {draw(st.sampled_from(['EMPTY', 'null', 'x']))}"


def _condition(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda a, b: f"{a} AND {b}", inner, inner),
        st.builds(lambda a, b: f"{a} or {b}", inner, inner),
        inner.map(lambda a: f"NOT {a}"),
        inner.map(lambda a: f"({a})"),
    )


CONDITION = st.recursive(clause(), _condition, max_leaves=6)
ORDER_BY = st.lists(
    st.builds(
        lambda f, d: f"{f} {d}".strip(),
        st.sampled_from(FIELDS),
        st.sampled_from(["", "ASC", "desc"]),
    ),
    max_size=3,
).map(lambda keys: f" ORDER BY {', '.join(keys)}" if keys else "")


@st.composite
def jql(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["generated", "generated", "mutated", "deep", "raw"]))
    if kind == "raw":
        return draw(HOSTILE_TEXT)
    if kind == "deep":
        levels = draw(st.integers(min_value=10, max_value=3000))
        opener = draw(st.sampled_from(["(", "NOT ", "!"]))
        closer = ")" if opener == "(" else ""
        return opener * levels + "key = TEST-1" + closer * levels
    text = draw(CONDITION) + draw(ORDER_BY)
    if kind == "mutated":
        text = draw(mutated_text(text))
    return text


EQUALITY_FIELDS = ["key", "id", "status", "priority", "assignee", "labels", "project", "type"]


@st.composite
def long_chain(draw: st.DrawFn) -> str:
    """What scripts build: hundreds to thousands of clauses joined by one keyword, mostly
    equalities on a few fields (which compile to IN lists), with generated clauses mixed in
    (which cannot be merged and must be grouped or refused)."""
    count = draw(st.integers(min_value=1, max_value=3000))
    joiner = draw(st.sampled_from([" OR ", " or ", " || ", " AND "]))
    fields = draw(st.lists(st.sampled_from(EQUALITY_FIELDS), min_size=1, max_size=3))
    odd = draw(st.lists(clause(), max_size=3))
    every = draw(st.sampled_from([0, 7, 97, 499]))
    terms = []
    for index in range(count):
        if every and odd and index % every == 0:
            terms.append(odd[index % len(odd)])
        else:
            terms.append(f"{fields[index % len(fields)]} = TEST-{index}")
    return joiner.join(terms)
