"""The outbox ledger: one delivery row per (issue, subscriber), which makes sends idempotent and resumable."""

from __future__ import annotations

__all__ = ["enqueue_issue", "open_rows", "status_counts"]

from collections import Counter

from sqlalchemy import ColumnElement, and_, exists, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from outreach.models import Delivery, DeliveryStatus, Issue, Subscriber, SubscriberStatus, UtcDateTime, utcnow

OPEN_STATES = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED)


def enqueue_issue(session: Session, issue: Issue) -> int:
    """Add a queued row for every active subscriber that has none for this issue; return how many."""
    now = literal(utcnow(), UtcDateTime())
    already = exists().where(Delivery.issue_id == issue.id, Delivery.subscriber_id == Subscriber.id)
    recipients = select(
        literal(issue.id),
        Subscriber.id,
        Subscriber.organization_id,
        Subscriber.language,
        Subscriber.email,
        literal(DeliveryStatus.QUEUED.value),
        literal(0),
        now,
        now,
    ).where(Subscriber.status == SubscriberStatus.ACTIVE, ~already)
    columns = [
        "issue_id",
        "subscriber_id",
        "organization_id",
        "language",
        "email",
        "status",
        "attempts",
        "created_at",
        "updated_at",
    ]
    result = session.execute(insert(Delivery).from_select(columns, recipients))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def open_rows(issue_id: int) -> ColumnElement[bool]:
    """Rows that are due to be tried now: queued, or deferred and past their retry time."""
    return and_(
        Delivery.issue_id == issue_id,
        or_(
            Delivery.status == DeliveryStatus.QUEUED,
            and_(
                Delivery.status == DeliveryStatus.DEFERRED,
                or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= utcnow()),
            ),
        ),
    )


def status_counts(session: Session, issue_id: int) -> Counter[str]:
    rows = session.execute(
        select(Delivery.status, func.count()).where(Delivery.issue_id == issue_id).group_by(Delivery.status)
    )
    return Counter({str(status): int(count) for status, count in rows})
