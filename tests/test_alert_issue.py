"""The alert issue: composed from the waiting entries, sent at once (auto) or drafted for approval (approve),
each reader's copy in their organization's rendition and language with only the entries of their places."""

from __future__ import annotations

import re

from sqlalchemy import select

from outreach.alerts.dispatch import AUTO_APPROVER, dispatch
from outreach.alerts.models import AlertState, SafetyAlert
from outreach.alerts.settings import AlertMode
from outreach.composer import senders
from outreach.config import Settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import ALERT_NUMBERS, compose_issue, get_issue
from outreach.models import Delivery, IssueKind, IssueStatus, Organization, SubscriberStatus, Topic
from outreach.render import Renderer
from outreach.staff.audit import issue_target
from outreach.staff.models import AuditEvent, StaffRole
from outreach.staff.settings import ApprovalPolicy
from outreach.staff.users import NewUser, add_user, disable_user, find_user, staff_view
from outreach.usecases.approval import Acting, approve
from outreach.usecases.drafts import preview_parts
from outreach.usecases.sends import start_for_workers
from tests.alert_support import (
    ASIA,
    CANADA,
    LEVEL_3_EN,
    LEVEL_3_JA,
    NOW,
    PHILIPPINES,
    THAILAND,
    add_entry,
    add_subscriber,
    alerts_in,
    deliver,
    flat_text,
    html_of,
    relay_settings,
)
from tests.console_support import PASSWORD
from tests.smtp_server import SmtpServer


def _people(db: Database) -> None:
    add_subscriber(db, "thai-ja@example.jp", [THAILAND], organization="jetro")
    add_subscriber(db, "thai-en@example.jp", [THAILAND], organization="jcci", language="en")
    add_subscriber(db, "asia@example.jp", [ASIA])
    add_subscriber(db, "philippines@example.jp", [PHILIPPINES], organization="jetro")
    add_subscriber(db, "canada@example.jp", [CANADA], organization="jetro")
    add_subscriber(db, "meetings-only@example.jp", [THAILAND], topics=[Topic.MEETINGS])
    add_subscriber(db, "left@example.jp", [THAILAND], status=SubscriberStatus.UNSUBSCRIBED)


def _names(db: Database, slug: str) -> tuple[str, str]:
    with db.session() as session:
        org = session.scalars(select(Organization).where(Organization.slug == slug)).one()
        return org.name_ja, org.name_en


