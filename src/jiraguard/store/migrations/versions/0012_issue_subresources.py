"""an issue's watchers, voters, remote links and entity properties

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PEOPLE = ("issue_watchers", "issue_voters")


def _issue_id(*, primary_key: bool = False) -> sa.Column[int]:
    return sa.Column(
        "issue_id",
        sa.Integer,
        sa.ForeignKey("issues.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def upgrade() -> None:
    for name in PEOPLE:
        op.create_table(
            name,
            _issue_id(primary_key=True),
            sa.Column(
                "user_id",
                sa.Integer,
                sa.ForeignKey("users.id", ondelete="CASCADE"),
                primary_key=True,
            ),
        )
        op.create_index(f"ix_{name}_user_id", name, ["user_id"])
    op.create_table(
        "remote_links",
        sa.Column("id", sa.Integer, primary_key=True),
        _issue_id(),
        sa.Column("global_id", sa.String(255), nullable=True),
        sa.Column("document", sa.Text, nullable=False),
    )
    op.create_index("ix_remote_links_issue_global_id", "remote_links", ["issue_id", "global_id"])
    op.create_table(
        "issue_properties",
        _issue_id(primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("issue_properties")
    op.drop_index("ix_remote_links_issue_global_id", table_name="remote_links")
    op.drop_table("remote_links")
    for name in reversed(PEOPLE):
        op.drop_index(f"ix_{name}_user_id", table_name=name)
        op.drop_table(name)
