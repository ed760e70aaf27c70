"""Bounces and complaints after delivery, end to end: a real send through a real SMTP server, then every
fixture report mailed (null sender) to the real inbound endpoint, and the ledger read back."""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from outreach.config import Settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue
from outreach.models import (
    AttemptKind,
    ConsentEvent,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Subscriber,
    SubscriberStatus,
)
from outreach.secret import Secret
from outreach.verp import Verp
from subscribers.feedback import Feedback
from subscribers.inbound import InboundServer
from tests.conftest import snapshot
from tests.feedback_fixtures import FIXTURES, Expected, render
from tests.smtp_server import SmtpServer
from tests.test_delivery import _add_recipients, _send
from tests.test_inbound import running

DOMAIN = "example.jp"


@dataclass(frozen=True)
class Sent:
    """What the relay received for one subscriber: the envelope sender and the Message-ID."""

    email: str
    verp: str
    message_id: str


def _compose(db: Database, plenary: int = 8) -> int:
    with db.session() as session:
        return compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", plenary))]).number


def _send_to(db: Database, settings: Settings, smtp: SmtpServer, emails: list[str], plenary: int = 8) -> None:
    """Subscribe `emails` (if new) and send them an issue through the real test relay."""
    with db.session() as session:
        known = set(session.scalars(select(Subscriber.email)))
    _add_recipients(
        db, [(email, "jetro", "ja", "株式会社テスト", "試験 太郎") for email in emails if email not in known]
    )
    run = _send(db, settings, smtp.port, _compose(db, plenary))
    assert run.finished


def _received(smtp: SmtpServer, email: str) -> Sent:
    received = smtp.handler.to(email)[-1]
    return Sent(email, received.mail_from, str(received.parsed()["Message-ID"]))


def _raw(expected: Expected, sent: Sent, sender: str, *, to: str = "", message_id: str = "") -> bytes:
    """The fixture's report about `sent`, addressed to `to` (its VERP address unless given)."""
    return render(
        expected.file,
        verp=to or sent.verp,
        recipient=sent.email,
        message_id=message_id or sent.message_id,
        sender=sender,
    )


def _report(server: InboundServer, raw: bytes, to: str) -> tuple[int, bytes]:
    """Mail a report as a mailer-daemon does: a null envelope sender."""
    with smtplib.SMTP(server.host, server.port, timeout=30) as client:
        client.ehlo()
        assert client.mail("<>")[0] == 250
        assert client.rcpt(to)[0] == 250
        return client.data(raw)


def _mailbox(expected: Expected) -> str:
    return f"{expected.file.removesuffix('.eml').replace('_', '-')}@sme.example.jp"


def _delivery(db: Database, email: str) -> tuple[Delivery, list[DeliveryAttempt], Subscriber]:
    with db.session() as session:
        delivery = session.scalars(
            select(Delivery).where(Delivery.email == email).order_by(Delivery.id.desc())
        ).first()
        assert delivery is not None
        attempts = list(delivery.attempts_log)
        subscriber = delivery.subscriber
        session.expunge_all()
    return delivery, attempts, subscriber


def _consent(db: Database, email: str) -> list[tuple[str, str]]:
    with db.session() as session:
        rows = session.execute(
            select(ConsentEvent.action, ConsentEvent.source)
            .where(ConsentEvent.email == email)
            .order_by(ConsentEvent.id)
        )
        return [(action, source) for action, source in rows]


@pytest.fixture
def inbound(seeded_db: Database, settings: Settings, smtp_server: SmtpServer) -> Iterator[InboundServer]:
    with running(settings, smtp_server) as server:
        yield server


def test_every_fixture_after_a_real_send_lands_on_its_delivery(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer, inbound: InboundServer
) -> None:
    emails = [_mailbox(expected) for expected in FIXTURES]
    _send_to(seeded_db, settings, smtp_server, emails)
    for expected in FIXTURES:
        sent = _received(smtp_server, _mailbox(expected))
        assert Verp(settings.secret_key, DOMAIN).delivery_id(sent.verp) is not None
        raw = _raw(expected, sent, settings.sender_address)
        assert _report(inbound, raw, sent.verp)[0] == 250, expected.file

    for expected in FIXTURES:
        _check(seeded_db, expected, _mailbox(expected))


def _check(db: Database, expected: Expected, email: str) -> None:
    delivery, attempts, subscriber = _delivery(db, email)
    kinds = [attempt.kind for attempt in attempts]
    if expected.kind == "none":
        assert delivery.status == DeliveryStatus.SENT, expected.file
        assert kinds == [AttemptKind.RELAY], expected.file
        assert subscriber.status == SubscriberStatus.ACTIVE, expected.file
    elif expected.kind == "complaint":
        assert delivery.status == DeliveryStatus.SENT, expected.file
        assert kinds == [AttemptKind.RELAY, AttemptKind.COMPLAINT], expected.file
        assert subscriber.status == SubscriberStatus.UNSUBSCRIBED, expected.file
        assert ("unsubscribed", "complaint") in _consent(db, email), expected.file
    else:
        assert delivery.status == DeliveryStatus.BOUNCED, expected.file
        assert kinds == [AttemptKind.RELAY, AttemptKind.BOUNCE], expected.file
        bounce = attempts[-1]
        assert bounce.bounce_class == expected.bounce_class, expected.file
        assert bounce.status_code == expected.status, expected.file
        assert (bounce.smtp_reply or "").startswith("bounce after delivery"), expected.file
        hard = expected.bounce_class == "hard"
        assert subscriber.status == (SubscriberStatus.BOUNCED if hard else SubscriberStatus.ACTIVE), (
            expected.file
        )
        assert (("bounced", "bounce") in _consent(db, email)) == hard, expected.file


