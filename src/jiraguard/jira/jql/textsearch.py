"""JQL's ``~`` (CONTAINS) over summary, description, comments and ``text``.

Jira's text search is word based and case-insensitive (Atlassian, "Search syntax for text
fields"): every word of the value must occur, in any order; a trailing ``*`` makes a word
a prefix; a value quoted again inside its quotes (``summary ~ '"login page"'``) is a
phrase, its words adjacent and in order. A leading wildcard is an error, as in Jira. Words
are not stemmed: "crash" does not find "crashes", "crash*" does. A term with punctuation
(``parser.py``, ``v1.2.3``) finds itself on both databases; its parts alone (``parser``)
find it on SQLite only, where PostgreSQL indexes such terms whole, much as Jira's Lucene
does.

Each database answers from the full-text indexes of migration 0003: FTS5 tables on SQLite,
GIN indexes on ``to_tsvector('simple', ...)`` on PostgreSQL. The search words are always
bound parameters; only fixed SQL fragments are written here. Comments are searched only
among those the searcher's :class:`~jiraguard.store.comments.Audience` may read, so a
restricted comment never makes an issue match for someone who cannot see it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    any_,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    union,
)
from sqlalchemy.sql.elements import ColumnClause

from jiraguard.jira.jql.errors import JQLError
from jiraguard.store.comments import PUBLIC, Audience
from jiraguard.store.models import Comment, Issue

Target = Literal["summary", "description", "text", "comment"]

# A word is a run of letters and digits, as FTS5's unicode61 tokenizer splits text.
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words that must occur together, in order: one search term as written."""

    source: str
    """The term as written, without its wildcard (``parser.py`` for ``parser.py*``)."""
    words: tuple[str, ...]
    """Its words, lower case (``parser``, ``py``)."""
    prefix: bool = False
    """The last word is a prefix (``word*``)."""


def phrases(value: str, field: str) -> tuple[Phrase, ...]:
    """What a ``~`` value asks for: every term (or the one quoted phrase) must occur."""
    text = value.strip()
    quoted = len(text) > 1 and text[0] == text[-1] == '"'
    terms = [text[1:-1]] if quoted else text.split()
    found: list[Phrase] = []
    for term in terms:
        if term.lstrip()[:1] in ("*", "?"):
            raise JQLError(
                f"The text query '{value}' for field '{field}' is not allowed to start with "
                f"a wildcard."
            )
        source = term.rstrip("*")
        words = tuple(word.lower() for word in _WORD.findall(source))
        if words:
            found.append(Phrase(source, words, prefix=term.endswith("*")))
    if not found:
        raise JQLError(f"The field '{field}' does not support searching for an empty string.")
    return tuple(found)


def contains(
    dialect: str,
    target: Target,
    terms: tuple[Phrase, ...],
    *,
    probe: bool = False,
    audience: Audience = PUBLIC,
) -> ColumnElement[bool]:
    """A condition on ``issues`` true when ``target`` contains every phrase of ``terms``
    (in a comment ``audience`` may read, for ``comment`` and ``text``).

    ``probe`` (SQLite only) is for a page query walking an index in ORDER BY order: the
    matching ids are then tested row by row instead of driving the query.
    """
    if dialect == "sqlite":
        return _sqlite(target, terms, probe, audience)
    if dialect == "postgresql":
        return _postgresql(target, terms, audience)
    raise JQLError(f"Text search is not available on {dialect}.")  # pragma: no cover


# --- SQLite: FTS5 external-content tables ------------------------------------------------

_issues_fts = table(
    "issues_fts", column("rowid", Integer), column("summary"), column("description")
)
_comments_fts = table("comments_fts", column("rowid", Integer), column("body"))


def _fts5_query(terms: tuple[Phrase, ...]) -> str:
    # FTS5 query syntax: "a b" is a phrase, "a b"* ends in a prefix, AND requires both.
    # Words hold only letters and digits, so quoting them cannot be escaped from.
    return " AND ".join(f'"{" ".join(t.words)}"' + ("*" if t.prefix else "") for t in terms)


def _sqlite_ids(
    target: Target, terms: tuple[Phrase, ...], audience: Audience
) -> tuple[Select[Any], ...]:
    """Lists of the matching issues' ids: from the issue index, then from the comments'."""
    query = _fts5_query(terms)
    whole_row: ColumnClause[str] = literal_column("issues_fts")  # MATCH on the table: any column
    in_issues = {
        "summary": _issues_fts.c.summary,
        "description": _issues_fts.c.description,
        "text": whole_row,
    }
    commented = select(Comment.issue_id).where(
        Comment.id.in_(
            select(_comments_fts.c.rowid).where(literal_column("comments_fts").match(query))
        ),
        audience.condition(),
    )
    if target == "comment":
        return (commented,)
    issues = select(_issues_fts.c.rowid).where(in_issues[target].match(query))
    return (issues, commented) if target == "text" else (issues,)


