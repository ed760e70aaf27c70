"""Who an alert issue concerns: the places rule, where the ledger is written, counted and checked again."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from outreach.alerts.audience import entries_by_subscriber, has_audience
from outreach.alerts.dispatch import dispatch
from outreach.alerts.models import SubscriberPlace
from outreach.alerts.settings import AlertMode
from outreach.config import Settings
from outreach.db import Database
from outreach.issues import get_issue
from outreach.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Subscriber,
    SubscriberStatus,
    SubscriberTopic,
    Topic,
)
from outreach.outbox import claim_rows
from outreach.usecases.sends import audience
from tests.alert_support import (
    ASIA,
    CANADA,
    NOW,
    PHILIPPINES,
    THAILAND,
    add_entry,
    add_subscriber,
    alerts_in,
)

# email -> (places, topics, status): who is who in the tests below.
PEOPLE = {
    "thai@example.jp": ([THAILAND], (), SubscriberStatus.ACTIVE),
    "asia@example.jp": ([ASIA], (), SubscriberStatus.ACTIVE),
    "thai-alerts@example.jp": ([THAILAND], (Topic.ALERTS, Topic.MEETINGS), SubscriberStatus.ACTIVE),
    "philippines@example.jp": ([PHILIPPINES], (), SubscriberStatus.ACTIVE),
    "canada@example.jp": ([CANADA], (), SubscriberStatus.ACTIVE),
    "thai-meetings-only@example.jp": ([THAILAND], (Topic.MEETINGS,), SubscriberStatus.ACTIVE),
    "thai-left@example.jp": ([THAILAND], (), SubscriberStatus.UNSUBSCRIBED),
    "nowhere@example.jp": ([], (), SubscriberStatus.ACTIVE),
}


def _people(db: Database) -> dict[str, int]:
    organizations = ["jetro", "jcci", None]
    return {
        email: add_subscriber(
            db, email, places, topics=topics, status=status, organization=organizations[n % 3]
        )
        for n, (email, (places, topics, status)) in enumerate(PEOPLE.items())
    }


def _queued(db: Database, number: int) -> set[str]:
    with db.session() as session:
        issue_id = get_issue(session, number).id
        return set(session.scalars(select(Delivery.email).where(Delivery.issue_id == issue_id)))


def test_a_country_reaches_its_subscribers_and_its_regions_not_the_others(
    seeded_db: Database, settings: Settings
) -> None:
    _people(seeded_db)
    add_entry(seeded_db, "th-1", [THAILAND])

    done = dispatch(seeded_db, settings, alerts_in(AlertMode.AUTO), now=NOW, actor="scheduler")

    [number] = done.started
    assert _queued(seeded_db, number) == {"thai@example.jp", "asia@example.jp", "thai-alerts@example.jp"}


def test_a_whole_region_reaches_every_country_in_it(seeded_db: Database, settings: Settings) -> None:
    _people(seeded_db)
    add_entry(seeded_db, "asia-1", [ASIA])

    [number] = dispatch(seeded_db, settings, alerts_in(AlertMode.AUTO), now=NOW, actor="scheduler").started

    expected = {"thai@example.jp", "asia@example.jp", "thai-alerts@example.jp", "philippines@example.jp"}
    assert _queued(seeded_db, number) == expected


def test_the_count_before_a_send_is_the_people_the_send_reaches(
    seeded_db: Database, settings: Settings
) -> None:
    _people(seeded_db)
    add_entry(seeded_db, "th-1", [THAILAND])
    [number] = dispatch(seeded_db, settings, alerts_in(AlertMode.APPROVE), now=NOW, actor="cli:a").composed
    with seeded_db.session() as session:
        issue = get_issue(session, number)
        counted = {row.slug: row.recipients for row in audience(session, issue)}
        assert sum(counted.values()) == 3
        expected = {"jetro": 1, "jcci": 1, "network": 1}  # thai (jetro), asia (jcci), thai-alerts (none)
        assert counted == expected


def test_entries_nobody_does_business_in_are_only_recorded(seeded_db: Database, settings: Settings) -> None:
    _people(seeded_db)
    nobody = add_entry(seeded_db, "fr-1", [("42", "0033", "フランス")])
    with seeded_db.session() as session:
        assert not has_audience(session, nobody)

    done = dispatch(seeded_db, settings, alerts_in(AlertMode.AUTO), now=NOW, actor="scheduler")

    assert (done.composed, done.recorded) == ([], 1)
    assert "1 entries recorded only" in done.summary()


def test_a_claim_cancels_those_who_left_narrowed_or_dropped_the_country(
    seeded_db: Database, settings: Settings
) -> None:
    people = _people(seeded_db)
    add_entry(seeded_db, "th-1", [THAILAND])
    [number] = dispatch(seeded_db, settings, alerts_in(AlertMode.AUTO), now=NOW, actor="scheduler").started
    with seeded_db.session() as session:
        # Before any row is claimed: one leaves, one keeps meetings only, one no longer does business there.
        session.execute(
            update(Subscriber)
            .where(Subscriber.id == people["thai@example.jp"])
            .values(status=SubscriberStatus.UNSUBSCRIBED)
        )
        session.execute(
            delete(SubscriberTopic).where(
                SubscriberTopic.subscriber_id == people["thai-alerts@example.jp"],
                SubscriberTopic.topic == Topic.ALERTS,
            )
        )
        session.execute(
            delete(SubscriberPlace).where(SubscriberPlace.subscriber_id == people["asia@example.jp"])
        )

    with seeded_db.session() as session:
        issue_id = get_issue(session, number).id
        claimed = claim_rows(session, worker="w1", limit=10, now=NOW, issue_id=None)
        why = dict(
            session.execute(
                select(Delivery.email, DeliveryAttempt.smtp_reply).join(
                    DeliveryAttempt, DeliveryAttempt.delivery_id == Delivery.id
                )
            ).all()
        )
        states = set(session.scalars(select(Delivery.status).where(Delivery.issue_id == issue_id)))

    assert claimed == []
    assert states == {DeliveryStatus.CANCELLED}
    assert why == {
        "thai@example.jp": "not sent: the subscriber is unsubscribed",
        "thai-alerts@example.jp": "not sent: the subscriber no longer wants this issue's topics",
        "asia@example.jp": (
            "not sent: the subscriber no longer does business in any country or region of this alert"
        ),
    }


def test_each_reader_is_matched_to_the_entries_of_their_places(
    seeded_db: Database, settings: Settings
) -> None:
    people = _people(seeded_db)
    thai = add_entry(seeded_db, "th-1", [THAILAND])
    philippine = add_entry(seeded_db, "ph-1", [PHILIPPINES])
    [number] = dispatch(seeded_db, settings, alerts_in(AlertMode.AUTO), now=NOW, actor="scheduler").started

    with seeded_db.session() as session:
        matched = entries_by_subscriber(session, get_issue(session, number))

    assert matched == {
        people["thai@example.jp"]: (thai,),
        people["thai-alerts@example.jp"]: (thai,),
        people["asia@example.jp"]: (thai, philippine),
        people["philippines@example.jp"]: (philippine,),
    }
