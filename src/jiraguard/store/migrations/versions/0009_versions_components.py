"""versions and components of a project, and the issues that name them (``fixVersions``,
``versions``, ``components``)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ASSOCIATIONS = (
    ("issue_fix_versions", "version"),
    ("issue_affected_versions", "version"),
    ("issue_components", "component"),
)


def upgrade() -> None:
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("lower_name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("archived", sa.Boolean, nullable=False),
        sa.Column("released", sa.Boolean, nullable=False),
        sa.Column("start_date", sa.Date, nullable=True),
        sa.Column("release_date", sa.Date, nullable=True),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.UniqueConstraint("project_id", "lower_name"),
    )
    op.create_table(
        "components",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "project_id",
            sa.Integer,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("lower_name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column(
            "lead_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("assignee_type", sa.String(16), nullable=False),
        sa.UniqueConstraint("project_id", "lower_name"),
    )
    for name, target in ASSOCIATIONS:
        op.create_table(
            name,
            sa.Column(
                "issue_id",
                sa.Integer,
                sa.ForeignKey("issues.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column(
                f"{target}_id",
                sa.Integer,
                sa.ForeignKey(f"{target}s.id", ondelete="CASCADE"),
                primary_key=True,
            ),
        )
        op.create_index(f"ix_{name}_{target}_id", name, [f"{target}_id"])


def downgrade() -> None:
    for name, target in reversed(ASSOCIATIONS):
        op.drop_index(f"ix_{name}_{target}_id", table_name=name)
        op.drop_table(name)
    op.drop_table("components")
    op.drop_table("versions")
