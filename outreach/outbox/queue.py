"""The ledger's rows as a queue: written when a send starts, cancelled, queued again, counted."""

from __future__ import annotations

__all__ = [
    "OPEN_STATES",
    "cancel_rows",
    "cancel_subscriber_rows",
    "claim_order",
    "decide_held",
    "enqueue_issue",
    "has_due_rows",
    "open_rows",
    "reopen_rows",
    "sending_issues",
    "status_counts",
    "wants",
]

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from outreach.alerts.audience import issue_audience
from outreach.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Issue,
    IssueKind,
    IssueStatus,
    Subscriber,
    SubscriberStatus,
    SubscriberTopic,
    Topic,
    UtcDateTime,
    utcnow,
)

OPEN_STATES = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED)


def wants(topics: Iterable[Topic]) -> ColumnElement[bool]:
    """Subscribers who have not narrowed their topics, or who chose one of these."""
    chose_any = exists().where(SubscriberTopic.subscriber_id == Subscriber.id)
    chose_ours = exists().where(
        SubscriberTopic.subscriber_id == Subscriber.id, SubscriberTopic.topic.in_(list(topics))
    )
    return or_(~chose_any, chose_ours)


def enqueue_issue(session: Session, issue: Issue, topics: set[Topic], *, now: datetime | None = None) -> int:
    """Add a queued row for every active subscriber who wants the issue and has none; return how many.

    Wanting it: one of its topics, and for a safety alert issue, a place that one of its entries concerns.
    """
    stamp = literal(now or utcnow(), UtcDateTime())
    wanted = [Subscriber.status == SubscriberStatus.ACTIVE, wants(topics), issue_audience(issue)]
    # "and has none" only when the issue has rows: PostgreSQL plans the NOT EXISTS against an empty deliveries
    # table (a new database) as a nested loop rescanning the rows this very INSERT adds, quadratic (a minute
    # for 100,000 subscribers); an issue with rows makes the table non-empty and the plan a hash anti-join.
    if session.scalar(select(Delivery.id).where(Delivery.issue_id == issue.id).limit(1)) is not None:
        wanted.append(~exists().where(Delivery.issue_id == issue.id, Delivery.subscriber_id == Subscriber.id))
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
    ).where(*wanted)
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
    # SQLAlchemy keeps a cursor's rowcount only for UPDATE and DELETE unless asked: without this option an
    # INSERT … SELECT reports -1 on PostgreSQL (psycopg knows the real count).
    statement = insert(Delivery).from_select(columns, recipients).execution_options(preserve_rowcount=True)
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def open_rows(now: datetime) -> ColumnElement[bool]:
    """Rows due to be tried now: queued, or deferred and past their retry time."""
    return or_(
        Delivery.status == DeliveryStatus.QUEUED,
        and_(
            Delivery.status == DeliveryStatus.DEFERRED,
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        ),
    )


def sending_issues(session: Session, issue_id: int | None = None) -> list[int]:
    """The issues being sent now (or just the one asked for, if it is being sent)."""
    query = select(Issue.id).where(Issue.status == IssueStatus.SENDING).order_by(Issue.id)
    if issue_id is not None:
        query = query.where(Issue.id == issue_id)
    return list(session.scalars(query))


def claim_order(session: Session, issue_id: int | None) -> list[int]:
    """The issues a worker takes rows of, in the order it takes them: the safety alerts being sent first (the
    priority lane: every worker, also one sending a single issue, delivers them before any other), then the
    issue asked for, or every other issue being sent."""
    alerts = select(Issue.id).where(Issue.status == IssueStatus.SENDING, Issue.kind == IssueKind.ALERT)
    first = list(session.scalars(alerts.order_by(Issue.id)))
    return first + [sending for sending in sending_issues(session, issue_id) if sending not in first]


