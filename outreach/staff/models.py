"""The staff tables: who may use the console, their open sessions, and the audit log of every action."""

from __future__ import annotations

__all__ = ["AuditEvent", "StaffRole", "StaffSession", "StaffUser"]

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.models import Base, Organization, _enum, utcnow


class StaffRole(enum.StrEnum):
    """What a staff user may do; `admin` may do everything (see outreach.staff.roles)."""

    STAFF = "staff"  # the secretariat: content and issues
    APPROVER = "approver"  # signs off a send (決裁)
    ORG_EDITOR = "org-editor"  # one member organization's own pages
    ADMIN = "admin"


class StaffUser(Base):
    """A person who logs in to the console; an org-editor belongs to one organization."""

    __tablename__ = "staff_users"
    __table_args__ = (
        CheckConstraint(
            "role <> 'org-editor' OR organization_id IS NOT NULL", name="org_editor_has_organization"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The last TOTP time step accepted: a code is good once, not for its whole window.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    organization: Mapped[Organization | None] = relationship()


class StaffSession(Base):
    """A logged-in browser. The key is the SHA-256 of the cookie's random id: a copy of this table logs
    nobody in."""

    __tablename__ = "staff_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(45))


class AuditEvent(Base):
    """Who did what, to what, when and from where: `staff:a@example.jp` or `cli:<unix user>`."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(45))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
