"""What the safety alerts' sending tests share: feed entries and subscribers' places written straight into the
database (the intake and the places' writer have tests of their own), and a send over a real SMTP server."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage

from sqlalchemy import select

from outreach.alerts.models import AlertAction, AlertPlace, AlertState, SafetyAlert, SubscriberPlace
from outreach.alerts.settings import AlertMode, AlertSettings
from outreach.config import Settings, SmtpRelay
from outreach.db import Database
from outreach.models import Organization, Subscriber, SubscriberStatus, SubscriberTopic, Topic
from outreach.usecases.sends import make_worker
from subscribers.links import SignedLinks
from tests.smtp_server import SmtpServer

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 10:00 JST
THAILAND = ("10", "0066", "タイ")
PHILIPPINES = ("10", "0063", "フィリピン")
ASIA = ("10", "", "アジア")
CANADA = ("30", "9001", "カナダ")
LEVEL_3_JA = "レベル3：渡航は止めてください。（渡航中止勧告）"
LEVEL_3_EN = "Level 3: Avoid all travel"


def alerts_in(mode: AlertMode) -> AlertSettings:
    return AlertSettings(mode=mode)


def add_entry(
    db: Database,
    key: str,
    places: Sequence[tuple[str, str, str]],
    *,
    info_type: str = "T40",
    change: str = "raised",
    rule: str = "risk-raised",
    action: AlertAction = AlertAction.NOW,
    levels: Sequence[int] = (3,),
    title: str = "",
    lead: str = "",
) -> int:
    """An entry as the intake stores it, waiting."""
    with db.session() as session:
        entry = SafetyAlert(
            key=key,
            info_type=info_type,
            info_name="危険情報",
            published_at=NOW,
            title=title or f"{places[0][2]}の危険情報【危険レベル引き上げ】（{key}）",
            lead=lead or f"{places[0][2]}の一部地域の危険レベルを引き上げます。",
            url=f"https://www.anzen.mofa.go.jp/info/pcinfectionspothazardinfo_{key}.html",
            mission_code="0066",
            mission_name="在タイ日本国大使館",
            risk_levels=list(levels),
            change=change,
            rule=rule,
            action=action,
            state=AlertState.WAITING,
            places=[AlertPlace(area_code=a, country_code=c, name=n) for a, c, n in places],
        )
        session.add(entry)
        session.flush()
        return entry.id


def add_subscriber(
    db: Database,
    email: str,
    places: Sequence[tuple[str, str, str]],
    *,
    language: str = "ja",
    organization: str | None = None,
    topics: Sequence[Topic] = (),
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
) -> int:
    """A subscriber doing business in `places`, of an organization (its slug) or of none."""
    with db.session() as session:
        org_id = None
        if organization is not None:
            org_id = session.scalar(select(Organization.id).where(Organization.slug == organization))
        subscriber = Subscriber(
            email=email,
            company=f"{email.split('@')[0]}商事",
            language=language,
            status=status,
            organization_id=org_id,
        )
        session.add(subscriber)
        session.flush()
        session.add_all(SubscriberTopic(subscriber_id=subscriber.id, topic=topic) for topic in topics)
        session.add_all(
            SubscriberPlace(subscriber_id=subscriber.id, area_code=a, country_code=c) for a, c, _ in places
        )
        return subscriber.id


def relay_settings(settings: Settings, server: SmtpServer) -> Settings:
    return replace(settings, smtp=SmtpRelay.from_url(server.url))


def deliver(db: Database, settings: Settings, server: SmtpServer, *, issue_id: int | None = None) -> None:
    """Run a worker on the server until nothing is due."""
    worker = make_worker(
        db,
        relay_settings(settings, server),
        links=SignedLinks(settings),
        issue_id=issue_id,
        clock=lambda: NOW,
    )
    try:
        asyncio.run(worker.run(until_idle=True))
    finally:
        worker.close()


def flat_text(message: EmailMessage) -> str:
    """The text part without its line breaks (it is wrapped for reading)."""
    part = message.get_body(("plain",))
    assert part is not None
    return "".join(part.get_content().split())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())
