"""The JQL parser: the tree valid queries give, and Jira's message for each syntax error.

Syntax per Atlassian's "Advanced searching - keywords reference" (docs/jira-compat.md §7);
error texts per docs/jira-compat.md §6 ("Error in the JQL Query: ... (line L, character C)").
"""

from __future__ import annotations

import contextlib
import random

import pytest

from jiraguard.jira.jql import JQLError, parse, parser
from jiraguard.jira.jql.syntax import (
    And,
    Clause,
    Empty,
    FunctionCall,
    Literal,
    Not,
    Or,
    Query,
    SortKey,
)


def eq(field: str, value: str, *, quoted: bool = False) -> Clause:
    return Clause(field, "=", Literal(value, quoted))


@pytest.mark.parametrize(
    ("jql", "expected"),
    [
        ("", Query()),
        ("  \n ", Query()),
        ("project = P1", Query(eq("project", "P1"))),
        (
            "project = P1 AND status = Open ORDER BY created DESC",
            Query(
                And((eq("project", "P1"), eq("status", "Open"))),
                (SortKey("created", descending=True),),
            ),
        ),
        ("a = b and c = d", Query(And((eq("a", "b"), eq("c", "d"))))),
        ("a = b AnD c = d", Query(And((eq("a", "b"), eq("c", "d"))))),
        ("a = b && c = d", Query(And((eq("a", "b"), eq("c", "d"))))),
        ("a = b || c = d", Query(Or((eq("a", "b"), eq("c", "d"))))),
        (
            "a = b or c = d and e = f",
            Query(Or((eq("a", "b"), And((eq("c", "d"), eq("e", "f")))))),
        ),
        (
            "(a = b or c = d) and e = f",
            Query(And((Or((eq("a", "b"), eq("c", "d"))), eq("e", "f")))),
        ),
        ("not a = b", Query(Not(eq("a", "b")))),
        ("! a = b", Query(Not(eq("a", "b")))),
        ("NOT (a = b)", Query(Not(eq("a", "b")))),
        ('status = "In Progress"', Query(eq("status", "In Progress", quoted=True))),
        ("status = 'In Progress'", Query(eq("status", "In Progress", quoted=True))),
        (r'summary ~ "say \"hi\""', Query(Clause("summary", "~", Literal('say "hi"', True)))),
        (r"summary ~ 'it\'s'", Query(Clause("summary", "~", Literal("it's", True)))),
        (r'summary ~ "a\\b\u0041"', Query(Clause("summary", "~", Literal("a\\bA", True)))),
        ('labels = "true"', Query(eq("labels", "true", quoted=True))),
        ('"status" = Open', Query(eq("status", "Open"))),
        ("a != b", Query(Clause("a", "!=", Literal("b")))),
        ("a!=b", Query(Clause("a", "!=", Literal("b")))),
        ("a !~ b", Query(Clause("a", "!~", Literal("b")))),
        ("a >= -7d", Query(Clause("a", ">=", Literal("-7d")))),
        ("a<2024/01/05", Query(Clause("a", "<", Literal("2024/01/05")))),
        ("key = P1-5", Query(eq("key", "P1-5"))),
        ("assignee = john.smith@example.com", Query(eq("assignee", "john.smith@example.com"))),
        (
            "status in (Open, 'In Progress', Reopened)",
            Query(
                Clause(
                    "status",
                    "in",
                    (Literal("Open"), Literal("In Progress", True), Literal("Reopened")),
                )
            ),
        ),
        ("a NOT IN (b, EMPTY)", Query(Clause("a", "not in", (Literal("b"), Empty())))),
        (
            "assignee in membersOf('dev team')",
            Query(Clause("assignee", "in", (FunctionCall("membersOf", ("dev team",)),))),
        ),
        ("a is empty", Query(Clause("a", "is", Empty()))),
        ("a IS NULL", Query(Clause("a", "is", Empty()))),
        ("a is not EMPTY", Query(Clause("a", "is not", Empty()))),
        ("a = EMPTY", Query(Clause("a", "=", Empty()))),
        ("assignee = currentUser()", Query(Clause("assignee", "=", FunctionCall("currentUser")))),
        (
            "created > startOfDay(-1d)",
            Query(Clause("created", ">", FunctionCall("startOfDay", ("-1d",)))),
        ),
        (
            'created > startOfMonth("-1")',
            Query(Clause("created", ">", FunctionCall("startOfMonth", ("-1",)))),
        ),
        ("android = notes", Query(eq("android", "notes"))),
        ("ordered = isolated", Query(eq("ordered", "isolated"))),
        ("ORDER BY key", Query(None, (SortKey("key"),))),
        (
            "order by priority desc, key ASC, created",
            Query(None, (SortKey("priority", True), SortKey("key"), SortKey("created"))),
        ),
    ],
)
def test_valid_queries(jql: str, expected: Query) -> None:
    assert parse(jql) == expected


