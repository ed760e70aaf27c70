"""The subscription lifecycle on real databases: each change on the consent record, and the rules it keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from outreach.db import Database
from outreach.errors import NotFound
from outreach.models import ConsentEvent, Subscriber, SubscriberStatus, SubscriberTopic, Topic
from subscribers import lifecycle
from subscribers.consent import ConsentSource, Origin
from subscribers.directory import add_subscriber
from subscribers.lifecycle import (
    Details,
    NotSubscribed,
    Preferences,
    RequestOutcome,
    StaleConfirmation,
)
from subscribers.tokens import InvalidToken
from tests.conftest import snapshot

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
WEB = Origin(ConsentSource.WEB, ip="192.0.2.7")
EMAIL = Origin(ConsentSource.EMAIL, note="Message-ID <a@b>")
DETAILS = Details(
    "sme@example.jp",
    "株式会社サンプル",
    "海外 太郎",
    Preferences(organization="jetro", language="ja", topics=frozenset({Topic.MEETINGS, Topic.TOOLS})),
)


def _subscriber(db: Database, email: str = "sme@example.jp") -> Subscriber:
    with db.session() as session:
        found = session.scalar(select(Subscriber).where(Subscriber.email == email))
        assert found is not None
        _ = found.organization, sorted(row.topic for row in found.topics)
        return found


def _events(db: Database, email: str = "sme@example.jp") -> list[tuple[str, str, str | None, str | None]]:
    with db.session() as session:
        rows = session.execute(
            select(ConsentEvent.action, ConsentEvent.source, ConsentEvent.ip, ConsentEvent.detail)
            .where(ConsentEvent.email == email)
            .order_by(ConsentEvent.id)
        )
        return [(action, source, ip, detail) for action, source, ip, detail in rows]


def _request(
    db: Database, details: Details = DETAILS, *, now: datetime = T0, origin: Origin = WEB
) -> RequestOutcome:
    with db.session() as session:
        return lifecycle.request_subscription(session, details, origin, now=now).outcome


def _confirm(
    db: Database, details: Details = DETAILS, *, signed_at: datetime = T0, now: datetime = T0
) -> bool:
    with db.session() as session:
        return lifecycle.confirm_subscription(session, details, WEB, signed_at=signed_at, now=now).already


def _unsubscribe(db: Database, *, now: datetime) -> None:
    subscriber_id = _subscriber(db).id
    with db.session() as session:
        lifecycle.unsubscribe(session, subscriber_id, WEB, now=now)


def test_a_request_makes_a_pending_subscription_with_its_choices(seeded_db: Database) -> None:
    assert _request(seeded_db) == RequestOutcome.NEW

    pending = _subscriber(seeded_db)
    assert pending.status == SubscriberStatus.PENDING
    assert (pending.company, pending.name, pending.language) == ("株式会社サンプル", "海外 太郎", "ja")
    assert pending.organization is not None
    assert pending.organization.slug == "jetro"
    assert sorted(row.topic for row in pending.topics) == [Topic.MEETINGS, Topic.TOOLS]
    assert pending.confirmed_at is None
    assert _events(seeded_db) == [("subscribe_requested", "web", "192.0.2.7", None)]


def test_asking_again_while_pending_takes_the_new_choices(seeded_db: Database) -> None:
    _request(seeded_db)
    later = Details(DETAILS.email, "改名後", "", Preferences(language="en"))

    assert _request(seeded_db, later, now=T0 + timedelta(days=2), origin=EMAIL) == RequestOutcome.PENDING

    pending = _subscriber(seeded_db)
    assert (pending.company, pending.language, pending.organization, pending.topics) == (
        "改名後",
        "en",
        None,
        [],
    )
    assert pending.updated_at == T0 + timedelta(days=2)
    assert _events(seeded_db)[-1] == (
        "subscribe_requested",
        "email",
        None,
        "again while pending; Message-ID <a@b>",
    )


def test_confirming_activates_with_the_choices_the_link_carries(seeded_db: Database) -> None:
    _request(seeded_db)

    assert _confirm(seeded_db, now=T0 + timedelta(hours=1)) is False

    active = _subscriber(seeded_db)
    assert active.status == SubscriberStatus.ACTIVE
    assert active.confirmed_at == T0 + timedelta(hours=1)
    assert active.consent_source == "web"
    assert [event[0] for event in _events(seeded_db)] == ["subscribe_requested", "confirmed"]
    assert _confirm(seeded_db) is True  # a second click changes nothing
    assert len(_events(seeded_db)) == 2


def test_a_request_for_an_active_address_changes_nothing_but_the_record(seeded_db: Database) -> None:
    _request(seeded_db)
    _confirm(seeded_db)
    before = _subscriber(seeded_db)
    other = Details(DETAILS.email, "乗っ取り", "x", Preferences(language="en"))

    assert _request(seeded_db, other, now=T0 + timedelta(days=1)) == RequestOutcome.ACTIVE

    after = _subscriber(seeded_db)
    assert (after.company, after.language, after.status) == (before.company, "ja", SubscriberStatus.ACTIVE)
    assert _events(seeded_db)[-1][0::3] == ("subscribe_requested", "already active")


def test_an_unsubscribed_address_comes_back_only_by_confirming_a_newer_link(seeded_db: Database) -> None:
    _request(seeded_db)
    _confirm(seeded_db)
    _unsubscribe(seeded_db, now=T0 + timedelta(days=3))

    assert _request(seeded_db, now=T0 + timedelta(days=4)) == RequestOutcome.RETURNING
    assert _subscriber(seeded_db).status == SubscriberStatus.UNSUBSCRIBED

    before = snapshot(seeded_db)
    with pytest.raises(StaleConfirmation):
        _confirm(seeded_db, signed_at=T0 + timedelta(days=1), now=T0 + timedelta(days=4))
    assert snapshot(seeded_db) == before

    assert _confirm(seeded_db, signed_at=T0 + timedelta(days=4), now=T0 + timedelta(days=4)) is False
    back = _subscriber(seeded_db)
    assert back.status == SubscriberStatus.ACTIVE
    assert back.unsubscribed_at is None


def test_a_bounced_address_that_confirms_again_is_active_with_a_clean_count(seeded_db: Database) -> None:
    _request(seeded_db)
    _confirm(seeded_db)
    with seeded_db.session() as session:
        bounced = session.scalar(select(Subscriber).where(Subscriber.email == DETAILS.email))
        assert bounced is not None
        bounced.status, bounced.bounce_count = SubscriberStatus.BOUNCED, 3

    assert _request(seeded_db) == RequestOutcome.RETURNING
    _confirm(seeded_db, now=T0 + timedelta(days=1))

    assert (_subscriber(seeded_db).status, _subscriber(seeded_db).bounce_count) == (
        SubscriberStatus.ACTIVE,
        0,
    )


def test_a_valid_link_whose_pending_row_was_purged_still_subscribes(seeded_db: Database) -> None:
    assert _confirm(seeded_db) is False
    assert _subscriber(seeded_db).status == SubscriberStatus.ACTIVE


def test_unsubscribing_is_immediate_and_idempotent(seeded_db: Database) -> None:
    _request(seeded_db)
    _confirm(seeded_db)
    _unsubscribe(seeded_db, now=T0 + timedelta(days=1))
    _unsubscribe(seeded_db, now=T0 + timedelta(days=2))

    gone = _subscriber(seeded_db)
    assert gone.status == SubscriberStatus.UNSUBSCRIBED
    assert gone.unsubscribed_at == T0 + timedelta(days=1)
    assert [event[0] for event in _events(seeded_db)] == ["subscribe_requested", "confirmed", "unsubscribed"]
    with seeded_db.session() as session, pytest.raises(NotFound):
        lifecycle.unsubscribe(session, 424242, WEB, now=T0)


def test_preferences_change_and_an_unchanged_form_records_nothing(seeded_db: Database) -> None:
    _request(seeded_db)
    _confirm(seeded_db)
    subscriber_id = _subscriber(seeded_db).id
    every_topic = Preferences(organization="jcci", language="en", topics=frozenset(Topic))

    with seeded_db.session() as session:
        lifecycle.change_preferences(session, subscriber_id, every_topic, WEB, now=T0 + timedelta(days=1))
    with seeded_db.session() as session:
        lifecycle.change_preferences(session, subscriber_id, every_topic, WEB, now=T0 + timedelta(days=2))

    changed = _subscriber(seeded_db)
    assert changed.language == "en"
    assert changed.organization is not None
    assert changed.organization.slug == "jcci"
    assert sorted(row.topic for row in changed.topics) == sorted(Topic)
    actions = [(event[0], event[3]) for event in _events(seeded_db)]
    assert actions[-1] == (
        "preferences_changed",
        "organization jetro -> jcci; language ja -> en; topics -> alerts,meetings,seminars,tools",
    )
    assert len(actions) == 3


def test_an_unsubscribed_address_cannot_change_preferences(seeded_db: Database) -> None:
    _request(seeded_db)
    _confirm(seeded_db)
    _unsubscribe(seeded_db, now=T0)
    before = snapshot(seeded_db)
    with seeded_db.session() as session, pytest.raises(NotSubscribed):
        lifecycle.change_preferences(session, _subscriber(seeded_db).id, Preferences(), WEB, now=T0)
    assert snapshot(seeded_db) == before


def test_purge_deletes_only_pending_subscriptions_past_their_lifetime(seeded_db: Database) -> None:
    _request(seeded_db, Details("old@example.jp", preferences=Preferences(topics=frozenset({Topic.TOOLS}))))
    _request(seeded_db, Details("young@example.jp"), now=T0 + timedelta(days=5))
    _request(seeded_db, Details("confirmed@example.jp"))
    _confirm(seeded_db, Details("confirmed@example.jp"))

    with seeded_db.session() as session:
        purged = lifecycle.purge_expired(session, now=T0 + timedelta(days=7, seconds=1))

    assert purged == ["old@example.jp"]
    with seeded_db.session() as session:
        emails = set(session.scalars(select(Subscriber.email)))
        orphan_topics = session.scalars(select(SubscriberTopic)).all()
    assert emails == {"young@example.jp", "confirmed@example.jp"}
    assert orphan_topics == []
    [_requested, expired] = _events(seeded_db, "old@example.jp")
    assert expired[0:2] == ("expired", "staff")
    with seeded_db.session() as session:
        kept = session.scalars(
            select(ConsentEvent.subscriber_id).where(ConsentEvent.email == "old@example.jp")
        )
        assert list(kept) == [None, None]  # the record outlives the row


def add_subscriber_active(db: Database, email: str) -> None:
    with db.session() as session:
        add_subscriber(session, email, now=T0)


def test_staff_additions_are_on_the_consent_record(seeded_db: Database) -> None:
    add_subscriber_active(seeded_db, "staff-added@example.jp")
    added = _subscriber(seeded_db, "staff-added@example.jp")
    assert (added.consent_source, added.confirmed_at) == ("staff", T0)
    assert _events(seeded_db, "staff-added@example.jp") == [("added", "staff", None, None)]


def test_details_survive_the_trip_through_a_token_payload() -> None:
    assert Details.from_payload(DETAILS.to_payload()) == DETAILS


@pytest.mark.parametrize(
    "payload",
    [None, 7, "x", [], {"e": "a@example.jp"}, {**DETAILS.to_payload(), "t": ["gossip"]},
     {**DETAILS.to_payload(), "l": "fr"}, {**DETAILS.to_payload(), "o": 5}],
)  # fmt: skip
def test_a_payload_of_another_shape_is_an_invalid_link(payload: object) -> None:
    with pytest.raises(InvalidToken):
        Details.from_payload(payload)


@pytest.mark.parametrize(
    ("email", "company"),
    [("not an address", "Acme"), ("a@example.jp", "\x00"), ("a\u202e@example.jp", "Acme")],
    ids=["bad-address", "nul", "bidi"],
)
def test_the_details_of_a_signed_link_are_checked_as_input(email: str, company: str) -> None:
    payload = {"e": email, "c": company, "n": "", "o": None, "l": "ja", "t": []}
    if company == "\x00":  # a NUL is neutralised: PostgreSQL cannot store it in text
        assert lifecycle.Details.from_payload(payload).company == ""
        return
    with pytest.raises(InvalidToken):
        lifecycle.Details.from_payload(payload)
