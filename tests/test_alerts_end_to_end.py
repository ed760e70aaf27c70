"""Safety alerts end to end: the ministry's feed in three successive states on a local HTTP server, polled
with OUTREACH_ALERTS=auto, delivered over a real SMTP server; then the next regular issue with its section
of each reader's countries' safety information. Nothing is written straight into the database but the
subscribers."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from outreach.alerts.poll import PollReport, poll
from outreach.alerts.settings import AlertMode, AlertSettings
from outreach.config import Settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue
from outreach.models import Organization, SubscriberStatus, Topic
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases.approval import Acting
from outreach.usecases.sends import start_send
from tests.alert_support import add_subscriber, deliver, flat_text, html_of
from tests.feed_server import FeedServer
from tests.smtp_server import SmtpServer

POLLED_AT = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)  # 20:00 JST, the evening the fixtures were published
MYANMAR = ("10", "0095", "ミャンマー")
THAILAND = ("10", "0066", "タイ")
PHILIPPINES = ("10", "0063", "フィリピン")
ASIA = ("10", "", "アジア")
CANADA = ("30", "9001", "カナダ")
DIGEST_JA = "ご登録の国・地域の安全情報（今月）"


def _subscribers(db: Database) -> None:
    add_subscriber(db, "myanmar-ja@example.jp", [MYANMAR], organization="jetro")
    add_subscriber(db, "myanmar-en@example.jp", [MYANMAR], organization="jcci", language="en")
    add_subscriber(db, "thai@example.jp", [THAILAND])
    add_subscriber(db, "asia@example.jp", [ASIA], language="en")
    add_subscriber(db, "philippines@example.jp", [PHILIPPINES], organization="jetro")
    add_subscriber(db, "canada@example.jp", [CANADA])
    add_subscriber(db, "nowhere@example.jp", [])
    add_subscriber(db, "meetings-only@example.jp", [MYANMAR], topics=[Topic.MEETINGS])
    add_subscriber(db, "left@example.jp", [MYANMAR], status=SubscriberStatus.UNSUBSCRIBED)


def _poll(db: Database, site: Settings, alerts: AlertSettings) -> PollReport:
    return asyncio.run(poll(db, site, alerts, now=POLLED_AT, actor="test"))


def _delivered(db: Database, settings: Settings) -> dict[str, EmailMessage]:
    """Deliver what is being sent; each recipient's one message (a second copy fails the test)."""
    with SmtpServer() as server:
        deliver(db, settings, server)
        messages = [received.parsed() for received in server.handler.messages]
    recipients = [str(message["To"]).split("<")[-1].rstrip(">") for message in messages]
    assert len(recipients) == len(set(recipients)), recipients
    return dict(zip(recipients, messages, strict=True))


def _organization_names(db: Database, slug: str) -> tuple[str, str]:
    with db.session() as session:
        found = session.scalars(select(Organization).where(Organization.slug == slug)).one()
        return found.name_ja, found.name_en


@pytest.fixture
def three_polls(seeded_db: Database, settings: Settings) -> list[dict[str, EmailMessage]]:
    """The mail each of three successive states of the feed sent, with a repeated poll after each."""
    _subscribers(seeded_db)
    sent = []
    with FeedServer() as server:
        alerts = AlertSettings(mode=AlertMode.AUTO, feed=server.url(), timeout=5.0)
        for state in ("newarrival_1.xml", "newarrival_2.xml", "newarrival_3.xml"):
            server.state = state
            _poll(seeded_db, settings, alerts)
            first = _delivered(seeded_db, settings)
            again = _poll(seeded_db, settings, alerts)
            assert (again.result, again.new) == ("unchanged", 0)
            assert _delivered(seeded_db, settings) == {}  # polling twice sends nothing twice
            sent.append(first)
    return sent


def test_each_state_of_the_feed_reaches_exactly_the_subscribers_of_its_places(
    three_polls: list[dict[str, EmailMessage]],
) -> None:
    spot_in_thailand, quake_in_the_philippines, myanmar_raised = (set(sent) for sent in three_polls)
    assert spot_in_thailand == {"thai@example.jp", "asia@example.jp"}
    assert quake_in_the_philippines == {"philippines@example.jp", "asia@example.jp"}
    # A raised level for Myanmar (levels 3 and 4 after 2 and 3): its subscribers and the region's; not the
    # one who narrowed their topics to meetings, not the one who left, nobody elsewhere.
    assert myanmar_raised == {"myanmar-ja@example.jp", "myanmar-en@example.jp", "asia@example.jp"}


def test_a_raised_level_comes_in_the_readers_organizations_rendition_and_language(
    three_polls: list[dict[str, EmailMessage]], seeded_db: Database
) -> None:
    raised = three_polls[2]
    japanese, english = raised["myanmar-ja@example.jp"], raised["myanmar-en@example.jp"]
    jetro_ja, _ = _organization_names(seeded_db, "jetro")
    _, jcci_en = _organization_names(seeded_db, "jcci")

    assert str(japanese["Subject"]).startswith(
        "【海外安全情報】ミャンマーの危険情報【一部地域の危険レベル引き上げ】"
    )
    assert jetro_ja in html_of(japanese)
    assert "退避してください。渡航は止めてください。（退避勧告）" in flat_text(japanese)
    assert str(english["Subject"]) == "[Safety alert] Myanmar: Risk information: a level raised"
    assert jcci_en in html_of(english)
    assert "Evacuate" in flat_text(english)
    assert japanese["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_wide_area_information_waits_for_the_next_regular_issue_of_the_matching_subscribers(
    three_polls: list[dict[str, EmailMessage]], seeded_db: Database, settings: Settings
) -> None:
    with seeded_db.session() as session:
        issue = compose_issue(
            session, meetings=[find_meeting(session, MeetingKey("plenary", 8))], issue_date=date(2026, 12, 1)
        )
        start_send(session, issue, now=POLLED_AT, by=Acting("test", ApprovalPolicy.NONE))
    regular = _delivered(seeded_db, settings)

    with_section = {address for address, message in regular.items() if DIGEST_JA in flat_text(message)}
    english_section = {
        address for address, message in regular.items() if "safetyinformationthismonth" in flat_text(message)
    }
    # The wide-area entry (Asia and Oceania) and the waiting Myanmar and Vietnam entries: those in Asia.
    assert with_section == {"myanmar-ja@example.jp", "thai@example.jp", "philippines@example.jp"}
    assert english_section == {"myanmar-en@example.jp", "asia@example.jp"}
    assert {"canada@example.jp", "nowhere@example.jp"} <= set(regular)  # the issue itself, without it
    assert "年末年始に海外へ渡航される皆様へ" in flat_text(regular["thai@example.jp"])
    assert "ミャンマーの危険情報【危険レベル継続】" not in flat_text(regular["thai@example.jp"])
    assert "ミャンマーの危険情報【危険レベル継続】" in flat_text(regular["myanmar-ja@example.jp"])
