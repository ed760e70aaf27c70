"""The member organizations' own tables: the profile an organization edits in the console (used before the
seed data and the template files), the forward kit's downloads, the forwarding an organization reports, and
the monthly reach reports sent to it."""

from __future__ import annotations

__all__ = ["ForwardReport", "KitDownload", "KitFormat", "MonthlyReport", "OrganizationProfile"]

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from outreach.models import Base, _enum, utcnow


class OrganizationProfile(Base):
    """What an organization says in its own rendition, as its editors set it; an empty text is unset (the seed
    data's, or for the contact the organization's web page and the network's secretariat)."""

    __tablename__ = "organization_profiles"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    greeting_ja: Mapped[str] = mapped_column(Text, default="", server_default="")
    greeting_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    department_ja: Mapped[str] = mapped_column(String(200), default="", server_default="")
    department_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    web_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    footer_ja: Mapped[str] = mapped_column(Text, default="", server_default="")
    footer_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The forward kit's .eml: sent by the organization itself with its own tools.
    kit_from_name_ja: Mapped[str] = mapped_column(String(200), default="", server_default="")
    kit_from_name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    kit_from_address: Mapped[str] = mapped_column(String(254), default="", server_default="")
    kit_reply_to: Mapped[str] = mapped_column(String(254), default="", server_default="")
    # The monthly reach report by mail (opt-in), to `email`, in `report_language`.
    monthly_report: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    report_language: Mapped[str] = mapped_column(String(2), default="ja", server_default="ja")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200), default="", server_default="")


class KitFormat(enum.StrEnum):
    EML = "eml"
    HTML = "html"
    TEXT = "text"


class KitDownload(Base):
    """One download of an issue's forward kit by an organization's user: the kit is recorded, not counted."""

    __tablename__ = "kit_downloads"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    format: Mapped[KitFormat] = mapped_column(_enum(KitFormat))
    language: Mapped[str] = mapped_column(String(2))
    downloaded_by: Mapped[str] = mapped_column(String(200))
    downloaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class ForwardReport(Base):
    """How many companies an organization says it forwarded an issue to with its own tools; a later report of
    the same issue replaces the earlier one."""

    __tablename__ = "forward_reports"
    __table_args__ = (
        UniqueConstraint("issue_id", "organization_id", name="uq_forward_reports_issue_organization"),
        CheckConstraint("companies >= 0", name="forward_reports_companies_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    companies: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    reported_by: Mapped[str] = mapped_column(String(200))
    reported_at: Mapped[datetime] = mapped_column(default=utcnow)


class MonthlyReport(Base):
    """A monthly reach report mailed to an organization: one per organization and month, never twice."""

    __tablename__ = "monthly_reports"
    __table_args__ = (
        UniqueConstraint("organization_id", "month", name="uq_monthly_reports_organization_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    month: Mapped[str] = mapped_column(String(7))  # "2026-11": the month the figures are about
    sent_to: Mapped[str] = mapped_column(String(254))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
