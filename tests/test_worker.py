"""The delivery engine against a real SMTP server that misbehaves on purpose: every recipient ends right."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from outreach.config import Settings, SmtpRelay, SmtpTimeouts
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.errors import InvalidInput, RelayUnavailable
from outreach.issues import compose_issue, get_issue
from outreach.lanes import Lane, lanes_for
from outreach.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    IssueStatus,
    Subscriber,
    SubscriberStatus,
    SubscriberTopic,
    Topic,
)
from outreach.ratelimit import RateLimits
from outreach.smtp import SmtpConnection
from outreach.staff import audit
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases.approval import Acting
from outreach.usecases.sends import (
    cancel_send,
    make_worker,
    pause_send,
    resume_send,
    retry_send,
    send_now,
    start_send,
)
from outreach.worker import Worker
from subscribers.links import SignedLinks
from tests.smtp_server import SmtpServer, free_port

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
UNCHECKED = Acting("cli:tester", ApprovalPolicy.NONE)  # the sign-off rule has its own tests (test_approval)


def _subscribers(db: Database, count: int, *, prefix: str = "sme") -> list[str]:
    emails = [f"{prefix}{index:04d}@example.jp" for index in range(count)]
    with db.session() as session:
        session.add_all(
            Subscriber(email=email, company=f"会社{index}", name="", status=SubscriberStatus.ACTIVE)
            for index, email in enumerate(emails)
        )
    return emails


def _issue(db: Database, *, start: bool = True) -> int:
    with db.session() as session:
        issue = compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 8))])
        if start:
            start_send(session, issue, now=NOW, by=UNCHECKED)
        return issue.id


def _lanes(server: SmtpServer, count: int = 1, *, timeout: float = 10.0) -> list[Lane]:
    relay = SmtpRelay("127.0.0.1", server.port, "none")
    return [
        Lane(
            lambda: SmtpConnection(relay, timeouts=SmtpTimeouts(*([timeout] * 5))),
            RateLimits(rate=None, per_hour=None, domain_rates={}),
        )
        for _ in range(count)
    ]


def _run(db: Database, settings: Settings, lanes: list[Lane], *, clock: datetime | None = None) -> Worker:
    worker = make_worker(db, settings, links=SignedLinks(settings), lanes=lanes, clock=lambda: clock or NOW)
    try:
        asyncio.run(worker.run(until_idle=True))
    finally:
        worker.close()
    return worker


def _worker(db: Database, settings: Settings, server: SmtpServer) -> Worker:
    return make_worker(db, settings, links=SignedLinks(settings), lanes=_lanes(server), clock=lambda: NOW)


def _pausing_after_3(db: Database, settings: Settings, server: SmtpServer) -> Settings:
    """Ten recipients whose every message the relay refuses for now, and a send that pauses after 3 errors."""
    for email in _subscribers(db, 10):
        server.handler.data_replies[email] = "421 4.7.0 try later"
    _issue(db)
    return replace(settings, delivery=replace(settings.delivery, pause_after_errors=3))


def _seen_while_running(worker: Worker, condition: Callable[[], bool], *, timeout: float = 20) -> bool:
    """Run a long-running worker until the condition holds (or the timeout), then stop it; was it seen?"""

    async def watch() -> bool:
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(until_idle=False, stop=stop))
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition() and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)  # the worker runs meanwhile; we look at the database
        seen = condition()
        stop.set()
        await running
        return seen

    try:
        return asyncio.run(watch())
    finally:
        worker.close()


def _ledger(db: Database) -> dict[str, tuple[DeliveryStatus, int | None, int]]:
    with db.session() as session:
        rows = session.execute(select(Delivery.email, Delivery.status, Delivery.smtp_code, Delivery.attempts))
        return {email: (status, code, attempts) for email, status, code, attempts in rows}


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_a_pool_of_connections_sends_each_recipient_exactly_once(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer, pipelining: bool
) -> None:
    smtp_server.handler.pipelining = pipelining
    emails = _subscribers(seeded_db, 60)
    issue_id = _issue(seeded_db)

    worker = _run(seeded_db, settings, _lanes(smtp_server, 3))

    assert smtp_server.handler.copies() == dict.fromkeys(emails, 1)
    assert set(_ledger(seeded_db).values()) == {(DeliveryStatus.SENT, 250, 1)}
    assert worker.report.outcomes == Counter({"sent": 60})
    with seeded_db.session() as session:
        assert session.get_one(type(get_issue(session, 1)), issue_id).status == IssueStatus.SENT


def test_a_worker_sends_the_next_message_before_the_reply_where_the_relay_pipelines(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    emails = _subscribers(seeded_db, 5)
    smtp_server.handler.pipelining = True
    smtp_server.handler.await_next_mail = set(emails[:3])  # the last ones may wait for no next message
    _issue(seeded_db)

    _run(seeded_db, settings, _lanes(smtp_server))

    assert smtp_server.handler.pipelined == dict.fromkeys(emails[:3], True)
    assert smtp_server.handler.copies() == dict.fromkeys(emails, 1)
    assert set(_ledger(seeded_db).values()) == {(DeliveryStatus.SENT, 250, 1)}


def test_leading_dots_survive_the_trip(smtp_server: SmtpServer) -> None:
    smtp_server.handler.pipelining = True
    message = b"Subject: dots\r\n\r\n.one\r\n..two\r\nthree.\r\n.\r\n"

    async def send() -> None:
        connection = SmtpConnection(SmtpRelay("127.0.0.1", smtp_server.port, "none"))
        await connection.open()
        reply = await connection.send(sender="a@example.jp", recipient="b@example.jp", message=message)
        await connection.close()
        assert reply.code == 250

    asyncio.run(send())
    [received] = smtp_server.handler.messages
    assert received.data == message


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_every_kind_of_fault_ends_in_the_right_state_with_the_right_attempts(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer, pipelining: bool
) -> None:
    refused, busy, dropped, slow, dropped_twice, fine = _subscribers(seeded_db, 6)
    handler = smtp_server.handler
    handler.pipelining = pipelining
    handler.rcpt_replies[refused] = "550 5.1.1 user unknown"
    handler.data_replies[busy] = "451 4.7.1 greylisted, try later"
    handler.drop_on_data[dropped] = 1
    handler.drop_on_data[dropped_twice] = 2
    handler.delays[slow] = [3.0]
    _issue(seeded_db)

    _run(seeded_db, settings, _lanes(smtp_server, timeout=0.5))

    ledger = _ledger(seeded_db)
    assert ledger[refused] == (DeliveryStatus.BOUNCED, 550, 1)  # 5.1.1: the address does not exist
    assert ledger[busy] == (DeliveryStatus.DEFERRED, 451, 1)
    assert ledger[dropped] == (DeliveryStatus.SENT, 250, 2)
    assert ledger[slow] == (DeliveryStatus.SENT, 250, 2)
    assert ledger[dropped_twice] == (DeliveryStatus.DEFERRED, None, 2)
    assert ledger[fine] == (DeliveryStatus.SENT, 250, 1)
    assert handler.copies() == {dropped: 1, slow: 1, fine: 1}
    with seeded_db.session() as session:
        deferred = session.scalars(select(Delivery).where(Delivery.email == busy)).one()
        assert deferred.next_attempt_at == NOW + settings.delivery.retry_first
        attempts = session.execute(
            select(Delivery.email, DeliveryAttempt.outcome, DeliveryAttempt.smtp_code)
            .join(Delivery)
            .order_by(DeliveryAttempt.id)
        ).all()
        assert [(a.outcome, a.smtp_code) for a in attempts if a.email == dropped] == [
            (DeliveryStatus.DEFERRED, None),
            (DeliveryStatus.SENT, 250),
        ]
        bounced = session.execute(
            select(Subscriber.status, Subscriber.bounce_count).where(Subscriber.email == refused)
        ).one()
        assert tuple(bounced) == (SubscriberStatus.BOUNCED, 1)  # a hard bounce ends it at once
        assert get_issue(session, 1).status == IssueStatus.SENDING  # two rows wait for their retry


def test_a_deferred_recipient_fails_after_the_deadline_and_a_soft_bounce_counts_to_the_limit(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    busy, refused = _subscribers(seeded_db, 2)
    smtp_server.handler.data_replies[busy] = "421 4.3.2 system not accepting network messages"
    smtp_server.handler.rcpt_replies[refused] = "552 5.2.2 mailbox full"
    settings = replace(settings, delivery=replace(settings.delivery, bounce_limit=1))
    _issue(seeded_db)
    _run(seeded_db, settings, _lanes(smtp_server))

    later = NOW + settings.delivery.retry_deadline + timedelta(minutes=1)
    _run(seeded_db, settings, _lanes(smtp_server), clock=later)

    assert _ledger(seeded_db)[busy] == (DeliveryStatus.FAILED, 421, 2)
    with seeded_db.session() as session:
        assert session.scalars(select(Subscriber.status).where(Subscriber.email == refused)).one() == (
            SubscriberStatus.BOUNCED
        )
        assert get_issue(session, 1).status == IssueStatus.SENT


def test_retry_sends_again_only_to_the_failed_and_deferred(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    refused, busy, fine = _subscribers(seeded_db, 3)
    smtp_server.handler.rcpt_replies[refused] = "550 5.7.1 policy rejection"
    smtp_server.handler.data_replies[busy] = "452 4.3.1 insufficient storage"
    _issue(seeded_db)
    _run(seeded_db, settings, _lanes(smtp_server))
    smtp_server.handler.rcpt_replies.clear()
    smtp_server.handler.data_replies.clear()

    with seeded_db.session() as session:
        assert retry_send(session, 1, actor="cli:tester", ip="192.0.2.7") == 2
    with seeded_db.session() as session:
        retried = [e for e in audit.read_page(session).entries if e.action == "issue.retry"]
        assert [(e.actor, e.target, e.detail, e.ip) for e in retried] == [
            ("cli:tester", audit.issue_target(1), "2 recipients queued again", "192.0.2.7")
        ]
    _run(seeded_db, settings, _lanes(smtp_server))

    assert smtp_server.handler.copies() == {refused: 1, busy: 1, fine: 1}
    assert _ledger(seeded_db)[refused] == (DeliveryStatus.SENT, 250, 2)


def test_too_many_errors_in_a_row_pause_the_send_and_resume_finishes_it(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    emails = _subscribers(seeded_db, 10)
    for email in emails:
        smtp_server.handler.data_replies[email] = "421 4.7.0 too many connections from your host"
    settings = replace(settings, delivery=replace(settings.delivery, pause_after_errors=3))
    _issue(seeded_db)

    _run(seeded_db, settings, _lanes(smtp_server))

    states = Counter(status for status, _, _ in _ledger(seeded_db).values())
    assert states == Counter({DeliveryStatus.DEFERRED: 3, DeliveryStatus.QUEUED: 7})
    with seeded_db.session() as session:
        issue = get_issue(session, 1)
        assert issue.status == IssueStatus.PAUSED
        assert issue.pause_reason is not None
        assert "3 errors in a row" in issue.pause_reason
        assert "421 4.7.0" in issue.pause_reason
    smtp_server.handler.data_replies.clear()
    with seeded_db.session() as session:
        resume_send(session, 1, actor="cli:tester")
    _run(seeded_db, settings, _lanes(smtp_server))
    assert sum(smtp_server.handler.copies().values()) == 7


def test_staff_pause_and_cancel_stop_a_send(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    _subscribers(seeded_db, 4)
    _issue(seeded_db)
    with seeded_db.session() as session:
        pause_send(session, 1, actor="cli:tester")
    mailer = _lanes(smtp_server)[0].open_mailer()
    with pytest.raises(InvalidInput, match="paused"):
        asyncio.run(
            send_now(seeded_db, settings, 1, links=SignedLinks(settings), by=UNCHECKED, mailer=mailer)
        )

    with seeded_db.session() as session:
        assert cancel_send(session, 1, actor="cli:tester") == 4
    _run(seeded_db, settings, _lanes(smtp_server))

    assert smtp_server.handler.messages == []
    assert {status for status, _, _ in _ledger(seeded_db).values()} == {DeliveryStatus.CANCELLED}
    with seeded_db.session() as session, pytest.raises(InvalidInput, match="cancelled"):
        resume_send(session, 1, actor="cli:tester")


@pytest.mark.parametrize("policy", ["resend", "hold"])
def test_a_restarted_worker_settles_its_journal(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer, policy: str
) -> None:
    went_out, in_flight, untouched, abandoned = _subscribers(seeded_db, 4)
    _issue(seeded_db)
    settings = replace(settings, delivery=replace(settings.delivery, unknown_policy=policy))
    worker = _worker(seeded_db, settings, smtp_server)
    with seeded_db.session() as session:  # what a killed worker leaves: its rows claimed, its journal written
        ids = {row.email: row.id for row in session.execute(select(Delivery.email, Delivery.id))}
        session.execute(
            update(Delivery)
            .where(Delivery.email.in_([went_out, in_flight, untouched]))
            .values(status=DeliveryStatus.SENDING, claimed_by=worker.name, claimed_at=NOW)
        )
        session.execute(
            update(Delivery)
            .where(Delivery.email == abandoned)
            .values(
                status=DeliveryStatus.SENDING, claimed_by="a-dead-host", claimed_at=NOW - timedelta(hours=1)
            )
        )
    worker.journal.started(ids[went_out], "<m1>")
    worker.journal.finished(ids[went_out], 250, "2.0.0 Ok: queued", "<m1>")
    worker.journal.started(ids[in_flight], "<m2>")

    unknown = worker.recover()
    worker.close()

    assert unknown == 2
    ledger = _ledger(seeded_db)
    assert ledger[went_out] == (DeliveryStatus.SENT, 250, 1)
    assert ledger[untouched][0] == DeliveryStatus.QUEUED
    expected = DeliveryStatus.QUEUED if policy == "resend" else DeliveryStatus.UNKNOWN
    assert ledger[in_flight][0] == expected
    assert ledger[abandoned][0] == expected
    with seeded_db.session() as session:
        outcomes = session.scalars(
            select(DeliveryAttempt.outcome).where(DeliveryAttempt.delivery_id == ids[in_flight])
        ).all()
        assert outcomes == [DeliveryStatus.UNKNOWN]


def test_a_relay_that_cannot_be_reached_fails_over_to_the_next(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    emails = _subscribers(seeded_db, 5)
    dead = SmtpRelay("127.0.0.1", free_port(), "none")
    alive = SmtpRelay("127.0.0.1", smtp_server.port, "none")
    settings = replace(
        settings, smtp=dead, fallback_relays=(alive,), delivery=replace(settings.delivery, connections=2)
    )
    _issue(seeded_db)

    _run(seeded_db, settings, lanes_for(settings))

    assert smtp_server.handler.copies() == dict.fromkeys(emails, 1)


def test_topics_narrow_who_is_sent_an_issue(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    everything, meetings, seminars_only = _subscribers(seeded_db, 3)
    with seeded_db.session() as session:
        by_email = {row.email: row.id for row in session.execute(select(Subscriber.email, Subscriber.id))}
        session.add(SubscriberTopic(subscriber_id=by_email[meetings], topic=Topic.MEETINGS))
        session.add(SubscriberTopic(subscriber_id=by_email[seminars_only], topic=Topic.SEMINARS))
        issue = compose_issue(
            session,
            meetings=[find_meeting(session, MeetingKey("plenary", 8))],
            issue_date=datetime(2026, 11, 1).date(),
        )
        for item in list(issue.items):  # an issue with meetings and tools, no seminars
            if item.promotion is not None and item.promotion.slug == "safety-seminars":
                issue.items.remove(item)
        session.flush()
        start_send(session, issue, now=NOW, by=UNCHECKED)

    _run(seeded_db, settings, _lanes(smtp_server))

    assert set(smtp_server.handler.copies()) == {everything, meetings}


def test_an_issue_with_nobody_to_send_to_is_sent_at_once(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    _issue(seeded_db)

    _run(seeded_db, settings, _lanes(smtp_server))

    with seeded_db.session() as session:
        assert get_issue(session, 1).status == IssueStatus.SENT
    assert smtp_server.handler.messages == []


def test_a_long_running_worker_gives_back_the_rows_of_a_paused_send_at_once(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    worker = _worker(seeded_db, _pausing_after_3(seeded_db, settings, smtp_server), smtp_server)

    def given_back() -> bool:
        states = Counter(status for status, _, _ in _ledger(seeded_db).values())
        return states == Counter({DeliveryStatus.DEFERRED: 3, DeliveryStatus.QUEUED: 7})

    assert _seen_while_running(worker, given_back)  # while the worker still runs, not when it stops
    with seeded_db.session() as session:
        assert get_issue(session, 1).status == IssueStatus.PAUSED


def test_a_long_running_worker_marks_a_send_done_while_it_keeps_running(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    emails = _subscribers(seeded_db, 5)
    _issue(seeded_db)
    worker = _worker(seeded_db, settings, smtp_server)

    def sent() -> bool:
        with seeded_db.session() as session:
            return get_issue(session, 1).status == IssueStatus.SENT

    assert _seen_while_running(worker, sent)
    assert smtp_server.handler.copies() == dict.fromkeys(emails, 1)


def test_a_long_running_worker_takes_up_a_resumed_send(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    worker = _worker(seeded_db, _pausing_after_3(seeded_db, settings, smtp_server), smtp_server)

    def resume_when_paused_then_sent() -> bool:
        with seeded_db.session() as session:
            if get_issue(session, 1).status == IssueStatus.PAUSED:
                smtp_server.handler.data_replies.clear()  # the relay is fixed, staff resume
                resume_send(session, 1, actor="cli:tester")
        return sum(smtp_server.handler.copies().values()) == 7  # the 3 deferred wait for their retry time

    assert _seen_while_running(worker, resume_when_paused_then_sent)


def test_a_worker_runs_again_once_its_relay_is_back(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    emails = _subscribers(seeded_db, 3)
    _issue(seeded_db)
    down = SmtpRelay("127.0.0.1", free_port(), "none")
    limits = RateLimits(rate=None, per_hour=None, domain_rates={})
    worker = make_worker(
        seeded_db, settings, links=SignedLinks(settings), lanes=[Lane(lambda: SmtpConnection(down), limits)]
    )
    try:
        with pytest.raises(RelayUnavailable):
            asyncio.run(worker.run(until_idle=True))
        assert {status for status, _, _ in _ledger(seeded_db).values()} == {DeliveryStatus.QUEUED}
        worker.lanes = _lanes(smtp_server)  # the relay is back

        asyncio.run(worker.run(until_idle=True))
    finally:
        worker.close()
    assert smtp_server.handler.copies() == dict.fromkeys(emails, 1)


def test_a_long_running_worker_takes_over_the_rows_of_a_worker_that_died_for_good(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    emails = _subscribers(seeded_db, 4)
    _issue(seeded_db)
    with seeded_db.session() as session:  # another host's worker claimed them, then died and never came back
        session.execute(
            update(Delivery).values(status=DeliveryStatus.SENDING, claimed_by="gone", claimed_at=NOW)
        )
    now = [NOW]
    worker = make_worker(
        seeded_db, settings, links=SignedLinks(settings), lanes=_lanes(smtp_server), clock=lambda: now[0]
    )

    polls = [0]

    def lease_runs_out_then_all_sent() -> bool:
        polls[0] += 1
        if polls[0] == 10:  # the worker started (and recovered) at NOW; half a second later the lease ends
            now[0] = NOW + settings.delivery.lease + timedelta(seconds=1)
        return smtp_server.handler.copies() == dict.fromkeys(emails, 1)

    assert _seen_while_running(worker, lease_runs_out_then_all_sent)
    assert worker.report.unknown == 4
