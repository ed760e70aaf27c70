"""The measured phases, each run in a process of its own so that its peak RSS is its own."""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from datetime import date
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

import aiosmtplib
from sqlalchemy import func, insert, select

from benchmarks.measure import Measured
from outreach import eventloop
from outreach.composer import salutation, senders
from outreach.config import load_settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue, get_issue
from outreach.message import MessageFactory, Personal
from outreach.models import Delivery, Organization, Subscriber, SubscriberStatus, utcnow
from outreach.render import Renderer
from outreach.seed import seed_network
from outreach.usecases.sends import make_worker
from subscribers.links import SignedLinks

ISSUE_DATE = date(2026, 7, 15)  # in the summer safety month: every promotion is in the issue
ISSUE_NUMBER = 1  # the only issue of a benchmark database


def _measured(started: float, cpu: float) -> Measured:
    """Wall and CPU seconds since `started` and `cpu`, and this process's peak RSS."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Measured(time.perf_counter() - started, time.process_time() - cpu, peak)


def base(_: int) -> dict[str, Any]:
    """A migrated database with the network seeded: what every database of a run starts from."""
    db = Database(load_settings().database_url.reveal())
    db.upgrade()
    with db.session() as session:
        seed_network(session)
    return {}


def fill(count: int) -> dict[str, Any]:
    """`count` subscribers over 31 renditions x 2 languages, and the issue composed (a draft, not started)."""
    db = Database(load_settings().database_url.reveal())
    with db.session() as session:
        org_ids = [None, *session.scalars(select(Organization.id).where(Organization.slug != "network"))]
    started = time.perf_counter()
    now = utcnow()
    chunk = 20_000
    for first in range(0, count, chunk):
        rows = [
            {
                "email": f"sme{index:07d}@bench.example.jp",
                "company": f"株式会社ベンチ{index % 997}",
                "name": "海外 太郎" if index % 3 else "",
                "language": "en" if index % 5 == 0 else "ja",
                "status": SubscriberStatus.ACTIVE,
                "organization_id": org_ids[index % len(org_ids)],
                "consent_source": "import",
                "bounce_count": 0,
                "created_at": now,
                "updated_at": now,
            }
            for index in range(first, min(first + chunk, count))
        ]
        with db.session() as session:
            session.execute(insert(Subscriber), rows)
    with db.session() as session:
        issue = compose_issue(
            session, meetings=[find_meeting(session, MeetingKey("plenary", 8))], issue_date=ISSUE_DATE
        )
        number = issue.number
    return {"subscribers": count, "issue": number, "seconds": time.perf_counter() - started}


def tally(_: int) -> dict[str, Any]:
    """The benchmark issue's ledger rows by state: what a send really did."""
    db = Database(load_settings().database_url.reveal())
    with db.session() as session:
        issue = get_issue(session, ISSUE_NUMBER)
        rows = session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.issue_id == issue.id)
            .group_by(Delivery.status)
        ).all()
    return {str(status): count for status, count in rows}


def engine(count: int) -> dict[str, Any]:
    """The worker alone, in this process, on a send already started: its pool, rendering once per rendition.

    CPU and wall time count the delivery only, not the start-up (imports, settings, the engine)."""
    settings = load_settings()
    db = Database(settings.database_url.reveal())
    worker = make_worker(db, settings, links=SignedLinks(settings))
    started, cpu = time.perf_counter(), time.process_time()
    report = eventloop.run(worker.run(until_idle=True))  # as `outreach issue send` runs it
    measured = _measured(started, cpu)
    worker.close()
    return measured.figures(report.outcomes.get("sent", 0), "msg")


def sample_message(_: int) -> dict[str, Any]:
    """The size of one real message of the benchmark issue."""
    settings = load_settings()
    db = Database(settings.database_url.reveal())
    with db.session() as session:
        issue = get_issue(session, ISSUE_NUMBER)
        organization = session.scalars(select(Organization).where(Organization.slug == "jetro")).one()
        rendition = Renderer(sender=senders(settings)).render(issue, organization, "ja")
    factory = MessageFactory(
        rendition, sender_name="x", sender_address=settings.sender_address, list_id="l.example.jp"
    )
    links = SignedLinks(settings).for_subscriber(1, "ja")
    message = factory.build(
        Personal(
            "a@example.jp",
            "海外 太郎",
            "<m@example.jp>",
            "海外 太郎様",
            links.unsubscribe_url,
            links.unsubscribe_mailto,
            links.preferences_url,
        ),
        now=utcnow(),
    )
    return {"bytes": len(message)}


def naive(count: int) -> dict[str, Any]:
    """The way to avoid: per recipient render + premailer + MIME, one connection, one message at a time."""
    settings = load_settings()
    assert settings.smtp is not None
    db = Database(settings.database_url.reveal())
    links = SignedLinks(settings)
    with db.session() as session:
        issue = get_issue(session, ISSUE_NUMBER)
        organizations = {org.id: org for org in session.scalars(select(Organization))}
        network = next(org for org in organizations.values() if org.slug == "network")
        recipients = session.execute(
            select(
                Subscriber.id,
                Subscriber.email,
                Subscriber.name,
                Subscriber.company,
                Subscriber.language,
                Subscriber.organization_id,
            )
            .order_by(Subscriber.id)
            .limit(count)
        ).all()

    async def send_all() -> int:
        smtp = aiosmtplib.SMTP(hostname=settings.smtp.host, port=settings.smtp.port)  # type: ignore[union-attr]
        await smtp.connect()
        for row in recipients:
            renderer = Renderer(sender=senders(settings))  # no cache: everything per recipient
            rendition = renderer.render(
                issue, organizations.get(row.organization_id or -1, network), row.language
            )
            personal = links.for_subscriber(row.id, row.language)
            values = {
                "salutation": salutation(row.language, company=row.company, name=row.name),
                "email": row.email,
                "unsubscribe_url": personal.unsubscribe_url,
                "preferences_url": personal.preferences_url,
            }
            message = EmailMessage(policy=SMTP)
            message["From"] = settings.sender_address
            message["To"] = row.email
            message["Subject"] = rendition.subject
            message["List-Unsubscribe"] = f"<{personal.unsubscribe_url}>"
            message.set_content(rendition.text.fill(values))
            message.add_alternative(rendition.html.fill(values), subtype="html")
            await smtp.send_message(message)
        await smtp.quit()
        return len(recipients)

    started, cpu = time.perf_counter(), time.process_time()
    sent = asyncio.run(send_all())
    return _measured(started, cpu).figures(sent, "msg")


PHASES = {
    "base": base,
    "fill": fill,
    "engine": engine,
    "naive": naive,
    "sample_message": sample_message,
    "tally": tally,
}

if __name__ == "__main__":
    phase, count = sys.argv[1], int(sys.argv[2])
    print(json.dumps(PHASES[phase](count)))
