"""outbox.many: a Core statement run as the driver's executemany writes what SQLAlchemy's own would, on
SQLite and PostgreSQL: aware timestamps, enum values, NULLs and the statement's fixed values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Table, bindparam, insert, select, update

from outreach.db import Database
from outreach.models import (
    AttemptKind,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Issue,
    Subscriber,
    SubscriberStatus,
)
from outreach.outbox.many import ManyRows

_ATTEMPTS: Table = DeliveryAttempt.__table__  # type: ignore[assignment]
_LEDGER: Table = Delivery.__table__  # type: ignore[assignment]
AT = datetime(2026, 12, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _deliveries(db: Database, count: int) -> list[int]:
    """`count` queued ledger rows of one issue, each for a subscriber of its own."""
    with db.session() as session:
        issue = Issue(number=1, subject_ja="号", subject_en="No.", issue_date=AT.date())
        subscribers = [
            Subscriber(email=f"m{index}@example.jp", status=SubscriberStatus.ACTIVE, consent_source="test")
            for index in range(count)
        ]
        session.add_all([issue, *subscribers])
        session.flush()
        rows = [
            Delivery(issue_id=issue.id, subscriber_id=s.id, language="ja", email=s.email) for s in subscribers
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def test_inserted_rows_read_back_as_the_orm_writes_them(db: Database) -> None:
    ids = _deliveries(db, 3)
    add = ManyRows(
        insert(_ATTEMPTS).values(
            {
                **{
                    name: bindparam(name) for name in ("delivery_id", "attempted_at", "outcome", "smtp_reply")
                },
                "smtp_code": bindparam("smtp_code"),
                "kind": AttemptKind.RELAY,
            }
        )
    )
    rows = [
        {
            "delivery_id": ids[0],
            "attempted_at": AT,
            "outcome": DeliveryStatus.SENT,
            "smtp_code": 250,
            "smtp_reply": "ok",
        },
        {
            "delivery_id": ids[1],
            "attempted_at": AT + timedelta(hours=9),
            "outcome": DeliveryStatus.DEFERRED,
            "smtp_code": None,
            "smtp_reply": "接続が切れました",
        },
    ]
    with db.session() as session:
        add.execute(session.connection(), rows)
        add.execute(session.connection(), [])  # nothing: no statement at all
    with db.session() as session:
        got = session.scalars(select(DeliveryAttempt).order_by(DeliveryAttempt.delivery_id)).all()
        assert [
            (a.delivery_id, a.attempted_at, a.outcome, a.smtp_code, a.smtp_reply, a.kind) for a in got
        ] == [
            (ids[0], AT, DeliveryStatus.SENT, 250, "ok", AttemptKind.RELAY),
            (
                ids[1],
                AT + timedelta(hours=9),
                DeliveryStatus.DEFERRED,
                None,
                "接続が切れました",
                AttemptKind.RELAY,
            ),
        ]


def test_an_update_touches_only_the_rows_its_where_clause_names_and_sets_the_fixed_values(
    db: Database,
) -> None:
    ids = _deliveries(db, 3)
    with db.session() as session:
        session.execute(update(Delivery).values(claimed_by="w", claim_token="t"))
    mark = ManyRows(
        update(_LEDGER)
        .where(_LEDGER.c.id == bindparam("row_id"), _LEDGER.c.claim_token == bindparam("token"))
        .values(status=bindparam("status"), updated_at=bindparam("at"), claimed_by=None, claim_token=None)
    )
    with db.session() as session:
        mark.execute(
            session.connection(),
            [
                {"row_id": ids[0], "token": "t", "status": DeliveryStatus.SENT, "at": AT},
                {"row_id": ids[1], "token": "someone else's", "status": DeliveryStatus.SENT, "at": AT},
            ],
        )
    with db.session() as session:
        got = session.execute(
            select(Delivery.status, Delivery.updated_at == AT, Delivery.claimed_by).order_by(Delivery.id)
        ).all()
    assert [tuple(row) for row in got] == [
        (DeliveryStatus.SENT, True, None),
        (DeliveryStatus.QUEUED, False, "w"),
        (DeliveryStatus.QUEUED, False, "w"),
    ]


def test_a_statement_that_leaves_a_python_default_to_sqlalchemy_is_refused(db: Database) -> None:
    add = ManyRows(
        insert(_ATTEMPTS).values(delivery_id=bindparam("delivery_id"), outcome=bindparam("outcome"))
    )
    with db.session() as session, pytest.raises(ValueError, match="attempted_at"):
        add.execute(session.connection(), [{"delivery_id": 1, "outcome": DeliveryStatus.SENT}])
