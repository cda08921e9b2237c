"""audit_events.last_fingerprint: refusals aggregated per flush window keep the first and the
last token fingerprint

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as table:
        table.add_column(sa.Column("last_fingerprint", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as table:
        table.drop_column("last_fingerprint")
