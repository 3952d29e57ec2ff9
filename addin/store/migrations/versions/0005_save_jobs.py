"""Save jobs (the queue's source of truth), mailbox checks and reply watches (issue 6).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "save_jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("user_oid", sa.String(64), nullable=False),
        sa.Column("mailbox", sa.String(320), nullable=False),
        sa.Column("crm", sa.String(40), nullable=False),
        sa.Column("environment_id", sa.String(200), nullable=False),
        sa.Column("environment", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("item_key", sa.String(1000), nullable=False),
        sa.Column("message_id", sa.String(1000), nullable=True),
        sa.Column("item_id", sa.String(1000), nullable=False),
        sa.Column("conversation_id", sa.String(1000), nullable=False),
        sa.Column("regarding_type", sa.String(40), nullable=True),
        sa.Column("regarding_id", sa.String(200), nullable=True),
        sa.Column("regarding_name", sa.String(400), nullable=False),
        sa.Column("origin", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("merged_into", sa.String(36), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_token", sa.String(36), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_code", sa.String(60), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=False),
        sa.Column("activity_id", sa.String(200), nullable=False),
        sa.Column("activity_url", sa.String(2000), nullable=False),
        sa.Column("activity_created", sa.Boolean(), nullable=False),
        sa.Column("skipped", sa.Text(), nullable=False),
        sa.Column("crm_requests", sa.Integer(), nullable=False),
        sa.Column("mailbox_requests", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("environment_id", "item_key", name="uq_save_job_item"),
        sa.UniqueConstraint("environment_id", "message_id", name="uq_save_job_message"),
    )
    op.create_index("ix_save_jobs_due", "save_jobs", ["status", "next_attempt_at"])
    op.create_index(
        "ix_save_jobs_conversation", "save_jobs", ["tenant_id", "user_oid", "conversation_id"]
    )
    op.create_table(
        "mailbox_checks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("user_oid", sa.String(64), nullable=False),
        sa.Column("environment_id", sa.String(200), nullable=False),
        sa.Column("server_side_sync", sa.Boolean(), nullable=True),
        sa.Column("track_replies", sa.Boolean(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "user_oid", "environment_id", name="uq_mailbox_check"),
    )
    op.create_table(
        "reply_watches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("user_oid", sa.String(64), nullable=False),
        sa.Column("environment_id", sa.String(200), nullable=False),
        sa.Column("checked_through", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "user_oid", "environment_id", name="uq_reply_watch"),
    )


def downgrade() -> None:
    op.drop_table("reply_watches")
    op.drop_table("mailbox_checks")
    op.drop_index("ix_save_jobs_conversation", table_name="save_jobs")
    op.drop_index("ix_save_jobs_due", table_name="save_jobs")
    op.drop_table("save_jobs")
