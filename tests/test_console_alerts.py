"""The console's safety-alert pages over real HTTP (uvicorn, httpx, real databases): the entries that arrived
and what was done with each, filtered and paged; one entry in full; the mode, the rules and the polls with a
warning when the feed is not being read; "poll now" for the roles that send; and an alert issue's own page.

The entries, places and polls are written here directly, as the feed's reader (outreach.alerts.intake) would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from outreach.alerts.models import AlertAction, AlertPlace, AlertPoll, AlertState, SafetyAlert
from outreach.config import Settings
from outreach.console.alerts_rows import PER_PAGE
from outreach.db import Database
from outreach.models import Issue, IssueItem, IssueKind, IssueStatus, utcnow
from outreach.staff import audit
from outreach.staff.models import AuditEvent, StaffRole
from tests.conftest import snapshot
from tests.console_support import Console, add_user, served
from tests.test_console_http import csrf_in, logged_in, without

READERS = (StaffRole.ADMIN, StaffRole.STAFF, StaffRole.APPROVER)
ROW = re.compile(r'<tr id="alert-(\d+)">')
ALERT_NUMBER = 100001  # alert issues are numbered in a band of their own (outreach.issues)


@dataclass
class Entry:
    """A feed entry as a test writes it."""

    key: str
    title: str
    info_type: str = "T40"
    published: datetime = field(default_factory=utcnow)
    places: tuple[tuple[str, str, str], ...] = (("10", "0066", "タイ"),)
    risk_levels: tuple[int, ...] = ()
    infection_levels: tuple[int, ...] = ()
    change: str = ""
    rule: str = "risk-raised"
    action: AlertAction = AlertAction.NOW
    state: AlertState = AlertState.WAITING
    url: str = "https://www.anzen.mofa.go.jp/info/example.html"
    lead: str = ""
    main_text: str = ""
    mission: str = ""
    note: str = ""


def add_entry(db: Database, entry: Entry) -> int:
    with db.session() as session:
        alert = SafetyAlert(
            key=entry.key,
            info_type=entry.info_type,
            info_name="",
            published_at=entry.published,
            title=entry.title,
            lead=entry.lead,
            main_text=entry.main_text,
            url=entry.url,
            mission_name=entry.mission,
            mission_code="609A" if entry.mission else "",
            risk_levels=list(entry.risk_levels),
            infection_levels=list(entry.infection_levels),
            change=entry.change,
            rule=entry.rule,
            action=entry.action,
            state=entry.state,
            note=entry.note,
            places=[AlertPlace(area_code=a, country_code=c, name=n) for a, c, n in entry.places],
        )
        session.add(alert)
        session.flush()
        return alert.id


def add_issue(db: Database, alert_ids: list[int], *, kind: IssueKind, number: int) -> int:
    """An issue carrying the entries: an alert issue's content, or a regular issue's digest lines."""
    with db.session() as session:
        issue = Issue(
            number=number,
            issue_date=date(2026, 12, 1),
            subject_ja=f"件名{number}",
            subject_en=f"Subject {number}",
            kind=kind,
            status=IssueStatus.DRAFT,
            composed_by="scheduler",
        )
        issue.items = [IssueItem(position=i, alert_id=alert_id) for i, alert_id in enumerate(alert_ids)]
        session.add(issue)
    return number


def add_poll(
    db: Database, *, ago: timedelta, result: str, status: int | None = 200, detail: str = ""
) -> None:
    with db.session() as session:
        started = utcnow() - ago
        session.add(
            AlertPoll(
                url="https://example.jp/feed.xml",
                started_at=started,
                finished_at=started + timedelta(seconds=1),
                result=result,
                http_status=status,
                entries=5,
                new=2,
                detail=detail,
            )
        )


def shown_ids(html: str) -> list[int]:
    return [int(found) for found in ROW.findall(html)]


def three_entries(db: Database) -> list[int]:
    """Oldest first: a wide-area entry in a regular issue, a raised level in an alert issue, a spot that
    waits."""
    now = utcnow()
    wide = add_entry(
        db,
        Entry(
            "K-WIDE",
            "広域情報：年末年始の注意",
            info_type="C50",
            published=now - timedelta(hours=3),
            places=(("10", "", "アジア"),),
            rule="wide-area",
            action=AlertAction.DIGEST,
            state=AlertState.DIGESTED,
        ),
    )
    raised = add_entry(
        db,
        Entry(
            "K-RAISED",
            "タイの危険情報【危険レベル引き上げ】",
            published=now - timedelta(hours=2),
            risk_levels=(2, 3),
            change="raised",
            state=AlertState.ISSUED,
            lead="一部地域の危険レベルを3に引き上げます。",
            main_text="本文の一行目\n本文の二行目",
            mission="在タイ日本国大使館",
        ),
    )
    spot = add_entry(
        db,
        Entry(
            "K-SPOT",
            "スポット情報：デモの予定",
            info_type="C30",
            published=now - timedelta(hours=1),
            places=(("10", "0066", "タイ"), ("99", "9999", "未知の国")),
            rule="spot",
        ),
    )
    add_issue(db, [raised], kind=IssueKind.ALERT, number=ALERT_NUMBER)
    add_issue(db, [wide], kind=IssueKind.MAGAZINE, number=1)
    return [wide, raised, spot]


@pytest.mark.parametrize("role", READERS)
def test_every_staff_role_sees_what_arrived_newest_first_and_what_was_done(
    console: Console, role: StaffRole
) -> None:
    wide, raised, spot = three_entries(console.db)
    with logged_in(console, role) as client:
        page = client.get("/admin/alerts")
        english = client.get("/en/admin/alerts")
    assert page.status_code == english.status_code == 200
    assert shown_ids(page.text) == shown_ids(english.text) == [spot, raised, wide]
    assert 'href="/admin/alerts" aria-current="page">安全情報' in page.text
    assert 'aria-current="page">Safety alerts' in english.text
    row = page.text.split(f'<tr id="alert-{raised}">')[1].split("</tr>")[0]
    assert "タイの危険情報【危険レベル引き上げ】" in row
    assert 'href="https://www.anzen.mofa.go.jp/info/example.html" rel="external noopener noreferrer"' in row
    assert 'class="level level-2"' in row
    assert 'class="level level-3"' in row
    assert f'href="/admin/issues/{ALERT_NUMBER}">速報 第{ALERT_NUMBER}号</a>' in row
    assert "危険情報：危険レベルの引き上げ" in row
    assert "すぐに送る" in row
    assert "速報に掲載" in row
    wide_row = page.text.split(f'<tr id="alert-{wide}">')[1].split("</tr>")[0]
    assert 'href="/admin/issues/1">第1号</a>' in wide_row
    assert "定期号に掲載" in wide_row
    spot_row = english.text.split(f'<tr id="alert-{spot}">')[1].split("</tr>")[0]
    assert "Thailand" in spot_row
    assert "未知の国" in spot_row
    assert "Spot information" in spot_row
    assert "Waiting" in spot_row


def test_filters_and_pages_keep_to_what_was_asked(console: Console) -> None:
    wide, raised, spot = three_entries(console.db)
    with logged_in(console, StaffRole.STAFF) as client:
        assert shown_ids(client.get("/admin/alerts?state=waiting").text) == [spot]
        assert shown_ids(client.get("/admin/alerts?type=C50").text) == [wide]
        assert shown_ids(client.get("/admin/alerts?type=T40&state=issued").text) == [raised]
        none = client.get("/en/admin/alerts?type=T40&state=recorded")
        assert shown_ids(none.text) == []
        assert "No entry matches." in none.text
        before = without(snapshot(console.db), "staff_sessions")  # a page read marks the session active
        for bad in ("state=sent", "type=<b>", "type=t40", "page=0", "page=x", "page=1234567", "state=%00"):
            answer = client.get(f"/admin/alerts?{bad}")
            assert answer.status_code == 400, bad
        assert without(snapshot(console.db), "staff_sessions") == before
    for number in range(PER_PAGE):
        add_entry(
            console.db, Entry(f"K-{number}", f"古い情報{number}", published=utcnow() - timedelta(days=2))
        )
    with logged_in(console, StaffRole.APPROVER) as client:
        first = client.get("/admin/alerts?state=waiting")
        second = client.get("/admin/alerts?state=waiting&page=2")
        past = client.get("/admin/alerts?state=waiting&page=9")
    assert len(shown_ids(first.text)) == PER_PAGE
    assert shown_ids(first.text)[0] == spot
    assert 'href="/admin/alerts?state=waiting&amp;page=2" rel="next"' in first.text
    assert len(shown_ids(second.text)) == 1
    assert shown_ids(past.text) == shown_ids(second.text)  # past the last page: the last page


def test_an_entry_in_full_and_a_missing_one(console: Console) -> None:
    _, raised, _ = three_entries(console.db)
    odd = add_entry(console.db, Entry("K-ODD", "リンクのない情報", url="javascript:alert(1)"))
    with logged_in(console, StaffRole.APPROVER) as client:
        page = client.get(f"/admin/alerts/{raised}")
        english = client.get(f"/en/admin/alerts/{raised}")
        odd_page = client.get(f"/admin/alerts/{odd}")
        missing = [client.get(f"/admin/alerts/{n}") for n in (odd + 1000, 2**31, 10**12)]
    assert page.status_code == english.status_code == odd_page.status_code == 200
    for text in (
        "一部地域の危険レベルを3に引き上げます。",
        "本文の一行目\n本文の二行目",
        "在タイ日本国大使館",
        "K-RAISED",
    ):
        assert text in page.text
    assert "渡航は止めてください。（渡航中止勧告）" in page.text  # level 3's official wording
    assert f'href="/admin/issues/{ALERT_NUMBER}"' in page.text
    assert "Avoid all travel (advisory against travel)." in english.text
    assert "Thailand" in english.text
    assert "javascript:" not in odd_page.text
    assert [answer.status_code for answer in missing] == [404, 404, 404]


def test_the_mode_and_the_rules_in_force_are_shown(
    seeded_db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_ALERTS", "auto")
    monkeypatch.setenv("OUTREACH_ALERTS_RULES", "wide-area=now,embassy-general=record")
    add_user(seeded_db, StaffRole.APPROVER)
    with served(seeded_db, settings) as console, logged_in(console, StaffRole.APPROVER) as client:
        page = client.get("/admin/alerts")
        english = client.get("/en/admin/alerts")
    assert "自動配信（auto）" in page.text
    assert "Automatic (auto)" in english.text
    rows = dict(re.findall(r'<tr id="rule-([a-z-]+)">(.*?)</tr>', page.text))
    assert len(rows) == 11
    assert (
        '<td class="changed">すぐに送る （設定で変更）</td><td>次の定期号に載せる</td>' in rows["wide-area"]
    )
    assert '<td class="changed">記録のみ （設定で変更）</td>' in rows["embassy-general"]
    assert "changed" not in rows["risk-raised"]
    assert "すぐに送る" in rows["risk-raised"]
    assert 'action="/admin/alerts/poll"' not in page.text  # approvers do not poll


def test_the_page_warns_when_the_feed_is_not_being_read(console: Console) -> None:
    def warning() -> tuple[bool, str]:
        with logged_in(console, StaffRole.STAFF) as client:
            text = client.get("/admin/alerts").text
        return 'id="poll-warning"' in text, text

    shown, text = warning()
    assert shown
    assert "フィードを取得できたことがまだありません。" in text
    add_poll(console.db, ago=timedelta(minutes=10), result="ok")
    shown, text = warning()
    assert not shown
    assert "成功" in text
    add_poll(
        console.db, ago=timedelta(minutes=5), result="error", status=500, detail="HTTP 500 from the feed"
    )
    shown, text = warning()
    assert shown
    assert "直近のフィードの取得に失敗しました。" in text
    assert "HTTP 500 from the feed" in text
    assert "この1時間" not in text  # the success ten minutes ago still counts
    with console.db.session() as session:
        for poll in session.scalars(select(AlertPoll)):
            poll.started_at -= timedelta(hours=2)
    add_poll(console.db, ago=timedelta(minutes=1), result="unchanged", status=304)
    shown, text = warning()
    assert not shown  # an unchanged file is a successful poll
    with console.db.session() as session:
        for poll in session.scalars(select(AlertPoll)):
            poll.started_at -= timedelta(hours=2)
    shown, text = warning()
    assert shown
    assert "この1時間、フィードを取得できていません" in text
    assert "直近の" not in text


FEED = """<?xml version="1.0" encoding="UTF-8"?>
<opendata dataType="A" lastModified="2026/11/30 18:00:00" mailCount="1" odType="02">
  <mail>
    <keyCd>CONSOLE-POLL-1</keyCd>
    <infoType>C50</infoType>
    <infoName>広域情報</infoName>
    <leaveDate>2026/11/30 17:00:00</leaveDate>
    <area><cd>10</cd><name>アジア</name></area>
    <title>広域情報：試験用</title>
    <lead>試験用の文</lead>
    <infoUrl>https://www.anzen.mofa.go.jp/info/test.html</infoUrl>
  </mail>
