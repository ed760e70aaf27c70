"""Worker processes killed with SIGKILL mid-send, and several workers on one send (real processes)."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue
from outreach.models import Delivery, DeliveryStatus, Subscriber, SubscriberStatus, utcnow
from outreach.reports import unknown_fates
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases.approval import Acting
from outreach.usecases.sends import start_send
from tests.smtp_server import SmtpServer

CONNECTIONS = 2


def _prepare(db: Database, count: int) -> list[str]:
    emails = [f"kill{index:05d}@example.jp" for index in range(count)]
    with db.session() as session:
        session.add_all(Subscriber(email=email, status=SubscriberStatus.ACTIVE) for email in emails)
        session.flush()
        issue = compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 8))])
        start_send(session, issue, now=utcnow(), by=Acting("cli:tester", ApprovalPolicy.NONE))
    return emails


def _environment(env: dict[str, str], server: SmtpServer, *, relay_query: str = "") -> dict[str, str]:
    return {
        **os.environ,
        **env,
        "OUTREACH_SMTP_URL": server.url + relay_query,
        "OUTREACH_SMTP_CONNECTIONS": str(CONNECTIONS),
        "OUTREACH_BATCH_SIZE": "40",
    }


def _outreach(environment: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "outreach", *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)  # polling an observable condition, not waiting for time to pass


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_a_worker_killed_at_random_points_finishes_the_send_with_duplicates_only_from_messages_in_flight(
    seeded_db: Database, env: dict[str, str], smtp_server: SmtpServer, tmp_path: Path, pipelining: bool
) -> None:
    smtp_server.handler.pipelining = pipelining
    # Pipelining, a connection has two messages in flight: one whose reply is due, and the next going out.
    in_flight = CONNECTIONS * (2 if pipelining else 1)
    emails = _prepare(seeded_db, 400)
    environment = _environment(env, smtp_server)
    seed = int(os.environ.get("OUTREACH_KILL_SEED", random.randrange(1_000_000)))
    kill_points = sorted(random.Random(seed).sample(range(20, 380), 3))

    for target in kill_points:
        worker = _outreach(environment, "worker", "--once")
        reached = lambda target=target: smtp_server.handler.count() >= target  # noqa: E731
        _wait_for(reached, timeout=60, what=f"{target} messages")
        worker.kill()
        worker.wait(timeout=30)
    final = _outreach(environment, "issue", "send", "1", "--no-progress")
    output, _ = final.communicate(timeout=120)
    assert final.returncode == 0, output

    copies = smtp_server.handler.copies()
    duplicates = sum(count - 1 for count in copies.values())
    with seeded_db.session() as session:
        unknown = unknown_fates(session, 1)
        states = set(session.scalars(select(Delivery.status)))
    assert set(copies) == set(emails), f"seed {seed}: someone was skipped"
    assert states == {DeliveryStatus.SENT}
    assert duplicates <= unknown <= len(kill_points) * in_flight, f"seed {seed}, kills at {kill_points}"
    if unknown:
        assert "unknown fate" in output


@pytest.mark.postgres
def test_three_workers_on_postgresql_share_one_send_and_send_each_recipient_exactly_once(
    seeded_db: Database, env: dict[str, str], smtp_server: SmtpServer
) -> None:
    if seeded_db.is_sqlite:
        pytest.skip("several workers need PostgreSQL: on SQLite a second worker is refused (tested below)")
    emails = _prepare(seeded_db, 1200)
    environment = _environment(env, smtp_server, relay_query="?rate=150")

    workers = [_outreach(environment, "worker", "--once", "--name", f"w{index}") for index in range(3)]
    outputs = [worker.communicate(timeout=180)[0] for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0, 0], outputs
    assert smtp_server.handler.copies() == dict.fromkeys(emails, 1)
    sent_by = [int(match.group(1)) if (match := re.search(r"'sent': (\d+)", out)) else 0 for out in outputs]
    assert sum(sent_by) == len(emails)
    assert sum(1 for count in sent_by if count) >= 2, f"the send was not shared: {sent_by}"


def test_sqlite_refuses_a_second_worker(
    seeded_db: Database, env: dict[str, str], smtp_server: SmtpServer
) -> None:
    if not seeded_db.is_sqlite:
        pytest.skip("only SQLite limits itself to one worker")
    _prepare(seeded_db, 1)
    environment = _environment(env, smtp_server)
    first = _outreach(environment, "worker")
    _wait_for(lambda: smtp_server.handler.count() >= 1, timeout=60, what="the first worker to send")

    second = _outreach(environment, "worker", "--once")
    output, _ = second.communicate(timeout=60)
    first.terminate()
    first.wait(timeout=30)

    assert second.returncode == 2
    assert "SQLite runs one worker at a time" in output
