"""Safety alerts: the ministry's feed entries and the places they concern, the places each subscriber does
business in, every poll of the feed, an issue's kind (magazine or alert) and an issue item that is an alert.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20)


def _strings(length: int, *names: str) -> list[sa.Column[str]]:
    return [sa.Column(name, sa.String(length=length), nullable=False) for name in names]


def _texts(*names: str) -> list[sa.Column[str]]:
    return [sa.Column(name, sa.Text(), nullable=False) for name in names]


def _alerts() -> None:
    op.create_table(
        "safety_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        *_strings(64, "key"),
        *_strings(8, "info_type"),
        *_strings(200, "info_name"),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        *_texts("title", "lead", "main_text"),
        *_strings(500, "url"),
        *_strings(16, "mission_code"),
        *_strings(200, "mission_name"),
        sa.Column("risk_levels", sa.JSON(), nullable=False),
        sa.Column("infection_levels", sa.JSON(), nullable=False),
        *_strings(10, "change"),
        *_strings(30, "rule"),
        sa.Column("action", _enum("alertaction", "now", "digest", "record"), nullable=False),
        sa.Column("state", _enum("alertstate", "waiting", "issued", "digested", "recorded"), nullable=False),
        *_texts("note"),
        *_strings(500, "feed_url"),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_alerts")),
        sa.UniqueConstraint("key", name=op.f("uq_safety_alerts_key")),
    )
    op.create_table(
        "safety_alert_places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        *_strings(8, "area_code", "country_code"),
        *_strings(200, "name"),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["safety_alerts.id"],
            name=op.f("fk_safety_alert_places_alert_id_safety_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_safety_alert_places")),
    )
    op.create_index(op.f("ix_safety_alert_places_alert_id"), "safety_alert_places", ["alert_id"])
    op.create_index("ix_safety_alert_places_place", "safety_alert_places", ["area_code", "country_code"])


def _subscriber_places() -> None:
    op.create_table(
        "subscriber_places",
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        *_strings(8, "area_code", "country_code"),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscribers.id"],
            name=op.f("fk_subscriber_places_subscriber_id_subscribers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscriber_id", "area_code", "country_code", name=op.f("pk_subscriber_places")),
    )
    op.create_index("ix_subscriber_places_place", "subscriber_places", ["area_code", "country_code"])


def _polls() -> None:
    op.create_table(
        "alert_polls",
        sa.Column("id", sa.Integer(), nullable=False),
        *_strings(500, "url"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        *_strings(20, "result"),
        sa.Column("http_status", sa.Integer(), nullable=True),
        *_strings(200, "etag"),
        *_strings(100, "last_modified"),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("new", sa.Integer(), nullable=False),
        *_texts("detail"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_polls")),
    )
    op.create_index(op.f("ix_alert_polls_url"), "alert_polls", ["url"])


def upgrade() -> None:
    _alerts()
    _subscriber_places()
    _polls()
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", _enum("issuekind", "magazine", "alert"), nullable=False, server_default="magazine")
        )
    with op.batch_alter_table("issue_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alert_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_issue_items_alert_id_safety_alerts"), "safety_alerts", ["alert_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("issue_items", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_issue_items_alert_id_safety_alerts"), type_="foreignkey")
        batch_op.drop_column("alert_id")
    with op.batch_alter_table("issues", schema=None) as batch_op:
        batch_op.drop_column("kind")
    op.drop_table("alert_polls")
    op.drop_table("subscriber_places")
    op.drop_table("safety_alert_places")
    op.drop_table("safety_alerts")