</opendata>
"""


@pytest.fixture
def polling(
    seeded_db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Console, Path]]:
    """The console reading a feed file the test writes; entries are only recorded (OUTREACH_ALERTS=off)."""
    feed = tmp_path / "newarrivalA.xml"
    monkeypatch.setenv("OUTREACH_ALERTS", "off")
    monkeypatch.setenv("OUTREACH_ALERTS_FEED", str(feed))
    for role in StaffRole:
        add_user(seeded_db, role)
    with served(seeded_db, settings) as console:
        yield console, feed


def test_poll_now_is_refused_without_the_right_or_a_token(polling: tuple[Console, Path]) -> None:
    console, feed = polling
    feed.write_text(FEED, encoding="utf-8")
    with logged_in(console, StaffRole.APPROVER) as approver, logged_in(console, StaffRole.STAFF) as staff:
        token = csrf_in(approver.get("/admin/alerts").text)
        before = snapshot(console.db)
        assert approver.post("/admin/alerts/poll", data={"csrf_token": token}).status_code == 403
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": token}):  # another browser's token
            assert staff.post("/en/admin/alerts/poll", data=data).status_code == 403
        assert snapshot(console.db) == before


def test_poll_now_reads_the_feed_and_the_page_shows_the_result(polling: tuple[Console, Path]) -> None:
    console, feed = polling
    feed.write_text(FEED, encoding="utf-8")
    with logged_in(console, StaffRole.STAFF) as client:
        page = client.get("/admin/alerts")
        assert 'action="/admin/alerts/poll"' in page.text
        done = client.post("/admin/alerts/poll", data={"csrf_token": csrf_in(page.text)})
        assert (done.status_code, done.headers["location"]) == (303, "/admin/alerts?done=polled")
        shown = client.get(done.headers["location"]).text
        feed.write_text("<opendata><mail>", encoding="utf-8")  # cut short
        failed = client.post("/admin/alerts/poll", data={"csrf_token": csrf_in(shown)})
        assert (failed.status_code, failed.headers["location"]) == (303, "/admin/alerts?done=failed")
        after = client.get(failed.headers["location"]).text
    assert "フィードを読み込みました。" in shown
    assert "広域情報：試験用" in shown
    assert 'id="poll-warning"' not in shown
    assert "フィードを読み込めませんでした。" in after
    assert 'id="poll-warning"' in after
    with console.db.session() as session:
        results = list(session.scalars(select(AlertPoll.result).order_by(AlertPoll.id)))
        keys = list(session.scalars(select(SafetyAlert.key)))
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "alerts.poll")))
    assert results == ["ok", "error"]
    assert keys == ["CONSOLE-POLL-1"]
    assert sorted(event.actor for event in events) == [audit.staff_actor("staff@example.jp")] * 2
    assert any((event.detail or "").startswith("failed:") for event in events)


def test_an_alert_issue_has_its_page_and_the_dashboard_marks_it(console: Console) -> None:
    wide, raised, _ = three_entries(console.db)
    with logged_in(console, StaffRole.STAFF) as client:
        page = client.get(f"/admin/issues/{ALERT_NUMBER}")
        english = client.get(f"/en/admin/issues/{ALERT_NUMBER}")
        regular = client.get("/admin/issues/1")
        preview = client.get(f"/admin/issues/{ALERT_NUMBER}/preview")  # the renditions (outreach.render)
        dashboard = client.get("/admin/")
        english_dashboard = client.get("/en/admin/")
    with logged_in(console, StaffRole.APPROVER) as approver:
        token = csrf_in(approver.get(f"/admin/issues/{ALERT_NUMBER}").text)
        approved = approver.post(f"/admin/issues/{ALERT_NUMBER}/approve", data={"csrf_token": token})
    assert page.status_code == english.status_code == regular.status_code == preview.status_code == 200
    assert '<span class="state kind-alert">速報</span>' in page.text
    assert '<span class="state kind-alert">Alert</span>' in english.text
    assert f'<li id="alert-{raised}">' in page.text
    assert f'href="/admin/alerts/{raised}"' in page.text
    assert f"/issues/{ALERT_NUMBER}/edit" not in page.text  # the composer's form is for regular issues
    assert "state kind-alert" not in regular.text
    assert f'<li id="alert-{wide}">' in regular.text
    assert "購読者の国・地域の安全情報" in regular.text
    marks = re.findall(r"第(\d+)号( <span class=\"state kind-alert\">速報</span>)?</td>", dashboard.text)
    assert sorted(marks) == sorted(
        [("1", ""), (str(ALERT_NUMBER), ' <span class="state kind-alert">速報</span>')]
    )
    assert '<span class="state kind-alert">Alert</span>' in english_dashboard.text
    assert approved.status_code == 303
    assert approved.headers["location"].endswith("?done=approved")
    with console.db.session() as session:
        issue = session.scalars(select(Issue).where(Issue.number == ALERT_NUMBER)).one()
        assert issue.approved_by == audit.staff_actor("approver@example.jp")
