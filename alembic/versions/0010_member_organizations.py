"""The member organizations' own side: their profile (greeting, contact, footer, forward-kit sender, monthly
report), the forward kit's downloads, the forwarding they report, and the monthly reports sent to them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FORMATS = ("eml", "html", "text")


def _texts(*names: str) -> list[sa.Column[str]]:
    return [sa.Column(name, sa.Text(), server_default="", nullable=False) for name in names]


def _strings(length: int, *names: str) -> list[sa.Column[str]]:
    return [sa.Column(name, sa.String(length=length), server_default="", nullable=False) for name in names]


def _organization(name: str = "organization_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([name], ["organizations.id"], ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "organization_profiles",
        sa.Column("organization_id", sa.Integer(), nullable=False),
        *_texts("greeting_ja", "greeting_en"),
        *_strings(200, "department_ja", "department_en"),
        *_strings(40, "phone"),
        *_strings(254, "email"),
        *_strings(500, "web_url"),
        *_texts("footer_ja", "footer_en"),
        *_strings(200, "kit_from_name_ja", "kit_from_name_en"),
        *_strings(254, "kit_from_address", "kit_reply_to"),
        sa.Column("monthly_report", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("report_language", sa.String(length=2), server_default="ja", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=200), server_default="", nullable=False),
        _organization(),
        sa.PrimaryKeyConstraint("organization_id"),
    )
    op.create_table(
        "kit_downloads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.Enum(*_FORMATS, name="kitformat", native_enum=False, length=20), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("downloaded_by", sa.String(length=200), nullable=False),
        sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], ondelete="CASCADE"),
        _organization(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kit_downloads_issue_id", "kit_downloads", ["issue_id"])
    op.create_index("ix_kit_downloads_organization_id", "kit_downloads", ["organization_id"])
    op.create_table(
        "forward_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issue_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("companies", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("reported_by", sa.String(length=200), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("companies >= 0", name="forward_reports_companies_not_negative"),
        sa.ForeignKeyConstraint(["issue_id"], ["issues.id"], ondelete="CASCADE"),
        _organization(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issue_id", "organization_id", name="uq_forward_reports_issue_organization"),
    )
    op.create_index("ix_forward_reports_issue_id", "forward_reports", ["issue_id"])
    op.create_index("ix_forward_reports_organization_id", "forward_reports", ["organization_id"])
    op.create_table(
        "monthly_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("sent_to", sa.String(length=254), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        _organization(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "month", name="uq_monthly_reports_organization_month"),
    )
    op.create_index("ix_monthly_reports_organization_id", "monthly_reports", ["organization_id"])


def downgrade() -> None:
    op.drop_table("monthly_reports")
    op.drop_table("forward_reports")
    op.drop_table("kit_downloads")
    op.drop_table("organization_profiles")
