"""The ledger's promises under faults, with real worker processes and a real SMTP server: a worker stalled
past its lease (SIGSTOP), a worker killed for good under OUTREACH_UNKNOWN_POLICY=hold, opt-outs mid-send."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from outreach.cli import cli
from outreach.config import Settings, SmtpRelay
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue, get_issue
from outreach.lanes import lanes_for
from outreach.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    IssueStatus,
    Subscriber,
    SubscriberStatus,
    SubscriberTopic,
    Topic,
    utcnow,
)
from outreach.outbox import mark_unknown
from outreach.staff import audit
from outreach.staff.settings import ApprovalPolicy
from outreach.states import settle_finished
from outreach.usecases.approval import Acting
from outreach.usecases.sends import decide_held, make_worker, start_send
from outreach.worker import WorkerReport
from subscribers.consent import ConsentSource, Origin
from subscribers.lifecycle import unsubscribe
from subscribers.links import SignedLinks
from tests.smtp_server import SmtpServer

CONNECTIONS = 2
LEASE = 10  # seconds: the shortest lease the settings allow


def _prepare(
    db: Database, count: int, *, slow: SmtpServer | None = None, delay: float = 0.0, meetings: bool = True
) -> list[str]:
    emails = [f"fault{index:05d}@example.jp" for index in range(count)]
    with db.session() as session:
        session.add_all(Subscriber(email=email, status=SubscriberStatus.ACTIVE) for email in emails)
        session.flush()
        outcomes = [find_meeting(session, MeetingKey("plenary", 8))] if meetings else []
        issue = compose_issue(session, meetings=outcomes)
        start_send(session, issue, now=utcnow(), by=Acting("cli:tester", ApprovalPolicy.NONE))
    if slow is not None:
        for email in emails:  # every message takes a while: some are always in flight
            slow.handler.delays[email] = [delay]
    return emails


def _relayed(settings: Settings, server: SmtpServer, **delivery: object) -> Settings:
    """The test's settings, sending to `server`, with some delivery settings changed."""
    relay = SmtpRelay("127.0.0.1", server.port, "none")
    return replace(settings, smtp=relay, delivery=replace(settings.delivery, **delivery))  # type: ignore[arg-type]


