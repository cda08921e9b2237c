"""Text to ``syntax.Query``: Lark's LALR(1) parser over ``grammar.lark``.

Lark's exceptions are translated here, once, into ``JQLError`` with Jira's wording and
position ("Error in the JQL Query: ... (line 1, character N)"; characters count from 1).
"""

from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
    VisitError,
)

from jiraguard.jira.jql.errors import JQLError, syntax_error
from jiraguard.jira.jql.reserved import RESERVED_WORDS
from jiraguard.jira.jql.syntax import (
    And,
    Clause,
    Condition,
    Empty,
    FunctionCall,
    Literal,
    Not,
    Operand,
    Or,
    Query,
    SortKey,
    Value,
)

GRAMMAR = Path(__file__).with_name("grammar.lark")

VALID_OPERATORS = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
    "'IS' and 'IS NOT'."
)

MAX_DEPTH = 100
"""Nesting allowed; deeper queries would exhaust the stack compiling them to SQL."""
TOO_DEEP = f"The query nests parentheses or NOT more than {MAX_DEPTH} levels deep."

# Jira's string escapes ("Advanced searching", "Restricted characters"): \" \' \\ \t \n \r,
# an escaped space and \uXXXX.
ESCAPES = {'"': '"', "'": "'", "\\": "\\", "t": "\t", "n": "\n", "r": "\r", " ": " "}


@cache
def _lark() -> Lark:
    return Lark(
        GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        maybe_placeholders=True,
        lexer_callbacks={"UNQUOTED": _not_reserved},
    )


def _not_reserved(token: Token) -> Token:
    """Reject a bare reserved word as the lexer meets it, before it confuses the parser."""
    if token.value.lower() in RESERVED_WORDS:
        raise syntax_error(
            f"'{token.value}' is a reserved JQL word. You must surround it in quotation "
            "marks to use it in a query.",
            token.line,
            token.column,
        )
    return token


KEPT_QUERIES = 256
"""Parsed queries this process keeps, by text (a client repeats its searches)."""
KEPT_LENGTH = 2000
"""Queries longer than this are parsed every time, so what is kept stays small."""


def parse(jql: str) -> Query:
    """Parse a JQL query; blank text is the empty query (every issue, default order).

    The syntax tree is immutable, so a query met again is not parsed again; one Jira would
    refuse raises every time."""
    if len(jql) <= KEPT_LENGTH:
        return _parse_kept(jql)
    return _parse(jql)


def _parse(jql: str) -> Query:
    try:
        tree = _lark().parse(jql)
        query = _ToSyntax().transform(tree)
    except UnexpectedInput as exc:
        raise _translate(exc, jql) from exc
    except VisitError as exc:
        # The callbacks raise JQLError (bad escapes); Lark wraps it.
        if isinstance(exc.orig_exc, JQLError):
            raise exc.orig_exc from None
        raise
    except RecursionError:
        # Lark's tree walk recurses once per level: hundreds of nested parentheses or NOTs.
        raise syntax_error(TOO_DEEP) from None
    assert isinstance(query, Query)
    if _depth(query.where) > MAX_DEPTH:
        raise syntax_error(TOO_DEEP)
    return query


_parse_kept = lru_cache(maxsize=KEPT_QUERIES)(_parse)


def _depth(condition: Condition | None) -> int:
    """How many AND, OR and NOT levels ``condition`` nests (iteratively: it may be deep)."""
    deepest = 0
    pending: list[tuple[Condition, int]] = [(condition, 0)] if condition is not None else []
    while pending:
        node, level = pending.pop()
        if isinstance(node, And | Or):
            pending.extend((term, level + 1) for term in node.terms)
        elif isinstance(node, Not):
            pending.append((node.term, level + 1))
        deepest = max(deepest, level)
    return deepest


def unescape(token: Token) -> str:
    """The text of a quoted string without its quotes, escapes resolved."""
    body = token.value[1:-1]
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        following = body[index + 1 : index + 2]
        if following in ESCAPES:
            out.append(ESCAPES[following])
            index += 2
        elif following == "u" and _is_hex(body[index + 2 : index + 6]):
            out.append(chr(int(body[index + 2 : index + 6], 16)))
            index += 6
        else:
            raise syntax_error(
                f"Illegal escape sequence '\\{following}' in the string '{body}'.",
                token.line,
                (token.column or 0) + 1 + index,
            )
    return "".join(out)


def _is_hex(text: str) -> bool:
    return len(text) == 4 and all(c in "0123456789abcdefABCDEF" for c in text)


