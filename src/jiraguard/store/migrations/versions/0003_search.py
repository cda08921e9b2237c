"""search: full-text indexes for JQL's ``~`` (summary, description, text, comment)

SQLite: FTS5 external-content tables over issues(summary, description) and comments(body),
kept in sync by triggers. PostgreSQL: GIN indexes on ``to_tsvector('simple', ...)`` with
exactly the expressions ``jiraguard.jira.jql.textsearch`` queries (the planner only uses an
expression index when the query repeats the expression).

The ORM does not map these objects. A later SQLite "batch" migration that recreates
``issues`` or ``comments`` drops their triggers and must create them again.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# unicode61 folds case; accents stay (remove_diacritics 0) as with PostgreSQL's 'simple'
# configuration, so both databases find the same issues.
SQLITE_UP = [
    """CREATE VIRTUAL TABLE issues_fts USING fts5(
        summary, description, content='issues', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0')""",
    """CREATE TRIGGER issues_fts_insert AFTER INSERT ON issues BEGIN
        INSERT INTO issues_fts(rowid, summary, description)
        VALUES (new.id, new.summary, new.description);
    END""",
    """CREATE TRIGGER issues_fts_delete AFTER DELETE ON issues BEGIN
        INSERT INTO issues_fts(issues_fts, rowid, summary, description)
        VALUES ('delete', old.id, old.summary, old.description);
    END""",
    """CREATE TRIGGER issues_fts_update AFTER UPDATE OF summary, description ON issues BEGIN
        INSERT INTO issues_fts(issues_fts, rowid, summary, description)
        VALUES ('delete', old.id, old.summary, old.description);
        INSERT INTO issues_fts(rowid, summary, description)
        VALUES (new.id, new.summary, new.description);
    END""",
    "INSERT INTO issues_fts(issues_fts) VALUES ('rebuild')",
    """CREATE VIRTUAL TABLE comments_fts USING fts5(
        body, content='comments', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0')""",
    """CREATE TRIGGER comments_fts_insert AFTER INSERT ON comments BEGIN
        INSERT INTO comments_fts(rowid, body) VALUES (new.id, new.body);
    END""",
    """CREATE TRIGGER comments_fts_delete AFTER DELETE ON comments BEGIN
        INSERT INTO comments_fts(comments_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END""",
    """CREATE TRIGGER comments_fts_update AFTER UPDATE OF body ON comments BEGIN
        INSERT INTO comments_fts(comments_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO comments_fts(rowid, body) VALUES (new.id, new.body);
    END""",
    "INSERT INTO comments_fts(comments_fts) VALUES ('rebuild')",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS comments_fts_update",
    "DROP TRIGGER IF EXISTS comments_fts_delete",
    "DROP TRIGGER IF EXISTS comments_fts_insert",
    "DROP TABLE IF EXISTS comments_fts",
    "DROP TRIGGER IF EXISTS issues_fts_update",
    "DROP TRIGGER IF EXISTS issues_fts_delete",
    "DROP TRIGGER IF EXISTS issues_fts_insert",
    "DROP TABLE IF EXISTS issues_fts",
]

# The 'simple' configuration lower-cases words and neither stems nor drops stop words, so
# it matches what FTS5's unicode61 tokenizer does on SQLite.
POSTGRESQL_UP = [
    "CREATE INDEX ix_issues_summary_fts ON issues "
    "USING gin (to_tsvector('simple'::regconfig, summary))",
    "CREATE INDEX ix_issues_description_fts ON issues "
    "USING gin (to_tsvector('simple'::regconfig, coalesce(description, '')))",
    "CREATE INDEX ix_issues_text_fts ON issues "
    "USING gin (to_tsvector('simple'::regconfig, summary || ' ' || coalesce(description, '')))",
    "CREATE INDEX ix_comments_body_fts ON comments "
    "USING gin (to_tsvector('simple'::regconfig, body))",
]

POSTGRESQL_DOWN = [
    "DROP INDEX IF EXISTS ix_comments_body_fts",
    "DROP INDEX IF EXISTS ix_issues_text_fts",
    "DROP INDEX IF EXISTS ix_issues_description_fts",
    "DROP INDEX IF EXISTS ix_issues_summary_fts",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_UP)
    elif dialect == "postgresql":
        _run(POSTGRESQL_UP)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(POSTGRESQL_DOWN)