def _deliver(db: Database, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> WorkerReport:
    worker = make_worker(db, settings, links=SignedLinks(settings), lanes=lanes_for(settings), clock=clock)
    try:
        return asyncio.run(worker.run(until_idle=True))
    finally:
        worker.close()


def _environment(env: dict[str, str], server: SmtpServer, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **env,
        "OUTREACH_SMTP_URL": server.url,
        "OUTREACH_SMTP_CONNECTIONS": str(CONNECTIONS),
        "OUTREACH_BATCH_SIZE": "40",
        "OUTREACH_WORKER_LEASE_SECONDS": str(LEASE),
        **extra,
    }


def _worker(environment: dict[str, str], name: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "outreach", "worker", "--once", "--name", name],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(
    condition: Callable[[], bool], *, timeout: float, what: str, process: subprocess.Popen[str]
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the worker exited before {what}: {process.communicate()[0]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)  # polling an observable condition, not waiting for time to pass


def _states(db: Database) -> dict[str, DeliveryStatus]:
    with db.session() as session:
        return dict(session.execute(select(Delivery.email, Delivery.status)).all())


def test_a_worker_stalled_past_its_lease_sends_nothing_another_took_over(
    seeded_db: Database, env: dict[str, str], smtp_server: SmtpServer
) -> None:
    emails = _prepare(seeded_db, 300, slow=smtp_server, delay=0.02)
    environment = _environment(env, smtp_server)
    stalled = _worker(environment, "stalled")
    _wait_for(lambda: smtp_server.handler.count() >= 30, timeout=60, what="it sent", process=stalled)
    stalled.send_signal(signal.SIGSTOP)
    try:
        time.sleep(LEASE + 1)  # the fault itself: a stall (a paused VM, swap) longer than the lease
        if seeded_db.is_sqlite:  # one worker at a time: nobody can take over; it must go on by itself
            taker_output = ""
        else:
            taker = _worker(environment, "taker")
            taker_output = taker.communicate(timeout=120)[0]
            assert taker.returncode == 0, taker_output
    finally:
        stalled.send_signal(signal.SIGCONT)
    stalled_output = stalled.communicate(timeout=120)[0]

    assert stalled.returncode == 0, stalled_output
    copies = smtp_server.handler.copies()
    assert set(copies) == set(emails), "someone was skipped"
    duplicates = sum(count - 1 for count in copies.values())
    assert duplicates <= CONNECTIONS, f"{duplicates} duplicates: more than the messages in flight"
    assert set(_states(seeded_db).values()) == {DeliveryStatus.SENT}
    if not seeded_db.is_sqlite:
        assert "took over" in taker_output or "sent" in taker_output
        assert "lost" in stalled_output, stalled_output


def test_hold_holds_only_the_messages_in_flight_of_a_worker_killed_for_good(
    seeded_db: Database, env: dict[str, str], settings: Settings, smtp_server: SmtpServer
) -> None:
    emails = _prepare(seeded_db, 200, slow=smtp_server, delay=0.05)
    environment = _environment(env, smtp_server, OUTREACH_UNKNOWN_POLICY="hold")
    killed = _worker(environment, "killed")
    _wait_for(lambda: smtp_server.handler.count() >= 20, timeout=60, what="it sent", process=killed)
    killed.kill()  # SIGKILL: it never comes back
    killed.wait(timeout=30)
    for email in emails:
        smtp_server.handler.delays.pop(email, None)

    held = _relayed(settings, smtp_server, unknown_policy="hold", lease=timedelta(seconds=LEASE))
    report = _deliver(seeded_db, held, clock=lambda: utcnow() + timedelta(seconds=LEASE + 1))  # lease over

    states = _states(seeded_db)
    waiting = {email for email, state in states.items() if state == DeliveryStatus.UNKNOWN}
    copies = smtp_server.handler.copies()
    assert 1 <= len(waiting) <= CONNECTIONS, f"held {len(waiting)}: only messages in flight may be"
    assert report.unknown == len(waiting)
    assert {email for email in emails if email not in waiting} <= set(copies), "an untried row was held"
    assert all(count == 1 for count in copies.values())
    with seeded_db.session() as session:
        issue = get_issue(session, 1)
        assert issue.status == IssueStatus.PAUSED  # not `sent` while some wait for a decision
        assert f"{len(waiting)} recipients" in (issue.pause_reason or "")
        assert decide_held(session, 1, resend=True, actor="cli:tester") == len(waiting)
        decided = [e.detail for e in audit.read_page(session).entries if e.action == "issue.decide"]
        assert decided == [f"{len(waiting)} held recipients sent again"]
    _deliver(seeded_db, held)
    assert set(_states(seeded_db).values()) == {DeliveryStatus.SENT}
    assert set(smtp_server.handler.copies()) == set(emails)
    with seeded_db.session() as session:
        assert get_issue(session, 1).status == IssueStatus.SENT


def _opt_out(db: Database, email: str) -> None:
    with db.session() as session:
        subscriber_id = session.scalars(select(Subscriber.id).where(Subscriber.email == email)).one()
        unsubscribe(session, subscriber_id, Origin(ConsentSource.WEB), now=utcnow())


def test_an_address_that_unsubscribes_during_a_running_send_gets_nothing_more(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    emails = _prepare(seeded_db, 12, slow=smtp_server, delay=0.15)
    leaving = emails[-1]  # claimed with the first batch; its turn comes a second or more later
    one_lane = _relayed(settings, smtp_server, connections=1)
    worker = make_worker(seeded_db, one_lane, links=SignedLinks(one_lane), lanes=lanes_for(one_lane))

    async def send_and_opt_out() -> None:
        running = asyncio.create_task(worker.run(until_idle=True))
        while smtp_server.handler.count() < 3:
            await asyncio.sleep(0.01)  # the worker runs meanwhile; we watch the server
        await asyncio.to_thread(_opt_out, seeded_db, leaving)
        await running

    try:
        asyncio.run(send_and_opt_out())
    finally:
        worker.close()

    assert smtp_server.handler.to(leaving) == []
    assert set(smtp_server.handler.copies()) == set(emails) - {leaving}
    assert _states(seeded_db)[leaving] == DeliveryStatus.CANCELLED
    with seeded_db.session() as session:
        reasons = session.scalars(
            select(DeliveryAttempt.smtp_reply).join(Delivery).where(Delivery.email == leaving)
        ).all()
        assert reasons == ["not sent: the subscriber unsubscribed (web)"]
        assert get_issue(session, 1).status == IssueStatus.SENT


def test_an_address_that_unsubscribes_while_deferred_is_never_tried_again(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    busy, fine = _prepare(seeded_db, 2)
    smtp_server.handler.data_replies[busy] = "451 4.3.0 try again later"
    relayed = _relayed(settings, smtp_server)
    for clock in (utcnow, lambda: utcnow() + timedelta(days=1)):  # a day later the retry is long due
        _deliver(seeded_db, relayed, clock=clock)
        if _states(seeded_db)[busy] == DeliveryStatus.DEFERRED:
            smtp_server.handler.data_replies.clear()
            _opt_out(seeded_db, busy)

    assert smtp_server.handler.to(busy) == []
    assert _states(seeded_db) == {busy: DeliveryStatus.CANCELLED, fine: DeliveryStatus.SENT}


def test_a_subscriber_who_narrowed_their_topics_is_not_sent_an_issue_already_queued(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    first, narrowed = _prepare(seeded_db, 2, meetings=False)  # an issue of promotions only
    with seeded_db.session() as session:  # after the send started, one chose meeting outcomes only
        subscriber = session.scalars(select(Subscriber).where(Subscriber.email == narrowed)).one()
        session.add(SubscriberTopic(subscriber_id=subscriber.id, topic=Topic.MEETINGS))
    _deliver(seeded_db, _relayed(settings, smtp_server))

    assert set(smtp_server.handler.copies()) == {first}
    assert _states(seeded_db)[narrowed] == DeliveryStatus.CANCELLED


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("550 5.1.1 <x>: user unknown", (DeliveryStatus.BOUNCED, SubscriberStatus.BOUNCED)),
        ("550 5.7.1 rejected by policy", (DeliveryStatus.FAILED, SubscriberStatus.ACTIVE)),
        ("552 5.2.2 mailbox full", (DeliveryStatus.FAILED, SubscriberStatus.ACTIVE)),
        ("252 2.1.5 cannot verify, will attempt", (DeliveryStatus.DEFERRED, SubscriberStatus.ACTIVE)),
    ],
    ids=["5.1.1", "5.7.1", "5.2.2", "252"],
)
def test_what_a_refusal_means_for_the_row_and_the_subscriber(
    seeded_db: Database,
    settings: Settings,
    smtp_server: SmtpServer,
    reply: str,
    expected: tuple[DeliveryStatus, SubscriberStatus],
) -> None:
    (refused,) = _prepare(seeded_db, 1)
    smtp_server.handler.rcpt_replies[refused] = reply
    _deliver(seeded_db, _relayed(settings, smtp_server))

    assert smtp_server.handler.messages == []  # with a 252 too: DATA never went
    with seeded_db.session() as session:
        row = session.scalars(select(Delivery)).one()
        subscriber = session.scalars(select(Subscriber)).one()
        assert (row.status, subscriber.status) == expected
        assert row.smtp_code == int(reply[:3])


@pytest.mark.parametrize("choice", ["--resend", "--drop"])
def test_staff_decide_on_held_messages_from_the_command_line(
    seeded_db: Database, env: dict[str, str], choice: str
) -> None:
    held, fine = _prepare(seeded_db, 2)
    with seeded_db.session() as session:  # what a worker that stopped mid-send leaves under `hold`
        rows = dict(session.execute(select(Delivery.email, Delivery.id)).all())
        session.execute(
            update(Delivery).where(Delivery.email == fine).values(status=DeliveryStatus.SENT, smtp_code=250)
        )
        session.execute(update(Delivery).where(Delivery.email == held).values(status=DeliveryStatus.SENDING))
        mark_unknown(session, [rows[held]], why="the worker stopped", resend=False, now=utcnow())
        settle_finished(session, now=utcnow())
    nothing = CliRunner().invoke(cli, ["issue", "decide", "1"])
    assert nothing.exit_code == 2
    assert "--resend or --drop" in nothing.output

    result = CliRunner().invoke(cli, ["issue", "decide", "1", choice])

    assert result.exit_code == 0, result.output
    assert "1 recipients" in result.output
    with seeded_db.session() as session:
        issue = get_issue(session, 1)
        expected = (DeliveryStatus.QUEUED, IssueStatus.SENDING)
        if choice == "--drop":
            expected = (DeliveryStatus.FAILED, IssueStatus.SENT)
        assert (_states(seeded_db)[held], issue.status) == expected
    again = CliRunner().invoke(cli, ["issue", "decide", "1", choice])
    assert again.exit_code == 2
    assert "no recipients waiting for a decision" in again.output


def test_a_reply_too_long_to_be_real_defers_that_row_and_the_worker_goes_on(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    odd, fine = _prepare(seeded_db, 2)
    smtp_server.handler.data_replies[odd] = "250 " + "x" * 70_000  # one line longer than any real reply

    _deliver(seeded_db, _relayed(settings, smtp_server))

    assert _states(seeded_db) == {odd: DeliveryStatus.DEFERRED, fine: DeliveryStatus.SENT}
    with seeded_db.session() as session:
        replies = session.scalars(
            select(DeliveryAttempt.smtp_reply).join(Delivery).where(Delivery.email == odd)
        ).all()
        assert len(replies) == 2  # dropped, reconnected, tried once more, dropped again: retried later
