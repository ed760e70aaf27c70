"""Fenced claims: a worker takes due rows under a claim token, renews its lease on them, gives them back.

Every claim carries its owner and a token of its own. A worker sends a row only while its last renewal, which
matches on that token, is fresh; another worker that takes over a stale claim writes a new token, so the one
that stalled can neither send those rows nor write their outcome when it wakes up.

At claim time, a row whose subscriber is no longer active, no longer wants any topic of the issue, or (a
safety alert) no longer does business in any of its places, is cancelled with the reason instead of being
claimed.

Safety alerts go first: every claim takes the due rows of the alert issues being sent before any other row
(`queue.claim_order`), so a regular send in progress yields to an alert at its next claim and resumes after.
"""

from __future__ import annotations

__all__ = ["Claimed", "claim_rows", "new_token", "release_rows", "renew_claims", "stale_claims"]

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, case, not_, or_, select, update
from sqlalchemy.orm import Session, selectinload

from outreach.alerts.audience import issue_audience
from outreach.issues import issue_topics
from outreach.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Issue,
    IssueItem,
    Subscriber,
    SubscriberStatus,
)
from outreach.outbox.queue import claim_order, wants

_LEDGER: Table = Delivery.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Claimed:
    """A ledger row a worker holds under `token`, with what it needs to build the message."""

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
    token: str
    charset: str | None = None  # the subscriber's preference; None: their organization's, else the issue's


def new_token() -> str:
    return secrets.token_hex(12)


def claim_rows(
    session: Session, *, worker: str, limit: int, now: datetime, issue_id: int | None
) -> list[Claimed]:
    """Take up to `limit` due rows of issues being sent; on PostgreSQL, workers skip each other's rows.

    Issue by issue, the safety alerts first, queued rows first and then deferred ones whose time has come,
    each a range of the (issue_id, status, id) index: a claim costs the same at the end of a million-row send
    as at its start.
    """
    token = new_token()
    claimed: list[Claimed] = []
    for sending in claim_order(session, issue_id):
        eligible = _eligible(session, sending)
        for status in (DeliveryStatus.QUEUED, DeliveryStatus.DEFERRED):
            while len(claimed) < limit:
                taken, refused = _claim_some(
                    session, sending, status, eligible, limit=limit - len(claimed), now=now, token=token
                )
                _take(session, taken, worker=worker, token=token, now=now)
                _cancel_refused(session, refused, now)
                claimed += taken
                if not refused:  # else look again: refused rows left room in the batch
                    break
    return claimed


def _take(session: Session, rows: list[Claimed], *, worker: str, token: str, now: datetime) -> None:
    if rows:
        session.connection().execute(  # Core on the connection: the ORM's update machinery costs more here
            update(_LEDGER)
            .where(_LEDGER.c.id.in_([row.id for row in rows]))
            .values(status=DeliveryStatus.SENDING, claimed_by=worker, claimed_at=now, claim_token=token)
        )


# Why a subscriber may not be sent an issue now (`_eligible`); _ELIGIBLE: they may.
_ELIGIBLE, _INACTIVE, _TOPICS, _PLACES = 1, 0, 2, 3


def _eligible(session: Session, issue_id: int) -> ColumnElement[int]:
    """_ELIGIBLE for a subscriber who may be sent this issue now (active, wanting one of its topics and, for a
    safety alert, doing business in one of its places), else the code of the first reason they may not."""
    issue = session.scalars(
        select(Issue)
        .where(Issue.id == issue_id)
        .options(selectinload(Issue.items).selectinload(IssueItem.meeting))
        .options(selectinload(Issue.items).selectinload(IssueItem.promotion))
    ).one()
    return case(
        (Subscriber.status != SubscriberStatus.ACTIVE, _INACTIVE),
        (not_(wants(issue_topics(issue))), _TOPICS),
        (not_(issue_audience(issue)), _PLACES),
        else_=_ELIGIBLE,
    )