def _first(kind: str, *, bounce_class: str | None = None, message_id: bool | None = None) -> Expected:
    return next(
        expected
        for expected in FIXTURES
        if expected.kind == kind
        and (bounce_class is None or expected.bounce_class == bounce_class)
        and (message_id is None or expected.has_message_id == message_id)
    )


def test_a_report_to_the_plain_bounce_address_is_found_by_its_signed_message_id(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer, inbound: InboundServer
) -> None:
    hard = _first("bounce", bounce_class="hard", message_id=True)
    cut = _first("bounce", message_id=False)
    _send_to(seeded_db, settings, smtp_server, ["found@sme.example.jp", "cut@sme.example.jp"])
    found, lost = _received(smtp_server, "found@sme.example.jp"), _received(smtp_server, "cut@sme.example.jp")

    # The returned message names the delivery by its Message-ID; the envelope is the plain bounce mailbox.
    plain = f"bounces@{DOMAIN}"
    assert _report(inbound, _raw(hard, found, settings.sender_address, to=plain), plain)[0] == 250
    # A report that returned nothing of the message names no delivery without its VERP address: dropped.
    before = snapshot(seeded_db)
    assert _report(inbound, _raw(cut, lost, settings.sender_address, to=plain), plain)[0] == 250

    assert _delivery(seeded_db, found.email)[0].status == DeliveryStatus.BOUNCED
    assert snapshot(seeded_db) == before


def test_a_forged_or_altered_token_or_message_id_changes_nothing(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer, inbound: InboundServer
) -> None:
    hard = _first("bounce", bounce_class="hard", message_id=True)
    _send_to(seeded_db, settings, smtp_server, ["victim@sme.example.jp"])
    sent = _received(smtp_server, "victim@sme.example.jp")
    delivery_id = Verp(settings.secret_key, DOMAIN).delivery_id(sent.verp)
    assert delivery_id is not None
    other_key = Verp(Secret("another-key-that-is-long-enough-0123456789"), DOMAIN)
    local, _, _ = sent.verp.partition("@")
    guessed_id = f"<{'a' * 24}@{sent.message_id.rpartition('@')[2]}"
    forgeries = [
        (other_key.address(delivery_id), sent.message_id),  # signed with another key
        (
            f"{local[:-1]}{'b' if local[-1] != 'b' else 'c'}@{DOMAIN}",
            sent.message_id,
        ),  # one character changed
        (f"bounces+{local.split('+')[1].split('.')[0]}@{DOMAIN}", sent.message_id),  # the signature cut off
        (f"bounces@{DOMAIN}", guessed_id),  # a guessed Message-ID, to the plain mailbox
    ]
    before = snapshot(seeded_db)
    for verp, message_id in forgeries:
        raw = _raw(hard, sent, settings.sender_address, to=verp, message_id=message_id)
        assert _report(inbound, raw, verp)[0] == 250
    assert snapshot(seeded_db) == before


def test_soft_bounces_end_a_subscription_at_the_limit_within_the_window(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    soft = _first("bounce", bounce_class="soft", message_id=True)
    email = "full@sme.example.jp"
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    clock = iter(
        [start - settings.delivery.bounce_window - timedelta(days=1), start, start + timedelta(days=1)]
    )
    feedback = Feedback(seeded_db, settings, clock=lambda: next(clock))
    for plenary in (6, 7, 8):
        _send_to(seeded_db, settings, smtp_server, [email], plenary)
        sent = _received(smtp_server, email)
        raw = _raw(soft, sent, settings.sender_address)
        taken = asyncio.run(feedback.take(raw, [sent.verp], note="test"))
        assert taken.action == "bounce"
        status = _delivery(seeded_db, email)[2].status
        # The first of three fell outside the window: with the default limit of 3, still active.
        assert status == SubscriberStatus.ACTIVE
    # One more inside the window reaches the limit.
    _send_to(seeded_db, settings, smtp_server, [email], 5)
    sent = _received(smtp_server, email)
    again = Feedback(seeded_db, settings, clock=lambda: start + timedelta(days=2))
    asyncio.run(again.take(_raw(soft, sent, settings.sender_address), [sent.verp], note="test"))
    assert _delivery(seeded_db, email)[2].status == SubscriberStatus.BOUNCED
    assert ("bounced", "bounce") in _consent(seeded_db, email)


def test_a_second_report_for_the_same_delivery_counts_once(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer, inbound: InboundServer
) -> None:
    soft = _first("bounce", bounce_class="soft", message_id=True)
    email = "twice@sme.example.jp"
    _send_to(seeded_db, settings, smtp_server, [email])
    sent = _received(smtp_server, email)
    raw = _raw(soft, sent, settings.sender_address)
    for _ in range(3):
        assert _report(inbound, raw, sent.verp)[0] == 250
    _, attempts, subscriber = _delivery(seeded_db, email)
    assert [attempt.kind for attempt in attempts].count(AttemptKind.BOUNCE) == 3  # each one logged
    assert subscriber.status == SubscriberStatus.ACTIVE
