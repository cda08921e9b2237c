"""tokens and audit: personal access tokens (hashes only) and the audit log

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_accessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_personal_tokens_user", "personal_tokens", ["user_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False, server_default="auth"),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(1024), nullable=False, server_default=""),
        sa.Column("method", sa.String(16), nullable=False, server_default=""),
        sa.Column("path", sa.String(2048), nullable=False, server_default=""),
        sa.Column("client_ip", sa.String(64), nullable=True),
        sa.Column("username", sa.String(255), nullable=True),
        sa.Column("provider", sa.String(64), nullable=True),
        sa.Column("auth_method", sa.String(32), nullable=True),
        sa.Column("client_id", sa.String(255), nullable=True),
        sa.Column("token_id", sa.String(64), nullable=True),
        sa.Column("fingerprint", sa.String(16), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_username_at", "audit_events", ["username", "at"])
    op.create_index("ix_audit_events_allowed_at", "audit_events", ["allowed", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_allowed_at", "audit_events")
    op.drop_index("ix_audit_events_username_at", "audit_events")
    op.drop_index("ix_audit_events_at", "audit_events")
    op.drop_table("audit_events")
    op.drop_index("ix_personal_tokens_user", "personal_tokens")
    op.drop_table("personal_tokens")
