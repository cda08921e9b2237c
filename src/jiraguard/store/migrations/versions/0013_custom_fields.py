"""custom fields: their definitions, the options of selects, the values issues hold, and
the changelog's ``fieldtype``

SQLite: an FTS5 external-content table over ``custom_field_values(text_value)`` kept in
sync by triggers, as migration 0003 does for issues. PostgreSQL: a GIN index on exactly the
expression ``jiraguard.jira.jql.custom_fields`` queries.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

VALUE_INDEXES = (
    ("ix_custom_field_values_issue", ["issue_id", "field_id"]),
    ("ix_custom_field_values_option", ["field_id", "option_id", "issue_id"]),
    ("ix_custom_field_values_number", ["field_id", "number_value", "issue_id"]),
    ("ix_custom_field_values_string", ["field_id", "string_value", "issue_id"]),
    ("ix_custom_field_values_date", ["field_id", "date_value", "issue_id"]),
    ("ix_custom_field_values_datetime", ["field_id", "datetime_value", "issue_id"]),
    ("ix_custom_field_values_user", ["field_id", "user_id", "issue_id"]),
)

SQLITE_UP = [
    """CREATE VIRTUAL TABLE custom_values_fts USING fts5(
        text_value, content='custom_field_values', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0')""",
    """CREATE TRIGGER custom_values_fts_insert AFTER INSERT ON custom_field_values
    WHEN new.text_value IS NOT NULL BEGIN
        INSERT INTO custom_values_fts(rowid, text_value) VALUES (new.id, new.text_value);
    END""",
    """CREATE TRIGGER custom_values_fts_delete AFTER DELETE ON custom_field_values
    WHEN old.text_value IS NOT NULL BEGIN
        INSERT INTO custom_values_fts(custom_values_fts, rowid, text_value)
        VALUES ('delete', old.id, old.text_value);
    END""",
    """CREATE TRIGGER custom_values_fts_update AFTER UPDATE OF text_value ON custom_field_values
    BEGIN
        INSERT INTO custom_values_fts(custom_values_fts, rowid, text_value)
        SELECT 'delete', old.id, old.text_value WHERE old.text_value IS NOT NULL;
        INSERT INTO custom_values_fts(rowid, text_value)
        SELECT new.id, new.text_value WHERE new.text_value IS NOT NULL;
    END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS custom_values_fts_update",
    "DROP TRIGGER IF EXISTS custom_values_fts_delete",
    "DROP TRIGGER IF EXISTS custom_values_fts_insert",
    "DROP TABLE IF EXISTS custom_values_fts",
]
POSTGRESQL_UP = [
    "CREATE INDEX ix_custom_field_values_text_fts ON custom_field_values "
    "USING gin (to_tsvector('simple'::regconfig, text_value))",
]
POSTGRESQL_DOWN = ["DROP INDEX IF EXISTS ix_custom_field_values_text_fts"]


def upgrade() -> None:
    op.create_table(
        "custom_fields",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("lower_name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("type_key", sa.String(64), nullable=False),
        sa.Column("searcher_key", sa.String(64), nullable=True),
    )
    op.create_index("ix_custom_fields_lower_name", "custom_fields", ["lower_name"])
    op.create_table(
        "custom_field_options",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column(
            "field_id",
            sa.Integer,
            sa.ForeignKey("custom_fields.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("lower_value", sa.String(255), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.UniqueConstraint("field_id", "lower_value"),
    )
    op.create_index("ix_custom_field_options_field_id", "custom_field_options", ["field_id"])
    op.create_table(
        "custom_field_values",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "issue_id",
            sa.Integer,
            sa.ForeignKey("issues.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "field_id",
            sa.Integer,
            sa.ForeignKey("custom_fields.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("text_value", sa.Text, nullable=True),
        sa.Column("string_value", sa.String(255), nullable=True),
        sa.Column("number_value", sa.Float, nullable=True),
        sa.Column("date_value", sa.Date, nullable=True),
        sa.Column("datetime_value", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "option_id",
            sa.Integer,
            sa.ForeignKey("custom_field_options.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=True,
        ),
    )
    for name, columns in VALUE_INDEXES:
        op.create_index(name, "custom_field_values", columns)
    op.add_column("change_items", sa.Column("field_type", sa.String(16), nullable=True))
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_UP, "postgresql": POSTGRESQL_UP}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN}.get(dialect, []):
        op.execute(statement)
    with op.batch_alter_table("change_items") as batch:
        batch.drop_column("field_type")
    for name, _ in reversed(VALUE_INDEXES):
        op.drop_index(name, table_name="custom_field_values")
    op.drop_table("custom_field_values")
    op.drop_index("ix_custom_field_options_field_id", table_name="custom_field_options")
    op.drop_table("custom_field_options")
    op.drop_index("ix_custom_fields_lower_name", table_name="custom_fields")
    op.drop_table("custom_fields")