def _claim_some(
    session: Session,
    issue_id: int,
    status: DeliveryStatus,
    eligible: ColumnElement[int],
    *,
    limit: int,
    now: datetime,
    token: str,
) -> tuple[list[Claimed], dict[int, str]]:
    """Due rows in id order, locked; those whose subscriber may no longer get the issue come back refused."""
    query = (
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
            Subscriber.status,
            eligible.label("eligible"),
            Subscriber.charset,
        )
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .where(Delivery.issue_id == issue_id, Delivery.status == status)
    )
    if status == DeliveryStatus.DEFERRED:
        query = query.where(or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
    rows = session.execute(
        query.order_by(Delivery.id).limit(limit).with_for_update(skip_locked=True, of=Delivery)
    ).all()
    taken = [_claimed(row, token) for row in rows if row.eligible == _ELIGIBLE]
    refused = {row.id: _refusal(row.eligible, row.status) for row in rows if row.eligible != _ELIGIBLE}
    return taken, refused


def _claimed(row: Any, token: str) -> Claimed:
    row_id, issue_id, subscriber_id, organization_id, language, email, name, company, attempts, at, *_ = row
    return Claimed(
        row_id,
        issue_id,
        subscriber_id,
        organization_id,
        language,
        email,
        name,
        company,
        attempts,
        at,
        token,
        row.charset,
    )


def _refusal(code: int, status: SubscriberStatus) -> str:
    if code == _TOPICS:
        return "not sent: the subscriber no longer wants this issue's topics"
    if code == _PLACES:
        return "not sent: the subscriber no longer does business in any country or region of this alert"
    return f"not sent: the subscriber is {status}"


def _cancel_refused(session: Session, refused: dict[int, str], now: datetime) -> None:
    if not refused:
        return
    session.execute(
        update(Delivery),
        [
            {
                "id": i,
                "status": DeliveryStatus.CANCELLED,
                "smtp_code": None,
                "smtp_reply": why,
                "updated_at": now,
            }
            for i, why in refused.items()
        ],
    )
    session.add_all(
        DeliveryAttempt(delivery_id=i, attempted_at=now, outcome=DeliveryStatus.CANCELLED, smtp_reply=why)
        for i, why in refused.items()
    )


def renew_claims(session: Session, held: Mapping[int, str], *, now: datetime) -> dict[int, DeliveryStatus]:
    """Renew the lease on the rows a worker holds (id -> claim token), locking them until the transaction
    ends; return the state of each row that still carries the worker's token.

    A row another worker took over has a new token and is not returned: the worker must neither send it nor
    write its outcome. A row cancelled meanwhile (an opt-out, a cancelled issue) keeps the token and comes
    back `cancelled`: the worker must not send it, but records what became of a message already in flight.
    """
    current: dict[int, DeliveryStatus] = {}
    ids = list(held)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        rows = session.connection().execute(
            update(_LEDGER)
            .where(_LEDGER.c.id.in_(chunk), _LEDGER.c.claim_token.in_({held[i] for i in chunk}))
            .values(claimed_at=now)
            .returning(_LEDGER.c.id, _LEDGER.c.claim_token, _LEDGER.c.status)
        )
        current.update({row_id: status for row_id, token, status in rows if held[row_id] == token})
    return current


def release_rows(session: Session, *, worker: str, ids: list[int] | None = None) -> None:
    """Put rows this worker claimed but did not try back in the queue (all of them when `ids` is None)."""
    query = update(Delivery).where(Delivery.claimed_by == worker, Delivery.status == DeliveryStatus.SENDING)
    if ids is not None:
        query = query.where(Delivery.id.in_(ids))
    session.execute(
        query.values(
            status=DeliveryStatus.QUEUED, claimed_by=None, claimed_at=None, claim_token=None
        ).execution_options(synchronize_session=False)
    )


def stale_claims(session: Session, *, before: datetime, taker: str, now: datetime) -> dict[str, list[int]]:
    """Rows whose worker stopped renewing its lease, by that worker's name; they are now `taker`'s, under a
    new token, so the stalled worker can write nothing about them if it wakes up."""
    rows = session.execute(
        select(Delivery.id, Delivery.claimed_by)
        .where(Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_at < before)
        .with_for_update(skip_locked=True)
    ).all()
    if not rows:
        return {}
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_([row_id for row_id, _ in rows]))
        .values(claimed_by=taker, claim_token=new_token(), claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    owners: dict[str, list[int]] = {}
    for row_id, owner in rows:
        owners.setdefault(owner or "", []).append(row_id)
    return owners