def has_due_rows(session: Session, *, now: datetime, issue_id: int | None) -> bool:
    """Whether any row of an issue being sent is due now (of the issue asked for, or of a safety alert)."""
    return any(
        session.scalar(select(Delivery.id).where(Delivery.issue_id == sending, open_rows(now)).limit(1))
        is not None
        for sending in claim_order(session, issue_id)
    )


def status_counts(session: Session, issue_id: int) -> Counter[str]:
    rows = session.execute(
        select(Delivery.status, func.count()).where(Delivery.issue_id == issue_id).group_by(Delivery.status)
    )
    return Counter({str(status): int(count) for status, count in rows})


def _log(session: Session, ids: list[int], outcome: DeliveryStatus, reply: str, now: datetime) -> None:
    """One attempt row per delivery, saying what happened to it and why (the delivery log shows it)."""
    if ids:
        session.execute(
            insert(DeliveryAttempt),
            [{"delivery_id": i, "attempted_at": now, "outcome": outcome, "smtp_reply": reply} for i in ids],
        )


def _set(session: Session, ids: list[int], now: datetime, **values: Any) -> None:
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids))
        .values(**values, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def cancel_rows(session: Session, issue_id: int, *, now: datetime | None = None) -> int:
    """Cancel everything an issue has not sent yet, claimed rows included: their workers send none that they
    have not handed over yet (a message in flight keeps its claim and records what became of it)."""
    now = now or utcnow()
    ids = list(
        session.scalars(
            select(Delivery.id).where(Delivery.issue_id == issue_id, Delivery.status.in_(OPEN_STATES))
        )
    )
    _set(session, ids, now, status=DeliveryStatus.CANCELLED)
    return len(ids)


def cancel_subscriber_rows(session: Session, subscriber_id: int, *, reason: str, now: datetime) -> int:
    """An opt-out, a hard bounce or a complaint: every row of theirs not sent yet is cancelled at once,
    claimed rows included (a worker sends none it has not handed over yet), with the reason in the log."""
    ids = list(
        session.scalars(
            select(Delivery.id).where(
                Delivery.subscriber_id == subscriber_id, Delivery.status.in_(OPEN_STATES)
            )
        )
    )
    _log(session, ids, DeliveryStatus.CANCELLED, f"not sent: {reason}", now)
    _set(session, ids, now, status=DeliveryStatus.CANCELLED, smtp_code=None, smtp_reply=f"not sent: {reason}")
    return len(ids)


def reopen_rows(session: Session, issue_id: int, *, now: datetime | None = None) -> int:
    """Queue the failed, deferred and unknown rows of still-active subscribers again (a retry of those)."""
    active = select(Subscriber.id).where(Subscriber.status == SubscriberStatus.ACTIVE)
    ids = list(
        session.scalars(
            select(Delivery.id).where(
                Delivery.issue_id == issue_id,
                Delivery.subscriber_id.in_(active),
                Delivery.status.in_([DeliveryStatus.FAILED, DeliveryStatus.DEFERRED, DeliveryStatus.UNKNOWN]),
            )
        )
    )
    _set(session, ids, now or utcnow(), status=DeliveryStatus.QUEUED, next_attempt_at=None)
    return len(ids)


def decide_held(session: Session, issue_id: int, *, resend: bool, now: datetime) -> int:
    """Settle the rows held with an unknown fate: queue them again, or give them up as failed. How many."""
    ids = list(
        session.scalars(
            select(Delivery.id).where(
                Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.UNKNOWN
            )
        )
    )
    if resend:
        _log(session, ids, DeliveryStatus.QUEUED, "fate unknown: staff decided to send it again", now)
        _set(session, ids, now, status=DeliveryStatus.QUEUED, next_attempt_at=None)
    else:
        reply = "fate unknown: staff decided not to send it again (it may have arrived)"
        _log(session, ids, DeliveryStatus.FAILED, reply, now)
        _set(session, ids, now, status=DeliveryStatus.FAILED, smtp_code=None, smtp_reply=reply)
    return len(ids)