def test_a_raised_level_reaches_exactly_its_subscribers_in_their_rendition_and_language(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    _people(seeded_db)
    add_entry(seeded_db, "th-1", [THAILAND], title="タイの危険情報【危険レベル引き上げ】")

    done = dispatch(seeded_db, settings, alerts_in(AlertMode.AUTO), now=NOW, actor="scheduler")
    deliver(seeded_db, settings, smtp_server)

    assert done.started == done.composed == [ALERT_NUMBERS]
    assert done.summary() == f"alert issue No. {ALERT_NUMBERS} composed with 1 entries, sending"
    assert smtp_server.handler.copies() == {
        "thai-ja@example.jp": 1,
        "thai-en@example.jp": 1,
        "asia@example.jp": 1,
    }
    [ja] = smtp_server.handler.to("thai-ja@example.jp")
    message = ja.parsed()
    text, html = flat_text(message), html_of(message)
    assert str(message["Subject"]) == "【海外安全情報】タイの危険情報【危険レベル引き上げ】"
    assert _names(seeded_db, "jetro")[0] in text
    for shown in (
        LEVEL_3_JA,
        "タイの一部地域の危険レベルを引き上げます。",
        "在タイ日本国大使館",
        "2026年12月1日10:00",
    ):
        assert shown in text, shown
    assert "https://www.anzen.mofa.go.jp/info/pcinfectionspothazardinfo_th-1.html" in html
    assert re.search(r'class="alert-level" style="[^"]*background-color:\s*#e60012', html)  # the level's red
    assert "/unsubscribe/" in str(message["List-Unsubscribe"])
    [en] = smtp_server.handler.to("thai-en@example.jp")
    english = en.parsed()
    text = flat_text(english)
    assert str(english["Subject"]) == "[Safety alert] Thailand: Risk information: a level raised"
    assert _names(seeded_db, "jcci")[1].replace(" ", "") in text
    assert "".join(LEVEL_3_EN.split()) in text
    assert "ThedetailsareinJapaneseontheministry'sofficialpage." in text
    assert "タイの一部地域" not in text  # the Japanese lead is not in the English copy
    with seeded_db.session() as session:
        issue = get_issue(session, ALERT_NUMBERS)
        assert (issue.kind, issue.status, issue.approved_by) == (
            IssueKind.ALERT,
            IssueStatus.SENT,
            AUTO_APPROVER,
        )
        actions = session.execute(
            select(AuditEvent.action, AuditEvent.actor).where(
                AuditEvent.target == issue_target(ALERT_NUMBERS)
            )
        ).all()
        assert set(actions) == {
            ("issue.compose", "scheduler"),
            ("issue.approve", AUTO_APPROVER),
            ("issue.send", "scheduler"),
        }
        assert set(session.scalars(select(SafetyAlert.state))) == {AlertState.ISSUED}


def test_entries_arriving_together_make_one_mail_each_with_only_their_entries(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    _people(seeded_db)
    add_entry(seeded_db, "th-1", [THAILAND], title="タイのスポット情報")
    add_entry(seeded_db, "ph-1", [PHILIPPINES], title="フィリピンのスポット情報")

    done = dispatch(seeded_db, settings, alerts_in(AlertMode.AUTO), now=NOW, actor="scheduler")
    deliver(seeded_db, settings, smtp_server)

    assert len(done.composed) == 1
    assert set(smtp_server.handler.copies().values()) == {1}
    subjects = {
        to: str(smtp_server.handler.to(to)[0].parsed()["Subject"]) for to in smtp_server.handler.copies()
    }
    assert subjects == {
        "thai-ja@example.jp": "【海外安全情報】タイのスポット情報",
        "thai-en@example.jp": "[Safety alert] Thailand: Risk information: a level raised",
        "asia@example.jp": "【海外安全情報】タイ、フィリピン：タイのスポット情報ほか1件",
        "philippines@example.jp": "【海外安全情報】フィリピンのスポット情報",
    }
    thai = flat_text(smtp_server.handler.to("thai-ja@example.jp")[0].parsed())
    assert "タイのスポット情報" in thai
    assert "フィリピン" not in thai
    both = flat_text(smtp_server.handler.to("asia@example.jp")[0].parsed())
    assert "タイのスポット情報" in both
    assert "フィリピンのスポット情報" in both


def _staff(db: Database) -> None:
    with db.session() as session:
        for email, role in [
            ("approver@example.jp", StaffRole.APPROVER),
            ("admin@example.jp", StaffRole.ADMIN),
            ("staff@example.jp", StaffRole.STAFF),
            ("away@example.jp", StaffRole.APPROVER),
        ]:
            add_user(session, NewUser(email, role, PASSWORD), actor="cli:tester", now=NOW)
        disable_user(session, "away@example.jp", actor="cli:tester", now=NOW)


def test_approve_mode_drafts_the_issue_and_mails_the_approvers_its_link(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    _people(seeded_db)
    _staff(seeded_db)
    add_entry(seeded_db, "th-1", [THAILAND], title="タイの危険情報")
    site = relay_settings(settings, smtp_server)

    done = dispatch(seeded_db, site, alerts_in(AlertMode.APPROVE), now=NOW, actor="scheduler")

    assert (done.composed, done.started) == ([ALERT_NUMBERS], [])
    assert done.notified == ["admin@example.jp", "approver@example.jp"]
    assert smtp_server.handler.copies() == {"admin@example.jp": 1, "approver@example.jp": 1}
    notice = smtp_server.handler.to("approver@example.jp")[0].parsed()
    body = notice.get_content()
    assert f"{settings.base_url}/admin/issues/{ALERT_NUMBERS}" in body
    assert "承認" in str(notice["Subject"])
    assert "Approval needed" in str(notice["Subject"])
    assert "件名：【海外安全情報】タイの危険情報" in body
    assert "Subject: [Safety alert] Thailand: Risk information: a level raised" in body
    with seeded_db.session() as session:
        assert get_issue(session, ALERT_NUMBERS).status == IssueStatus.DRAFT
        assert session.scalar(select(Delivery.id).limit(1)) is None
        detail = session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "issue.notify"))
        assert detail == "approval asked by mail of admin@example.jp, approver@example.jp"

    # The approver approves it in the console; a worker delivers it.
    smtp_server.handler.messages.clear()
    with seeded_db.session() as session:
        user = find_user(session, "approver@example.jp")
        assert user is not None
        approve(session, ALERT_NUMBERS, staff_view(user), policy=ApprovalPolicy.TWO_PERSON, now=NOW)
        by = Acting("staff:staff@example.jp", ApprovalPolicy.TWO_PERSON)
        assert start_for_workers(session, ALERT_NUMBERS, now=NOW, by=by) == (IssueStatus.SENDING, 3)
    deliver(seeded_db, settings, smtp_server)
    assert set(smtp_server.handler.copies()) == {
        "thai-ja@example.jp",
        "thai-en@example.jp",
        "asia@example.jp",
    }


def test_off_mode_records_and_composes_nothing(seeded_db: Database, settings: Settings) -> None:
    _people(seeded_db)
    add_entry(seeded_db, "th-1", [THAILAND])

    done = dispatch(seeded_db, settings, alerts_in(AlertMode.OFF), now=NOW, actor="scheduler")

    assert (done.composed, done.recorded, done.summary()) == ([], 1, "1 entries recorded only")
    with seeded_db.session() as session:
        entry = session.scalars(select(SafetyAlert)).one()
        assert (entry.state, entry.note) == (AlertState.RECORDED, "OUTREACH_ALERTS=off: recorded, not sent")


def test_a_second_dispatch_composes_nothing_again(seeded_db: Database, settings: Settings) -> None:
    _people(seeded_db)
    add_entry(seeded_db, "th-1", [THAILAND])
    dispatch(seeded_db, settings, alerts_in(AlertMode.APPROVE), now=NOW, actor="scheduler")

    again = dispatch(seeded_db, settings, alerts_in(AlertMode.APPROVE), now=NOW, actor="scheduler")

    assert again.summary() == "nothing to send"


def test_alert_issues_leave_the_magazines_numbers_without_gaps(
    seeded_db: Database, settings: Settings
) -> None:
    _people(seeded_db)
    with seeded_db.session() as session:
        first = compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 7))]).number
    add_entry(seeded_db, "th-1", [THAILAND])
    add_entry(seeded_db, "th-2", [THAILAND])
    dispatch(seeded_db, settings, alerts_in(AlertMode.APPROVE), now=NOW, actor="scheduler")

    with seeded_db.session() as session:
        second = compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 8))]).number
    add_entry(seeded_db, "th-3", [THAILAND])
    [alert] = dispatch(seeded_db, settings, alerts_in(AlertMode.APPROVE), now=NOW, actor="scheduler").composed

    assert (first, second, alert) == (1, 2, ALERT_NUMBERS + 1)


def test_a_preview_without_a_reader_shows_every_entry(seeded_db: Database, settings: Settings) -> None:
    _people(seeded_db)
    add_entry(seeded_db, "th-1", [THAILAND], title="タイのスポット情報")
    add_entry(seeded_db, "ca-1", [CANADA], title="カナダのスポット情報")
    dispatch(seeded_db, settings, alerts_in(AlertMode.APPROVE), now=NOW, actor="scheduler")

    with seeded_db.session() as session:
        parts = preview_parts(
            session,
            ALERT_NUMBERS,
            organization="jetro",
            language="ja",
            renderer=Renderer(sender=senders(settings)),
            base_url=settings.base_url,
        )

    assert parts.subject == "【海外安全情報】タイ、カナダ：タイのスポット情報ほか1件"
    assert "タイのスポット情報" in parts.text
    assert "カナダのスポット情報" in parts.text
