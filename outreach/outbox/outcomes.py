"""What became of each message, written to the ledger: the row's state, one attempt row per try, bounces.

Every write is fenced by the claim: an outcome is recorded only if the row still carries the token the worker
claimed it under. A row cancelled while its message was in flight keeps that token: if the relay took the
message the row says `sent` (the truth), otherwise it stays cancelled and is never tried again.
"""

from __future__ import annotations

__all__ = ["Outcome", "Recorded", "held_rows", "mark_unknown", "record_outcomes"]

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from outreach.mailer import SmtpReply
from outreach.models import (
    AttemptKind,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Subscriber,
    SubscriberStatus,
)
from outreach.outbox.claims import Claimed, new_token
from outreach.outbox.many import ManyRows
from outreach.outbox.returns import bounce_subscribers
from outreach.policy import Bounce, Decision

_LEDGER: Table = Delivery.__table__  # type: ignore[assignment]
_ATTEMPTS: Table = DeliveryAttempt.__table__  # type: ignore[assignment]
_OUTCOME = ("status", "smtp_code", "smtp_reply", "message_id", "attempts", "next_attempt_at", "updated_at")
# One statement each, executed for many rows at once at the driver's pace (outbox.many).
_UPDATE_ROW = ManyRows(
    update(_LEDGER)
    .where(_LEDGER.c.id == bindparam("row_id"), _LEDGER.c.claim_token == bindparam("token"))
    .values(
        {
            **{name: bindparam(name) for name in _OUTCOME},
            "claimed_by": None,
            "claimed_at": None,
            "claim_token": None,
        }
    )
)
_ATTEMPT = ("delivery_id", "attempted_at", "outcome", "smtp_code", "smtp_reply")
_ADD_ATTEMPTS = ManyRows(
    insert(_ATTEMPTS).values({**{name: bindparam(name) for name in _ATTEMPT}, "kind": AttemptKind.RELAY})
)
_DROPPED = "connection lost with the message in flight"


@dataclass(frozen=True)
class Outcome:
    """A message's fate: the policy's decision on the replies of its tries (None: the connection dropped)."""

    row: Claimed
    decision: Decision
    reply: SmtpReply | None
    message_id: str | None
    at: datetime
    tries: tuple[SmtpReply | None, ...]


@dataclass
class Recorded:
    """What a write did: outcomes recorded, and rows the worker no longer held (taken over elsewhere)."""

    written: list[Outcome] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)


def record_outcomes(
    session: Session,
    outcomes: list[Outcome],
    *,
    current: Mapping[int, DeliveryStatus],
    bounce_limit: int,
    now: datetime,
) -> Recorded:
    """Write the outcomes of the rows in `current` (those still under the worker's token, as
    `renew_claims` returned them in this transaction); the others were taken over and are reported lost."""
    recorded = Recorded()
    rows: list[dict[str, Any]] = []
    attempts: list[dict[str, Any]] = []
    for outcome in outcomes:
        status = current.get(outcome.row.id)
        if status is None:
            recorded.lost.append(outcome.row.id)
            continue
        attempts += _attempts(outcome)
        recorded.written.append(outcome)
        if status != DeliveryStatus.CANCELLED or outcome.decision.status == DeliveryStatus.SENT:
            rows.append(_row_update(outcome))
    _UPDATE_ROW.execute(session.connection(), rows)
    _ADD_ATTEMPTS.execute(session.connection(), attempts)
    _bounce(session, recorded.written, limit=bounce_limit, now=now)
    return recorded


def _row_update(outcome: Outcome) -> dict[str, Any]:
    reply = outcome.reply
    return {
        "row_id": outcome.row.id,
        "token": outcome.row.token,
        "status": outcome.decision.status,
        "smtp_code": reply.code if reply else None,
        "smtp_reply": reply.text if reply else "connection dropped twice with the message in flight",
        "message_id": outcome.message_id,
        "attempts": outcome.row.attempts + len(outcome.tries),
        "next_attempt_at": outcome.decision.retry_at,
        "updated_at": outcome.at,
    }


def _attempts(outcome: Outcome) -> list[dict[str, Any]]:
    last = len(outcome.tries) - 1
    return [
        {
            "delivery_id": outcome.row.id,
            "attempted_at": outcome.at,
            "outcome": outcome.decision.status if index == last else DeliveryStatus.DEFERRED,
            "smtp_code": reply.code if reply else None,
            "smtp_reply": reply.text if reply else _DROPPED,
        }
        for index, reply in enumerate(outcome.tries)
    ]


def _bounce(session: Session, outcomes: list[Outcome], *, limit: int, now: datetime) -> None:
    """A hard bounce ends the subscription at once; soft ones do at `limit`. Either way, nothing more is
    sent to that address: its other rows are cancelled with the reason."""
    hard = {o.row.subscriber_id: o for o in outcomes if o.decision.bounce == Bounce.HARD}
    soft = [o.row.subscriber_id for o in outcomes if o.decision.bounce == Bounce.SOFT]
    if hard:
        session.execute(
            update(Subscriber)
            .where(Subscriber.id.in_(list(hard)))
            .values(bounce_count=Subscriber.bounce_count + 1)
            .execution_options(synchronize_session=False)
        )
    if soft:
        session.execute(
            update(Subscriber)
            .where(Subscriber.id.in_(soft))
            .values(bounce_count=Subscriber.bounce_count + 1)
            .execution_options(synchronize_session=False)
        )
        over = session.scalars(
            select(Subscriber.id).where(
                Subscriber.id.in_(soft),
                Subscriber.bounce_count >= limit,
                Subscriber.status == SubscriberStatus.ACTIVE,
            )
        )
        reasons = dict.fromkeys(over, f"the address bounced {limit} times")
    else:
        reasons = {}
    reasons |= {i: f"the address bounced ({o.decision.reason or o.reply})" for i, o in hard.items()}
    bounce_subscribers(session, reasons, now=now)


def mark_unknown(session: Session, ids: list[int], *, why: str, resend: bool, now: datetime) -> None:
    """Rows whose message may or may not have gone out: logged as unknown, then queued again or held.

    The try counts in the row's `attempts`, as its attempt row does: the relay may well have seen it."""
    if not ids:
        return
    reply = f"fate unknown: {why}; " + ("queued again" if resend else "held for staff to decide")
    session.execute(
        insert(DeliveryAttempt),
        [
            {"delivery_id": i, "attempted_at": now, "outcome": DeliveryStatus.UNKNOWN, "smtp_reply": reply}
            for i in ids
        ],
    )
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.SENDING)  # a cancelled row stays so
        .values(
            status=DeliveryStatus.QUEUED if resend else DeliveryStatus.UNKNOWN,
            attempts=Delivery.attempts + 1,
            smtp_code=None,
            smtp_reply=reply,
            claimed_by=None,
            claimed_at=None,
            claim_token=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


def held_rows(session: Session, ids: list[int], *, owner: str) -> dict[int, Claimed]:
    """The rows among `ids` that `owner` holds, under a claim token of their own now, to settle what a
    journal says about them."""
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.claimed_by == owner, Delivery.status == DeliveryStatus.SENDING)
        .values(claim_token=new_token())
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(
        select(Delivery, Subscriber.charset)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.id.in_(ids), Delivery.claimed_by == owner, Delivery.status == DeliveryStatus.SENDING)
    )
    return {
        row.id: Claimed(
            row.id,
            row.issue_id,
            row.subscriber_id,
            row.organization_id,
            row.language,
            row.email,
            "",
            "",
            row.attempts,
            row.created_at,
            row.claim_token or "",
            charset,
        )
        for row, charset in rows
    }
