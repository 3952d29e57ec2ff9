"""The rep's connected CRM environment and the environments used most recently.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_connections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("user_oid", sa.String(64), nullable=False),
        sa.Column("crm", sa.String(40), nullable=False),
        sa.Column("environment_id", sa.String(200), nullable=True),
        sa.Column("signed_out", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant_id", "user_oid", name="uq_crm_connection"),
    )
    op.create_table(
        "environment_uses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("user_oid", sa.String(64), nullable=False),
        sa.Column("crm", sa.String(40), nullable=False),
        sa.Column("environment_id", sa.String(200), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "tenant_id", "user_oid", "crm", "environment_id", name="uq_environment_use"
        ),
    )


def downgrade() -> None:
    op.drop_table("environment_uses")
    op.drop_table("crm_connections")