@v_args(inline=True)
class _ToSyntax(Transformer[Token, object]):
    """Lark's tree to ``syntax`` nodes; checks reserved words on the way."""

    def start(self, where: Condition | None, order_by: tuple[SortKey, ...] | None) -> Query:
        return Query(where, order_by or ())

    def or_(self, *terms: Condition) -> Condition:
        return terms[0] if len(terms) == 1 else Or(terms)

    def and_(self, *terms: Condition) -> Condition:
        return terms[0] if len(terms) == 1 else And(terms)

    def not_(self, term: Condition) -> Condition:
        return Not(term)

    def compare(self, field: str, operator: Token, operand: Value) -> Clause:
        return Clause(field, operator.value, operand)

    def in_(self, field: str, _in: Token, values: tuple[Value, ...] | FunctionCall) -> Clause:
        return Clause(field, "in", values if isinstance(values, tuple) else (values,))

    def not_in(
        self, field: str, _not: Token, _in: Token, values: tuple[Value, ...] | FunctionCall
    ) -> Clause:
        return Clause(field, "not in", values if isinstance(values, tuple) else (values,))

    def is_(self, field: str, _is: Token, empty: Empty) -> Clause:
        return Clause(field, "is", empty)

    def is_not(self, field: str, _is: Token, _not: Token, empty: Empty) -> Clause:
        return Clause(field, "is not", empty)

    def field(self, name: Literal) -> str:
        return name.text

    def list(self, *values: Value) -> tuple[Value, ...]:
        return values

    def function(self, name: Literal, *arguments: str | None) -> FunctionCall:
        return FunctionCall(name.text, tuple(a for a in arguments if a is not None))

    def argument(self, name: Literal) -> str:
        return name.text

    def name(self, token: Token) -> Literal:
        if token.type == "STRING":
            return Literal(unescape(token), quoted=True)
        return Literal(token.value)

    def empty(self, _token: Token) -> Empty:
        return Empty()

    def order_by(self, _order: Token, _by: Token, *keys: SortKey) -> tuple[SortKey, ...]:
        return keys

    def sort_key(self, name: Literal, direction: Token | None) -> SortKey:
        return SortKey(name.text, direction is not None and direction.type == "DESC")


def _translate(exc: UnexpectedInput, jql: str) -> JQLError:
    """Lark's parse error as Jira words it (the "Error in the JQL Query" family)."""
    line, column = exc.line, exc.column
    if isinstance(exc, UnexpectedCharacters):
        position = exc.pos_in_stream or 0
        char = jql[position : position + 1]
        if char in ('"', "'"):
            rest = jql[position:]
            return syntax_error(f"The quoted string {rest} has not been completed.", line, column)
        return syntax_error(
            f"The character '{char}' is a reserved JQL character. You must enclose it in a "
            f"string or use the escape '\\u{ord(char):04x}' instead.",
            line,
            column,
        )
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        expected = set(exc.accepts or exc.expected)
        at_end = token.type == "$END"
        if at_end:
            line, column = _end_position(jql)
        got = "before the end of the query" if at_end else f"but got '{token.value}'"
        if _in_order_by(exc) and "STRING" in expected:
            return syntax_error(f"Expecting a field name {got}.", line, column)
        return syntax_error(f"{_expectation(expected)} {got}.{_hint(expected)}", line, column)
    if isinstance(exc, UnexpectedEOF):  # pragma: no cover - LALR reports $END as a token
        return syntax_error("Unexpected end of the query.")
    return syntax_error(str(exc).splitlines()[0], line, column)  # pragma: no cover


def _in_order_by(exc: UnexpectedToken) -> bool:
    """Whether the parser had read ``ORDER`` when it failed (so a name is a sort field)."""
    parser = exc.interactive_parser
    stack = parser.parser_state.value_stack if parser is not None else []
    return any(isinstance(item, Token) and item.type == "ORDER" for item in stack)


def _expectation(expected: set[str]) -> str:
    if "OPERATOR" in expected:
        return "Expecting operator"
    if {"EMPTY", "STRING"} <= expected:
        return "Expecting either a value, list or function"
    if expected == {"LPAR"}:
        return "Expecting '('"
    if {"EMPTY", "NOT"} <= expected:
        return "Expecting 'EMPTY' or 'NOT'"
    if expected == {"EMPTY", "NULL"}:
        return "Expecting 'EMPTY'"
    if expected == {"BY"}:
        return "Expecting 'by'"
    if expected == {"IN"}:
        return "Expecting 'IN'"
    if "ASC" in expected:
        return "Expecting either 'ASC', 'DESC' or ','"
    if "COMMA" in expected and "RPAR" in expected:
        return "Expecting ')' or ','"
    if {"STRING", "LPAR", "_NOT"} <= expected:
        return "Expecting a field name"
    if {"STRING", "LPAR"} <= expected:
        return "Expecting either a list or a function"
    if "_AND" in expected or "$END" in expected:
        return "Expecting ')'" if "RPAR" in expected else "Expecting either 'OR' or 'AND'"
    if "RPAR" in expected:
        return "Expecting ')'"
    if "STRING" in expected:
        return "Expecting a value"
    return "Unexpected input"


def _hint(expected: set[str]) -> str:
    return f" {VALID_OPERATORS}" if "OPERATOR" in expected else ""


def _end_position(jql: str) -> tuple[int, int]:
    lines = jql.split("\n")
    return len(lines), len(lines[-1]) + 1


def as_values(operand: Operand) -> tuple[Value, ...]:
    """The values of an operand: the list of ``IN``, or the one value otherwise."""
    return operand if isinstance(operand, tuple) else (operand,)
