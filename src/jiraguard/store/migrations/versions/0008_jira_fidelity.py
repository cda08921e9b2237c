"""jira fidelity: comment visibility (a group or a project role may see the comment), a
project's default assignee

``comments`` gains columns with plain ``ADD COLUMN`` (no SQLite "batch" recreation), so the
FTS5 triggers of migration 0003 stay in place.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("comments", sa.Column("visibility_type", sa.String(16), nullable=True))
    op.add_column("comments", sa.Column("visibility_value", sa.String(255), nullable=True))
    op.add_column(
        "projects",
        sa.Column("assignee_type", sa.String(16), nullable=False, server_default="UNASSIGNED"),
    )


def downgrade() -> None:
    op.drop_column("projects", "assignee_type")
    # Without "batch": SQLite 3.35+ drops a column in place, keeping the FTS5 triggers.
    op.drop_column("comments", "visibility_value")
    op.drop_column("comments", "visibility_type")
