"""What a send did, read from the ledger: counts per organization and state, and the per-recipient log."""

from __future__ import annotations

__all__ = ["LogEntry", "OrganizationReach", "delivery_log", "reach_by_organization", "unknown_fates"]

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.calendar import JST
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
    name_en: str = ""


def reach_by_organization(session: Session, issue_id: int) -> list[OrganizationReach]:
    """Per organization, in the network's order (the network first, with the unaffiliated, who get its
    rendition): recipients and their states."""
    network = _network(session)
    rows = session.execute(
        select(Organization.position, Organization.slug, Organization.name_ja, Organization.name_en)
        .add_columns(Delivery.status, func.count())
        .select_from(Delivery)
        .join(Organization, Organization.id == Delivery.organization_id, isouter=True)
        .where(Delivery.issue_id == issue_id)
        .group_by(
            Organization.position,
            Organization.slug,
            Organization.name_ja,
            Organization.name_en,
            Delivery.status,
        )
    )
    table: dict[tuple[int, str, str, str], Counter[str]] = {}
    for position, slug, name_ja, name_en, status, count in rows:
        key = network if slug is None else (position, slug, name_ja, name_en)
        table.setdefault(key, Counter())[str(status)] += int(count)
    return [_reach(slug, ja, en, counts) for (_, slug, ja, en), counts in sorted(table.items())]


def _network(session: Session) -> tuple[int, str, str, str]:
    """The network's own row: where the unaffiliated are counted."""
    found = session.execute(
        select(Organization.position, Organization.name_ja, Organization.name_en).where(
            Organization.slug == NETWORK_SLUG
        )
    ).first()
    if found is None:  # a ledger without the seeded network: still counted, first
        return (-1, NETWORK_SLUG, "(ネットワーク)", "(network)")
    position, name_ja, name_en = found
    return (position, NETWORK_SLUG, name_ja, name_en)


def _reach(slug: str, name_ja: str, name_en: str, counts: Counter[str]) -> OrganizationReach:
    failed = counts[DeliveryStatus.FAILED] + counts[DeliveryStatus.BOUNCED]
    sent = counts[DeliveryStatus.SENT]
    total = sum(counts.values())
    return OrganizationReach(slug, name_ja, total, sent, failed, total - sent - failed, name_en)


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
        data["updated_at"] = self.updated_at.astimezone(JST).isoformat()  # Japan time, with its offset
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
