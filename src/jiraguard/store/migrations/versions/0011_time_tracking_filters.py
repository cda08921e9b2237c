"""time tracking on issues (original and remaining estimates, time spent) and saved filters

``issues`` gains columns with plain ``ADD COLUMN`` (no SQLite "batch" recreation), so the
FTS5 triggers of migration 0003 stay in place. ``time_spent`` starts as the sum of the
worklogs already logged.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TIME_COLUMNS = ("original_estimate", "remaining_estimate", "time_spent")


def upgrade() -> None:
    for name in TIME_COLUMNS:
        op.add_column("issues", sa.Column(name, sa.Integer, nullable=True))
    op.execute(
        "UPDATE issues SET time_spent = (SELECT sum(time_spent_seconds) FROM worklogs "
        "WHERE worklogs.issue_id = issues.id)"
    )
    op.create_table(
        "filters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "owner_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("lower_name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("jql", sa.Text, nullable=False),
        sa.Column("favourite", sa.Boolean, nullable=False),
        sa.UniqueConstraint("owner_id", "lower_name"),
    )


def downgrade() -> None:
    op.drop_table("filters")
    # Without "batch": SQLite 3.35+ drops a column in place, keeping the FTS5 triggers.
    for name in reversed(TIME_COLUMNS):
        op.drop_column("issues", name)
