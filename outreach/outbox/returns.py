"""What comes back after the relay took a message, written to the ledger: bounce reports and complaints.

A bounce after delivery adds an attempt of kind `bounce` (its class, RFC 3463 code and diagnostic) and
sets the delivery `bounced`. What it does to the subscriber depends on its class:

- hard (no such address): the subscriber is `bounced` at once;
- soft (mailbox full, …): `bounced` once `limit` soft bounces came back within `window`;
- policy (refused for content, policy or our sender): the address is not at fault and stays as it is.

A subscriber made `bounced` gets a consent-record entry with the reason, and nothing not yet sent goes to
them any more. A complaint (feedback-loop report) adds an attempt of kind `complaint`; the caller then
unsubscribes its subscriber through the subscription lifecycle, as for any other opt-out.
"""

from __future__ import annotations

__all__ = ["Returned", "bounce_subscribers", "find_delivery", "record_bounce", "record_complaint"]

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from outreach.models import (
    AttemptKind,
    BounceClass,
    ConsentEvent,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Subscriber,
    SubscriberStatus,
)
from outreach.outbox.queue import cancel_subscriber_rows

BOUNCE_SOURCE = "bounce"  # the consent record's channel for a subscription a bounce ended
_MAX_TEXT = 500


@dataclass(frozen=True)
class Returned:
    """What the ledger made of a report about one delivery."""

    delivery_id: int
    subscriber_id: int
    email: str
    subscriber_bounced: bool  # this report ended the subscription


def find_delivery(
    session: Session, *, delivery_id: int | None = None, message_id: str | None = None
) -> int | None:
    """The delivery a report is about: by the id its VERP address carried, else by the returned
    Message-ID (one of ours names exactly one delivery); None when neither names one."""
    if delivery_id is not None:
        found = session.scalar(select(Delivery.id).where(Delivery.id == delivery_id))
        if found is not None:
            return int(found)
    if message_id:
        ids = list(session.scalars(select(Delivery.id).where(Delivery.message_id == message_id).limit(2)))
        if len(ids) == 1:
            return int(ids[0])
    return None


def record_bounce(
    session: Session,
    delivery_id: int,
    *,
    bounce_class: BounceClass,
    status_code: str | None,
    diagnostic: str,
    limit: int,
    window: timedelta,
    now: datetime,
) -> Returned:
    """Log a bounce after delivery, set a sent delivery `bounced`, and apply its class to the subscriber.
    A second report about the same delivery (relays do send two) is logged and counts nothing again."""
    delivery = session.get_one(Delivery, delivery_id)
    reply = diagnostic[:_MAX_TEXT]
    again = _bounced_before(session, delivery_id)
    _log(
        session,
        delivery_id,
        now,
        outcome=DeliveryStatus.BOUNCED,
        kind=AttemptKind.BOUNCE,
        bounce_class=bounce_class,
        status_code=status_code,
        smtp_code=_basic_code(status_code),
        smtp_reply=f"bounce after delivery: {reply}",
    )
    if again:
        return Returned(delivery_id, delivery.subscriber_id, delivery.email, False)
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.SENT)
        .values(
            status=DeliveryStatus.BOUNCED,
            smtp_code=_basic_code(status_code),
            smtp_reply=f"bounce after delivery ({bounce_class.value} {status_code or 'no code'}): {reply}",
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    reason = _reason(session, delivery.subscriber_id, bounce_class, status_code, limit, window, now)
    ended = bounce_subscribers(session, {delivery.subscriber_id: reason}, now=now) if reason else 0
    return Returned(delivery_id, delivery.subscriber_id, delivery.email, ended > 0)


def _log(session: Session, delivery_id: int, now: datetime, **values: object) -> None:
    """An attempt row for a report about a delivery."""
    session.execute(insert(DeliveryAttempt).values(delivery_id=delivery_id, attempted_at=now, **values))


def _bounced_before(session: Session, delivery_id: int) -> bool:
    earlier = select(DeliveryAttempt.id).where(
        DeliveryAttempt.delivery_id == delivery_id, DeliveryAttempt.kind == AttemptKind.BOUNCE
    )
    return session.scalar(earlier.limit(1)) is not None


def _basic_code(status_code: str | None) -> int | None:
    """The basic SMTP code a DSN status stands for (5.x.x -> 550, 4.x.x -> 450), for the log's code column."""
    if status_code and status_code[0] in "45":
        return int(status_code[0]) * 100 + 50
    return None


def _reason(
    session: Session,
    subscriber_id: int,
    bounce_class: BounceClass,
    status_code: str | None,
    limit: int,
    window: timedelta,
    now: datetime,
) -> str | None:
    """Why this bounce ends the subscription, or None when it does not (yet)."""
    if bounce_class == BounceClass.HARD:
        return f"hard bounce after delivery ({status_code or 'no code'})"
    if bounce_class != BounceClass.SOFT:
        return None
    recent = session.scalar(  # deliveries, not reports: a relay may report one message twice
        select(func.count(func.distinct(Delivery.id)))
        .select_from(DeliveryAttempt)
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(
            Delivery.subscriber_id == subscriber_id,
            DeliveryAttempt.kind == AttemptKind.BOUNCE,
            DeliveryAttempt.bounce_class == BounceClass.SOFT,
            DeliveryAttempt.attempted_at >= now - window,
        )
    )
    if int(recent or 0) < limit:
        return None
    return f"{limit} soft bounces within {window.days} days (the last {status_code or 'without a code'})"


def bounce_subscribers(session: Session, reasons: dict[int, str], *, now: datetime) -> int:
    """End the subscriptions of still-active subscribers whose address bounced: state `bounced`, a
    consent-record entry with the reason, and every row not sent yet cancelled. How many it ended."""
    ended = 0
    for subscriber_id, reason in reasons.items():
        email = session.scalar(
            update(Subscriber)
            .where(Subscriber.id == subscriber_id, Subscriber.status == SubscriberStatus.ACTIVE)
            .values(status=SubscriberStatus.BOUNCED, updated_at=now)
            .returning(Subscriber.email)
            .execution_options(synchronize_session=False)
        )
        if email is None:
            continue
        ended += 1
        session.execute(
            insert(ConsentEvent).values(
                subscriber_id=subscriber_id,
                email=email,
                action="bounced",
                source=BOUNCE_SOURCE,
                detail=f"was active; {reason}"[:_MAX_TEXT],
                occurred_at=now,
            )
        )
        cancel_subscriber_rows(session, subscriber_id, reason=reason, now=now)
    return ended


def record_complaint(session: Session, delivery_id: int, *, feedback_type: str, now: datetime) -> Returned:
    """Log a complaint about a delivery (its state stays: the message did arrive)."""
    delivery = session.get_one(Delivery, delivery_id)
    _log(
        session,
        delivery_id,
        now,
        outcome=delivery.status,
        kind=AttemptKind.COMPLAINT,
        smtp_reply=f"complaint ({feedback_type[:40] or 'abuse'}): the reader reported this message",
    )
    return Returned(delivery_id, delivery.subscriber_id, delivery.email, False)
