"""Writing an issue's ledger rows in one INSERT … SELECT: a row for each active subscriber who wants it, and
none twice when the issue has rows already (outreach.outbox.queue.enqueue_issue)."""

from __future__ import annotations

from sqlalchemy import func, select

from outreach.db import Database
from outreach.issues import get_issue, issue_topics
from outreach.models import Delivery, Subscriber, SubscriberStatus
from outreach.outbox import enqueue_issue
from subscribers.directory import add_subscriber


def _rows(db: Database, issue_number: int) -> list[int]:
    with db.session() as session:
        issue = get_issue(session, issue_number)
        return list(session.scalars(select(Delivery.subscriber_id).where(Delivery.issue_id == issue.id)))


def test_a_row_for_each_active_subscriber_and_none_twice(seeded_db: Database, second_issue: int) -> None:
    with seeded_db.session() as session:
        for number in range(300):
            add_subscriber(session, f"reader{number}@example.jp")
        add_subscriber(session, "pending@example.jp", status=SubscriberStatus.PENDING)
        active = session.scalar(
            select(func.count()).select_from(Subscriber).where(Subscriber.status == SubscriberStatus.ACTIVE)
        )
    with seeded_db.session() as session:
        issue = get_issue(session, second_issue)
        assert enqueue_issue(session, issue, issue_topics(issue)) == active
    rows = _rows(seeded_db, second_issue)
    assert len(rows) == len(set(rows)) == active
    with seeded_db.session() as session:
        add_subscriber(session, "late@example.jp")
        issue = get_issue(session, second_issue)
        assert enqueue_issue(session, issue, issue_topics(issue)) == 1, "only the one who has no row yet"
        assert enqueue_issue(session, issue, issue_topics(issue)) == 0
    rows = _rows(seeded_db, second_issue)
    assert len(rows) == len(set(rows)) == active + 1