def _sqlite(
    target: Target, terms: tuple[Phrase, ...], probe: bool, audience: Audience
) -> ColumnElement[bool]:
    # "issues.id + 0" cannot use the rowid, so SQLite keeps walking the ORDER BY index and
    # stops after one page, instead of looking up every match and sorting them all: 48 ms
    # against 16 ms for a word in half of 100,000 issues, 11 ms when no issue matches.
    issue_id: ColumnElement[int] = Issue.id + literal_column("0") if probe else Issue.id.expression
    # Id lists joined by OR, not a UNION: SQLite probes both without building (and
    # de-duplicating) a third.
    return or_(*(issue_id.in_(ids) for ids in _sqlite_ids(target, terms, audience)))


def count_matches(
    dialect: str, target: Target, terms: tuple[Phrase, ...], *, audience: Audience = PUBLIC
) -> Select[Any] | None:
    """A faster count for a query that is one ``~`` clause, where the database has one.

    SQLite counts the ids its FTS5 indexes list (their triggers keep them equal to the
    tables') instead of looking up every matching issue: 17 ms against 72 ms for a word
    in half of 100,000 issues. PostgreSQL's plain count is already the faster: ``None``.
    """
    if dialect != "sqlite":
        return None
    # Each issue counts once: UNION merges the lists; one issue may have many comments.
    lists = _sqlite_ids(target, terms, audience)
    ids: Select[Any] | CompoundSelect[Any] = lists[0]
    if len(lists) > 1:
        ids = union(*lists)
    elif target == "comment":
        ids = lists[0].distinct()
    return select(func.count()).select_from(ids.subquery())


# --- PostgreSQL: GIN expression indexes ------------------------------------------------

_SIMPLE: ColumnClause[Any] = literal_column("'simple'::regconfig")


def _tsvector(document: Any) -> ColumnElement[Any]:
    return func.to_tsvector(_SIMPLE, document)


def _documents() -> dict[str, Any]:
    # Exactly the expressions of migration 0003's indexes: constants as SQL literals, not
    # parameters, or the planner cannot match the index.
    description = func.coalesce(Issue.description, literal_column("''"))
    return {
        "summary": Issue.summary,
        "description": description,
        "text": Issue.summary.op("||")(literal_column("' '")).op("||")(description),
    }


def _tsquery(terms: tuple[Phrase, ...]) -> Any:
    """All terms as one tsquery, each term parsed by PostgreSQL's own parser.

    ``phraseto_tsquery`` splits a term as ``to_tsvector`` split the documents, so
    ``parser.py``, ``v1.2.3`` or ``bob@example.com`` stay the one lexeme they are in the
    index. A prefix term is spelled out instead: 'word':* for the last word, <-> between
    words; its words hold only letters and digits, so the quoting cannot be escaped from.
    """
    queries: list[ColumnElement[Any]] = []
    for term in terms:
        if term.prefix:
            lexemes = [f"'{word}'" for word in term.words]
            lexemes[-1] += ":*"
            queries.append(func.to_tsquery(_SIMPLE, " <-> ".join(lexemes)))
        else:
            queries.append(func.phraseto_tsquery(_SIMPLE, term.source))
    return functools.reduce(lambda left, right: left.op("&&")(right), queries)


def _postgresql(
    target: Target, terms: tuple[Phrase, ...], audience: Audience
) -> ColumnElement[bool]:
    tsquery = _tsquery(terms)
    # "id = ANY(ARRAY(SELECT ...))": the commented issues' ids computed once (an InitPlan);
    # the planner can OR it with the GIN index scan, or test it row by row while it walks
    # the ORDER BY index, where "IN (SELECT ...)" would force a hash join over all matches.
    commented = select(Comment.issue_id).where(
        _tsvector(Comment.body).bool_op("@@")(tsquery), audience.condition()
    )
    in_comments = Issue.id == any_(func.array(commented.scalar_subquery()))
    if target == "comment":
        return in_comments
    in_fields = _tsvector(_documents()[target]).bool_op("@@")(tsquery)
    return or_(in_fields, in_comments) if target == "text" else in_fields


# --- Custom text fields: the index of migration 0013 ---------------------------------------

_values_fts = table("custom_values_fts", column("rowid", Integer))


def value_contains(dialect: str, value_id: Any, text: Any, terms: tuple[Phrase, ...]) -> Any:
    """A condition on ``custom_field_values`` rows (``value_id``, ``text``: their id and
    ``text_value`` columns) true when the text contains every phrase of ``terms``."""
    if dialect == "sqlite":
        matching = select(_values_fts.c.rowid).where(
            literal_column("custom_values_fts").match(_fts5_query(terms))
        )
        return value_id.in_(matching)
    if dialect == "postgresql":
        # The expression of migration 0013's GIN index, repeated so the planner uses it.
        return _tsvector(text).bool_op("@@")(_tsquery(terms))
    raise JQLError(f"Text search is not available on {dialect}.")  # pragma: no cover
