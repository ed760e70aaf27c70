"""The audit log: who did what, to what, when and from where; the only writer of `audit_events`."""

from __future__ import annotations

__all__ = [
    "PER_PAGE",
    "AuditEntry",
    "AuditPage",
    "cli_actor",
    "issue_target",
    "read_page",
    "record",
    "staff_actor",
]

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from outreach.staff.models import AuditEvent

PER_PAGE = 50
_ACTOR_FILTER_LENGTH = 300


@dataclass(frozen=True)
class AuditEntry:
    id: int
    actor: str
    action: str
    target: str | None
    detail: str | None
    ip: str | None
    occurred_at: datetime


@dataclass(frozen=True)
class AuditPage:
    """One page of the log, newest first; `page` counts from 1 and is within 1..pages."""

    entries: list[AuditEntry]
    page: int
    pages: int
    total: int
    actor: str  # the filter: part of the actor, any case; "" for everyone

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def staff_actor(email: str) -> str:
    return f"staff:{email}"


def cli_actor(login: str) -> str:
    return f"cli:{login}"


def issue_target(number: int) -> str:
    """How the log names an issue: `issue No. 12`."""
    return f"issue No. {number}"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    now: datetime,
    target: str | None = None,
    detail: str | None = None,
    ip: str | None = None,
) -> None:
    """Add an event to the caller's transaction: it is kept exactly when what it describes is."""
    session.add(AuditEvent(actor=actor, action=action, target=target, detail=detail, ip=ip, occurred_at=now))


def _matching(actor: str) -> ColumnElement[bool]:
    if not actor:
        return true()
    return func.lower(AuditEvent.actor).contains(actor.lower(), autoescape=True)


def read_page(session: Session, *, page: int = 1, actor: str = "", per_page: int = PER_PAGE) -> AuditPage:
    """The events whose actor contains `actor`, newest first; a page past the last shows the last."""
    actor = actor.strip()[:_ACTOR_FILTER_LENGTH]
    condition = _matching(actor)
    total = session.scalar(select(func.count()).select_from(AuditEvent).where(condition)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = session.scalars(
        select(AuditEvent)
        .where(condition)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    entries = [
        AuditEntry(row.id, row.actor, row.action, row.target, row.detail, row.ip, row.occurred_at)
        for row in rows
    ]
    return AuditPage(entries, page, pages, total, actor)
