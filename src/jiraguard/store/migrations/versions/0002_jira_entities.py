"""jira entities

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("project_type_key", sa.String(length=32), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("issue_counter", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("summary", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("issuetype_id", sa.Integer(), nullable=False),
        sa.Column("status_id", sa.Integer(), nullable=False),
        sa.Column("priority_id", sa.Integer(), nullable=True),
        sa.Column("resolution_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("creator_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["reporter_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
        sa.UniqueConstraint("project_id", "number"),
    )
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.create_index("ix_issues_assignee", ["assignee_id"], unique=False)
        batch_op.create_index("ix_issues_created", ["created_at"], unique=False)
        batch_op.create_index(
            "ix_issues_project_status_created",
            ["project_id", "status_id", "created_at"],
            unique=False,
        )
        batch_op.create_index("ix_issues_reporter", ["reporter_id"], unique=False)
        batch_op.create_index("ix_issues_updated", ["updated_at"], unique=False)

    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("mime_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_issue_id"), ["issue_id"], unique=False)

    op.create_table(
        "change_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("change_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_groups_issue_id"), ["issue_id"], unique=False)

    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("update_author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["update_author_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comments_issue_id"), ["issue_id"], unique=False)

    op.create_table(
        "issue_labels",
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("issue_id", "label"),
    )
    with op.batch_alter_table("issue_labels", schema=None) as batch_op:
        batch_op.create_index("ix_issue_labels_label", ["label"], unique=False)

    op.create_table(
        "issue_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_type_id", sa.Integer(), nullable=False),
        sa.Column("inward_issue_id", sa.Integer(), nullable=False),
        sa.Column("outward_issue_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["inward_issue_id"], ["issues.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["outward_issue_id"], ["issues.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("issue_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_issue_links_inward_issue_id"), ["inward_issue_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_issue_links_outward_issue_id"), ["outward_issue_id"], unique=False
        )

    op.create_table(
        "worklogs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("update_author_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_spent_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["update_author_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("worklogs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worklogs_issue_id"), ["issue_id"], unique=False)

    op.create_table(
        "change_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=255), nullable=False),
        sa.Column("from_value", sa.Text(), nullable=True),
        sa.Column("from_string", sa.Text(), nullable=True),
        sa.Column("to_value", sa.Text(), nullable=True),
        sa.Column("to_string", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["group_id"], ["change_groups.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("change_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_items_group_id"), ["group_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("change_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_items_group_id"))

    op.drop_table("change_items")
    with op.batch_alter_table("worklogs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worklogs_issue_id"))

    op.drop_table("worklogs")
    with op.batch_alter_table("issue_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issue_links_outward_issue_id"))
        batch_op.drop_index(batch_op.f("ix_issue_links_inward_issue_id"))

    op.drop_table("issue_links")
    with op.batch_alter_table("issue_labels", schema=None) as batch_op:
        batch_op.drop_index("ix_issue_labels_label")

    op.drop_table("issue_labels")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_issue_id"))

    op.drop_table("comments")
    with op.batch_alter_table("change_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_groups_issue_id"))

    op.drop_table("change_groups")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_issue_id"))

    op.drop_table("attachments")
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.drop_index("ix_issues_updated")
        batch_op.drop_index("ix_issues_reporter")
        batch_op.drop_index("ix_issues_project_status_created")
        batch_op.drop_index("ix_issues_created")
        batch_op.drop_index("ix_issues_assignee")

    op.drop_table("issues")
    op.drop_table("projects")