VALID_OPERATORS = (
    " The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
    "'IS' and 'IS NOT'."
)


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        (
            "a = True",
            "'True' is a reserved JQL word. You must surround it in quotation marks to use it "
            "in a query. (line 1, character 5)",
        ),
        (
            "select = b",
            "'select' is a reserved JQL word. You must surround it in quotation marks to use "
            "it in a query. (line 1, character 1)",
        ),
        (
            "a in (b, null, and)",
            "'and' is a reserved JQL word. You must surround it in quotation marks to use it "
            "in a query. (line 1, character 16)",
        ),
        ('a = "b', 'The quoted string "b has not been completed. (line 1, character 5)'),
        ("a = 'b c", "The quoted string 'b c has not been completed. (line 1, character 5)"),
        ("a = b c", "Expecting either 'OR' or 'AND' but got 'c'. (line 1, character 7)"),
        ("a = b)", "Expecting either 'OR' or 'AND' but got ')'. (line 1, character 6)"),
        (
            "a =",
            "Expecting either a value, list or function before the end of the query. "
            "(line 1, character 4)",
        ),
        ("a b", "Expecting operator but got 'b'." + VALID_OPERATORS + " (line 1, character 3)"),
        (
            "a",
            "Expecting operator before the end of the query."
            + VALID_OPERATORS
            + " (line 1, character 2)",
        ),
        ("a in b", "Expecting '(' before the end of the query. (line 1, character 7)"),
        ("a in = b", "Expecting either a list or a function but got '='. (line 1, character 6)"),
        ("a in (b c)", "Expecting ')' or ',' but got 'c'. (line 1, character 9)"),
        ("a is foo", "Expecting 'EMPTY' or 'NOT' but got 'foo'. (line 1, character 6)"),
        ("(a = b", "Expecting ')' before the end of the query. (line 1, character 7)"),
        ("a = b order x", "Expecting 'by' but got 'x'. (line 1, character 13)"),
        (
            "a = b order by c d",
            "Expecting either 'ASC', 'DESC' or ',' but got 'd'. (line 1, character 18)",
        ),
        ("= b", "Expecting a field name but got '='. (line 1, character 1)"),
        ("a = b AND", "Expecting a field name before the end of the query. (line 1, character 10)"),
        ("a = b\nAND = c", "Expecting a field name but got '='. (line 2, character 5)"),
        (
            "a = b order by",
            "Expecting a field name before the end of the query. (line 1, character 15)",
        ),
        ("a not b", "Expecting 'IN' but got 'b'. (line 1, character 7)"),
        ("a = f(x,)", "Expecting a value but got ')'. (line 1, character 9)"),
        (
            "a = b and and c = d",
            "'and' is a reserved JQL word. You must surround it in quotation marks to use it "
            "in a query. (line 1, character 11)",
        ),
        (r'a = "\q"', r"Illegal escape sequence '\q' in the string '\q'. (line 1, character 6)"),
    ],
)
def test_syntax_errors_name_the_position(jql: str, message: str) -> None:
    with pytest.raises(JQLError) as caught:
        parse(jql)
    assert str(caught.value) == f"Error in the JQL Query: {message}"


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    """A query nested too deeply for the stack gets a JQL error (a 400), not a 500."""
    parse("not " * 100 + "a = b")
    for jql in ("not " * 101 + "a = b", "(" * 2000 + "a = b" + ")" * 2000):
        with pytest.raises(JQLError, match="more than 100 levels deep"):
            parse(jql)


PIECES = [
    "project", "status", "=", "!=", "~", "<=", ">", "in", "not", "is", "empty", "null",
    "and", "or", "order", "by", "asc", "desc", "(", ")", ",", '"quoted', '"text"', "'x'",
    "\\", "currentUser()", "now(", "-7d", "P1-5", "true", "&&", "||", "!", "%", "*", "\n",
]  # fmt: skip


def test_any_input_parses_or_raises_jql_error() -> None:
    """Random token soup (seeded): the parser never raises anything but JQLError."""
    rnd = random.Random(7262937)
    for _ in range(3000):
        jql = " ".join(rnd.choices(PIECES, k=rnd.randint(1, 12)))
        with contextlib.suppress(JQLError):
            parse(jql)


def test_a_query_met_again_is_kept_and_a_refused_one_refused_again() -> None:
    text = "project = KEPT AND status = Open ORDER BY created DESC"
    assert parse(text) is parse(text)
    long = "summary ~ " + '"' + "x" * parser.KEPT_LENGTH + '"'
    assert parse(long) == parse(long)
    assert parse(long) is not parse(long)  # too long to keep: parsed each time
    for _ in range(2):
        with pytest.raises(JQLError):
            parse("project = KEPT AND")
