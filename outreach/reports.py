"""What a send did, read from the ledger: counts per organization and state, and the per-recipient log."""

from __future__ import annotations

__all__ = ["LogEntry", "OrganizationReach", "delivery_log", "reach_by_organization", "unknown_fates"]

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.models import Delivery, DeliveryAttempt, DeliveryStatus, Organization
from outreach.network import NETWORK_SLUG


@dataclass(frozen=True)
class OrganizationReach:
    slug: str
    name_ja: str
    recipients: int
    sent: int
    failed: int
    waiting: int


def reach_by_organization(session: Session, issue_id: int) -> list[OrganizationReach]:
    """Per organization (the network's own rendition for the unaffiliated): recipients and their states."""
    rows = session.execute(
        select(Organization.slug, Organization.name_ja, Organization.position, Delivery.status, func.count())
        .select_from(Delivery)
        .join(Organization, Organization.id == Delivery.organization_id, isouter=True)
        .where(Delivery.issue_id == issue_id)
        .group_by(Organization.slug, Organization.name_ja, Organization.position, Delivery.status)
    )
    table: dict[tuple[int, str, str], dict[str, int]] = {}
    for slug, name, position, status, count in rows:
        key = (position if position is not None else 0, slug or NETWORK_SLUG, name or "(ネットワーク)")
        table.setdefault(key, {}).update({str(status): int(count)})
    return [_reach(slug, name, counts) for (_, slug, name), counts in sorted(table.items())]


def _reach(slug: str, name: str, counts: dict[str, int]) -> OrganizationReach:
    failed = counts.get(DeliveryStatus.FAILED, 0) + counts.get(DeliveryStatus.BOUNCED, 0)
    sent = counts.get(DeliveryStatus.SENT, 0)
    total = sum(counts.values())
    return OrganizationReach(slug, name, total, sent, failed, total - sent - failed)


def unknown_fates(session: Session, issue_id: int) -> int:
    """How many messages of an issue had an unknown fate because a worker stopped mid-send."""
    query = (
        select(func.count())
        .select_from(DeliveryAttempt)
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(Delivery.issue_id == issue_id, DeliveryAttempt.outcome == DeliveryStatus.UNKNOWN)
    )
    return int(session.scalar(query) or 0)


@dataclass(frozen=True)
class LogEntry:
    email: str
    organization: str
    status: str
    smtp_code: int | None
    smtp_reply: str | None
    attempts: int
    updated_at: datetime

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["updated_at"] = self.updated_at.isoformat()
        return data


def delivery_log(
    session: Session, issue_id: int, *, status: DeliveryStatus | None = None, limit: int | None = None
) -> list[LogEntry]:
    query = (
        select(
            Delivery.email,
            Organization.slug,
            Delivery.status,
            Delivery.smtp_code,
            Delivery.smtp_reply,
            Delivery.attempts,
            Delivery.updated_at,
        )
        .join(Organization, Organization.id == Delivery.organization_id, isouter=True)
        .where(Delivery.issue_id == issue_id)
        .order_by(Delivery.id)
        .limit(limit)
    )
    if status is not None:
        query = query.where(Delivery.status == status)
    return [
        LogEntry(email, slug or NETWORK_SLUG, str(state), code, reply, attempts, updated)
        for email, slug, state, code, reply, attempts, updated in session.execute(query)
    ]
