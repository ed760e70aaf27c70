"""Feedback after delivery: bounce reports and complaints are delivery attempts of their own kind, with the
class of the bounce and the enhanced status code; returned messages are found by their Message-ID.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=False, server_default="relay"))
        batch_op.add_column(sa.Column("bounce_class", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("status_code", sa.String(length=16), nullable=True))
    op.create_index("ix_deliveries_message_id", "deliveries", ["message_id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_message_id", table_name="deliveries")
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_column("status_code")
        batch_op.drop_column("bounce_class")
        batch_op.drop_column("kind")
