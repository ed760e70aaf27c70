"""The outbox ledger: one delivery row per (issue, subscriber), which makes sends idempotent and resumable.

Rows move queued -> sending (claimed by a worker) -> sent | deferred | failed | bounced, or unknown when a
worker died with the message in flight; cancelled when staff cancel the issue.
"""

from __future__ import annotations

__all__ = [
    "OPEN_STATES",
    "Claimed",
    "cancel_rows",
    "claim_rows",
    "enqueue_issue",
    "has_due_rows",
    "open_rows",
    "release_rows",
    "reopen_rows",
    "sending_issues",
    "status_counts",
]

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from outreach.issues import issue_topics
from outreach.models import (
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    Subscriber,
    SubscriberStatus,
    SubscriberTopic,
    UtcDateTime,
    utcnow,
)

OPEN_STATES = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED)


def _wants(issue: Issue) -> ColumnElement[bool]:
    """Subscribers who have not narrowed their topics, or who chose one of the issue's."""
    chose_any = exists().where(SubscriberTopic.subscriber_id == Subscriber.id)
    chose_ours = exists().where(
        SubscriberTopic.subscriber_id == Subscriber.id, SubscriberTopic.topic.in_(issue_topics(issue))
    )
    return or_(~chose_any, chose_ours)


def enqueue_issue(session: Session, issue: Issue, *, now: datetime | None = None) -> int:
    """Add a queued row for every active subscriber who wants the issue and has none; return how many."""
    stamp = literal(now or utcnow(), UtcDateTime())
    already = exists().where(Delivery.issue_id == issue.id, Delivery.subscriber_id == Subscriber.id)
    recipients = select(
        literal(issue.id),
        Subscriber.id,
        Subscriber.organization_id,
        Subscriber.language,
        Subscriber.email,
        literal(DeliveryStatus.QUEUED.value),
        literal(0),
        stamp,
        stamp,
    ).where(Subscriber.status == SubscriberStatus.ACTIVE, _wants(issue), ~already)
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


def open_rows(now: datetime) -> ColumnElement[bool]:
    """Rows due to be tried now: queued, or deferred and past their retry time."""
    return or_(
        Delivery.status == DeliveryStatus.QUEUED,
        and_(
            Delivery.status == DeliveryStatus.DEFERRED,
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        ),
    )


@dataclass(frozen=True)
class Claimed:
    """A ledger row a worker holds, with what it needs to build the message."""

    id: int
    issue_id: int
    subscriber_id: int
    organization_id: int | None
    language: str
    email: str
    name: str
    company: str
    attempts: int
    created_at: datetime


def claim_rows(
    session: Session, *, worker: str, limit: int, now: datetime, issue_id: int | None
) -> list[Claimed]:
    """Take up to `limit` due rows of issues being sent; on PostgreSQL, workers skip each other's rows.

    Issue by issue, queued rows first and then deferred ones whose time has come, each a range of the
    (issue_id, status, id) index: a claim costs the same at the end of a million-row send as at its start.
    """
    ids: list[int] = []
    for sending in sending_issues(session, issue_id):
        for status in (DeliveryStatus.QUEUED, DeliveryStatus.DEFERRED):
            if len(ids) < limit:
                ids += _due_ids(session, sending, status, limit=limit - len(ids), now=now)
    if not ids:
        return []
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids))
        .values(status=DeliveryStatus.SENDING, claimed_by=worker, claimed_at=now)
    )
    rows = session.execute(
        select(
            Delivery.id,
            Delivery.issue_id,
            Delivery.subscriber_id,
            Delivery.organization_id,
            Delivery.language,
            Delivery.email,
            Subscriber.name,
            Subscriber.company,
            Delivery.attempts,
            Delivery.created_at,
        )
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.id)
    )
    return [Claimed(*tuple(row)) for row in rows]


def sending_issues(session: Session, issue_id: int | None = None) -> list[int]:
    """The issues being sent now (or just the one asked for, if it is being sent)."""
    query = select(Issue.id).where(Issue.status == IssueStatus.SENDING).order_by(Issue.id)
    if issue_id is not None:
        query = query.where(Issue.id == issue_id)
    return list(session.scalars(query))


def _due_ids(
    session: Session, issue_id: int, status: DeliveryStatus, *, limit: int, now: datetime
) -> list[int]:
    query = select(Delivery.id).where(Delivery.issue_id == issue_id, Delivery.status == status)
    if status == DeliveryStatus.DEFERRED:
        query = query.where(or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
    return list(session.scalars(query.order_by(Delivery.id).limit(limit).with_for_update(skip_locked=True)))


def release_rows(session: Session, *, worker: str, ids: list[int] | None = None) -> None:
    """Put rows this worker claimed but did not try back in the queue (all of them when `ids` is None)."""
    query = update(Delivery).where(Delivery.claimed_by == worker, Delivery.status == DeliveryStatus.SENDING)
    if ids is not None:
        query = query.where(Delivery.id.in_(ids))
    session.execute(query.values(status=DeliveryStatus.QUEUED, claimed_by=None, claimed_at=None))


def cancel_rows(session: Session, issue_id: int) -> int:
    """Cancel what an issue has not sent yet; rows a worker holds are cancelled when it lets them go."""
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.issue_id == issue_id,
            Delivery.status.in_([DeliveryStatus.QUEUED, DeliveryStatus.DEFERRED]),
        )
        .values(status=DeliveryStatus.CANCELLED, updated_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def reopen_rows(session: Session, issue_id: int) -> int:
    """Queue the failed, deferred and unknown rows of still-active subscribers again (a retry of those)."""
    active = select(Subscriber.id).where(Subscriber.status == SubscriberStatus.ACTIVE)
    result = session.execute(
        update(Delivery)
        .where(
            Delivery.issue_id == issue_id,
            Delivery.subscriber_id.in_(active),
            Delivery.status.in_([DeliveryStatus.FAILED, DeliveryStatus.DEFERRED, DeliveryStatus.UNKNOWN]),
        )
        .values(status=DeliveryStatus.QUEUED, next_attempt_at=None, updated_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def has_due_rows(session: Session, *, now: datetime, issue_id: int | None) -> bool:
    """Whether any row of an issue being sent is due now."""
    return any(
        session.scalar(select(Delivery.id).where(Delivery.issue_id == sending, open_rows(now)).limit(1))
        is not None
        for sending in sending_issues(session, issue_id)
    )


def status_counts(session: Session, issue_id: int) -> Counter[str]:
    rows = session.execute(
        select(Delivery.status, func.count()).where(Delivery.issue_id == issue_id).group_by(Delivery.status)
    )
    return Counter({str(status): int(count) for status, count in rows})
