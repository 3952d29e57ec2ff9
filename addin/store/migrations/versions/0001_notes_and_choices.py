"""Private notes and sticky contact choices.

Revision ID: 0001
Revises:
Create Date: 2026-11-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "private_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("user_oid", sa.String(64), nullable=False),
        sa.Column("environment_id", sa.String(200), nullable=False),
        sa.Column("contact_id", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_private_notes_owner_contact",
        "private_notes",
        ["tenant_id", "user_oid", "contact_id"],
    )
    op.create_table(
        "contact_choices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("user_oid", sa.String(64), nullable=False),
        sa.Column("environment_id", sa.String(200), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("contact_id", sa.String(200), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "user_oid", "environment_id", "address", name="uq_contact_choice"
        ),
    )


def downgrade() -> None:
    op.drop_table("contact_choices")
    op.drop_index("ix_private_notes_owner_contact", table_name="private_notes")
    op.drop_table("private_notes")
