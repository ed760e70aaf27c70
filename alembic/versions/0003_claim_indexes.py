"""Indexes for claiming at any size: (issue_id, status, id) for claims, (status, claimed_at) for leases.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_issue_id_status")
        batch_op.create_index("ix_deliveries_claim", ["issue_id", "status", "id"], unique=False)
        batch_op.create_index("ix_deliveries_status_claimed_at", ["status", "claimed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status_claimed_at")
        batch_op.drop_index("ix_deliveries_claim")
        batch_op.create_index("ix_deliveries_issue_id_status", ["issue_id", "status"], unique=False)
