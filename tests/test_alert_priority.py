"""The priority lane: while a 10,000-recipient regular send is running, an alert for 500 subscribers goes out
before the regular send finishes, and the regular send then completes, nobody getting anything twice.

The sink (a real SMTP server) holds every message after the first PAUSE_AFTER until the test lets it go, so
the alert is queued while the regular send is surely in progress: no sleeps, no timing luck.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import insert, select

from outreach.alerts.dispatch import dispatch
from outreach.alerts.models import SubscriberPlace
from outreach.alerts.settings import AlertMode
from outreach.config import Settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue, get_issue
from outreach.models import Subscriber, SubscriberStatus
from outreach.outbox import status_counts
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases.approval import Acting
from outreach.usecases.sends import make_worker, start_send
from outreach.worker import WorkerReport
from subscribers.links import SignedLinks
from tests.alert_support import NOW, THAILAND, add_entry, alerts_in, relay_settings
from tests.smtp_server import RecordingHandler, SmtpServer

REGULAR = 10_000
ALERTED = 500  # of them, doing business in Thailand
PAUSE_AFTER = 1_000  # messages the sink takes before it holds the rest
BATCH = 250  # rows a claim takes


class GatedHandler(RecordingHandler):
    """Takes PAUSE_AFTER messages, then holds each one until `go` is set, saying when it first held one."""

    def __init__(self) -> None:
        super().__init__()
        self.holding = threading.Event()
        self.go = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.count() >= PAUSE_AFTER and not self.go.is_set():
            self.holding.set()
            await asyncio.to_thread(self.go.wait)
        return await super().handle_DATA(server, session, envelope)


class GatedServer(SmtpServer):
    def __init__(self) -> None:
        super().__init__()
        self.gate = GatedHandler()
        self.handler = self.gate
        self.controller = Controller(self.gate, hostname="127.0.0.1", port=self.port)


@pytest.fixture
def gated() -> Iterator[GatedServer]:
    server = GatedServer()
    with server:
        yield server
        server.gate.go.set()  # a failed test must not leave the server holding


def _subscribers(db: Database) -> None:
    with db.session() as session:
        session.execute(
            insert(Subscriber),
            [
                {"email": f"sme{n:05d}@example.jp", "company": f"会社{n}", "status": SubscriberStatus.ACTIVE}
                for n in range(REGULAR)
            ],
        )
        ids = session.scalars(select(Subscriber.id).order_by(Subscriber.id).limit(ALERTED)).all()
        area, country, _ = THAILAND
        session.execute(
            insert(SubscriberPlace),
            [{"subscriber_id": i, "area_code": area, "country_code": country} for i in ids],
        )


def _regular_send(db: Database) -> int:
    with db.session() as session:
        issue = compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 8))])
        start_send(session, issue, now=NOW, by=Acting("cli:tester", ApprovalPolicy.NONE))
        return issue.id


def test_an_alert_overtakes_a_running_regular_send(
    seeded_db: Database, settings: Settings, gated: GatedServer
) -> None:
    _subscribers(seeded_db)
    regular = _regular_send(seeded_db)
    site = relay_settings(settings, gated)
    # `outreach issue send N`: a worker started for the regular issue only.
    worker = make_worker(
        seeded_db, site, links=SignedLinks(settings), issue_id=regular, batch_size=BATCH, clock=lambda: NOW
    )
    reports: list[WorkerReport] = []
    running = threading.Thread(target=lambda: reports.append(asyncio.run(worker.run(until_idle=True))))
    running.start()
    try:
        assert gated.gate.holding.wait(timeout=300), "the regular send never reached the sink's pause"
        add_entry(seeded_db, "th-1", [THAILAND], title="タイの危険情報【危険レベル引き上げ】")
        [number] = dispatch(seeded_db, site, alerts_in(AlertMode.AUTO), now=NOW, actor="scheduler").started
    finally:
        gated.gate.go.set()
        running.join(timeout=600)
        worker.close()
    assert not running.is_alive()

    arrivals = [message.rcpt_tos[0] for message in gated.handler.messages]
    kinds = [
        "alert" if "【海外安全情報】" in m.parsed()["Subject"] else "regular" for m in gated.handler.messages
    ]
    alerts = [to for to, kind in zip(arrivals, kinds, strict=True) if kind == "alert"]
    regulars = [to for to, kind in zip(arrivals, kinds, strict=True) if kind == "regular"]
    assert sorted(alerts) == [f"sme{n:05d}@example.jp" for n in range(ALERTED)]  # each of the 500 once
    assert sorted(regulars) == [f"sme{n:05d}@example.jp" for n in range(REGULAR)]  # each of the 10,000 once
    last_alert = max(i for i, kind in enumerate(kinds) if kind == "alert")
    last_regular = max(i for i, kind in enumerate(kinds) if kind == "regular")
    assert last_alert < last_regular
    # Before the pause, plus what the worker held claimed (its queue and the batch it was putting in), plus
    # the alert itself: the rest of the regular send waited for it.
    assert last_alert < PAUSE_AFTER + 3 * BATCH + ALERTED
    with seeded_db.session() as session:
        alert = get_issue(session, number).id
        assert status_counts(session, regular) == {"sent": REGULAR}
        assert status_counts(session, alert) == {"sent": ALERTED}
    [report] = reports
    assert (report.of(regular), report.of(alert)) == ({"sent": REGULAR}, {"sent": ALERTED})
