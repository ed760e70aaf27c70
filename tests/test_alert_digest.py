"""Wide-area information and lowered levels wait for the next regular issue, where each reader sees a section
with the entries of their own places, and a reader with none sees no section."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import select

from outreach.alerts.models import AlertAction, AlertState, SafetyAlert
from outreach.config import Settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue, delete_draft, get_issue
from outreach.models import Topic
from outreach.regular import compose_news, whats_new
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases.approval import Acting
from outreach.usecases.sends import send_now
from subscribers.links import SignedLinks
from tests.alert_support import (
    ASIA,
    CANADA,
    THAILAND,
    add_entry,
    add_subscriber,
    flat_text,
    relay_settings,
)
from tests.smtp_server import SmtpServer

SECTION_JA = "ご登録の国・地域の安全情報（今月）"
SECTION_EN = "Yourcountries'safetyinformationthismonth"  # as the flattened text part has it


def _people(db: Database) -> None:
    add_subscriber(db, "thai@example.jp", [THAILAND], organization="jetro")
    add_subscriber(db, "asia-en@example.jp", [ASIA], language="en", organization="jcci")
    add_subscriber(db, "canada@example.jp", [CANADA])
    add_subscriber(db, "meetings-only@example.jp", [THAILAND], topics=[Topic.MEETINGS])
    add_subscriber(db, "nowhere@example.jp", [])


def _entries(db: Database) -> tuple[int, int, int]:
    wide = add_entry(
        db,
        "wide-1",
        [ASIA],
        info_type="C50",
        change="",
        rule="wide-area",
        action=AlertAction.DIGEST,
        levels=(),
        title="東南アジアにおけるデング熱の流行",
    )
    lowered = add_entry(
        db,
        "th-low",
        [THAILAND],
        change="lowered",
        rule="risk-lowered",
        action=AlertAction.DIGEST,
        levels=(1,),
        title="タイの危険情報【危険レベル引き下げ】",
    )
    now = add_entry(db, "th-now", [THAILAND], title="タイのスポット情報（速報分）")
    return wide, lowered, now


def _compose(db: Database) -> int:
    with db.session() as session:
        meeting = find_meeting(session, MeetingKey("plenary", 8))
        return compose_issue(session, meetings=[meeting], issue_date=date(2026, 12, 1)).number


def _states(db: Database) -> dict[str, AlertState]:
    with db.session() as session:
        rows = session.execute(select(SafetyAlert.key, SafetyAlert.state)).all()
        return dict(rows)


def test_the_next_regular_issue_carries_each_reader_their_places_entries(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    _people(seeded_db)
    wide, lowered, _ = _entries(seeded_db)
    number = _compose(seeded_db)
    with seeded_db.session() as session:
        carried = [item.alert_id for item in get_issue(session, number).items if item.alert_id]
    assert carried == [wide, lowered]
    assert _states(seeded_db) == dict.fromkeys(["wide-1", "th-low", "th-now"], AlertState.WAITING)

    asyncio.run(
        send_now(
            seeded_db,
            relay_settings(settings, smtp_server),
            number,
            links=SignedLinks(settings),
            by=Acting("cli:tester", ApprovalPolicy.NONE),
        )
    )

    texts = {to: flat_text(smtp_server.handler.to(to)[0].parsed()) for to in smtp_server.handler.copies()}
    assert set(texts) == {
        p + "@example.jp" for p in ("thai", "asia-en", "canada", "meetings-only", "nowhere")
    }
    thai = texts["thai@example.jp"]
    assert SECTION_JA in thai
    assert "東南アジアにおけるデング熱の流行" in thai  # its region's wide-area information
    assert "タイの危険情報【危険レベル引き下げ】" in thai
    assert "レベル1：十分注意してください。" in thai
    assert "速報分" not in thai  # an entry sent at once is no part of the section
    english = texts["asia-en@example.jp"]
    assert SECTION_EN in english
    assert "Wide-areainformation" in english
    assert "Riskinformation:alevellowered" in english
    for nobody in ("canada@example.jp", "meetings-only@example.jp", "nowhere@example.jp"):
        assert SECTION_JA not in texts[nobody], nobody
        assert "第8回本会合" in texts[nobody]
    assert _states(seeded_db) == {
        "wide-1": AlertState.DIGESTED,
        "th-low": AlertState.DIGESTED,
        "th-now": AlertState.WAITING,
    }


def test_a_deleted_draft_loses_no_entry(seeded_db: Database) -> None:
    _people(seeded_db)
    wide, lowered, _ = _entries(seeded_db)
    first = _compose(seeded_db)
    with seeded_db.session() as session:
        delete_draft(session, get_issue(session, first))

    second = _compose(seeded_db)

    with seeded_db.session() as session:
        assert [item.alert_id for item in get_issue(session, second).items if item.alert_id] == [
            wide,
            lowered,
        ]
    assert _states(seeded_db)["wide-1"] == AlertState.WAITING


def test_the_scheduled_regular_issue_carries_them_too(seeded_db: Database) -> None:
    _people(seeded_db)
    wide, lowered, _ = _entries(seeded_db)
    with seeded_db.session() as session:
        news = whats_new(session, date(2026, 12, 1))
        issue = compose_news(session, news)
        assert [item.alert_id for item in issue.items if item.alert_id] == [wide, lowered]
