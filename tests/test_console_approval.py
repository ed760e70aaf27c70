"""The console's issue pages over real HTTP (uvicorn, httpx, real databases) under the two-person rule: an
issue's page, its approval (the composer is refused, another approver is not), and its send: the confirmation
page, send now, schedule, pause, resume, cancel. Every refusal (anonymous, wrong role, no CSRF token, an
unapproved issue, a bad time) leaves every table as it was; every action is in the audit log with the address.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from outreach.calendar import JST, next_business_morning
from outreach.config import Settings
from outreach.db import Database
from outreach.issues import get_issue
from outreach.models import Delivery, DeliveryStatus, IssueStatus, utcnow
from outreach.planner import JobBook
from outreach.staff import audit
from outreach.staff.models import StaffRole
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases import approval, drafts
from outreach.usecases.approval import Acting
from outreach.usecases.sends import start_send
from subscribers.directory import add_subscriber, organization_or_none
from tests.conftest import snapshot
from tests.console_support import USERS, Console, add_user, served
from tests.test_console_http import csrf_in, logged_in, without

ISSUE = "/issues/1"
POSTS = ("/approve", "/send", "/schedule", "/pause", "/resume", "/cancel")


@pytest.fixture
def console(seeded_db: Database, settings: Settings) -> Iterator[Console]:
    """A user of each role, three subscribers (jetro, jcci, unaffiliated), and the console (two-person)."""
    for role in StaffRole:
        add_user(seeded_db, role)
    with seeded_db.session() as session:
        for email, slug in (("a@example.jp", "jetro"), ("b@example.jp", "jcci"), ("c@example.jp", None)):
            add_subscriber(session, email, organization=organization_or_none(session, slug) if slug else None)
    with served(seeded_db, settings) as running:
        yield running


def compose(db: Database, role: StaffRole = StaffRole.STAFF) -> None:
    with db.session() as session:
        draft = drafts.NewDraft(meetings=["plenary:8"])
        approval.compose_as(session, draft, audit.staff_actor(USERS[role]), now=utcnow())


def approve_directly(db: Database) -> None:
    with db.session() as session:
        approval.record_approval(
            session, 1, "staff:approver@example.jp", policy=ApprovalPolicy.TWO_PERSON, now=utcnow()
        )


def post(client: httpx.Client, path: str, **fields: str) -> httpx.Response:
    token = csrf_in(client.get("/admin/").text)
    return client.post(path, data={"csrf_token": token, **fields})


def status_of(db: Database) -> IssueStatus:
    with db.session() as session:
        return get_issue(session, 1).status


def issue_events(db: Database) -> list[audit.AuditEntry]:
    with db.session() as session:
        return [e for e in audit.read_page(session, per_page=1000).entries if e.action.startswith("issue.")]


def unchanged(db: Database, before: dict[str, list[tuple[Any, ...]]]) -> bool:
    """Every table as it was, but the session's idle clock, which an allowed request restarts."""
    return without(snapshot(db), "staff_sessions") == without(before, "staff_sessions")


@pytest.mark.parametrize(
    ("base", "words"),
    [
        ("/admin", ("第1号", "下書き", "未決裁", "日本貿易振興機構", "合計")),
        ("/en/admin", ("Issue No. 1", "Draft", "Not approved yet", "Japan External", "Total")),
    ],
)
def test_the_issue_page_shows_the_issue_its_sign_off_and_who_it_would_reach(
    console: Console, base: str, words: tuple[str, ...]
) -> None:
    compose(console.db)
    with logged_in(console, StaffRole.STAFF) as staff, logged_in(console, StaffRole.APPROVER) as approver:
        dashboard = staff.get(f"{base}/")
        before = snapshot(console.db)
        page = staff.get(f"{base}{ISSUE}")
        approver_page = approver.get(f"{base}{ISSUE}")
    assert f'href="{base}{ISSUE}"' in dashboard.text
    assert page.status_code == approver_page.status_code == 200
    assert unchanged(console.db, before)
    for word in (*words, "staff:staff@example.jp"):
        assert word in page.text, word
    figures = re.findall(r'<td class="figure">([0-9,]+)</td>', page.text)
    assert figures == ["1", "1", "1", "3"]  # the network (the unaffiliated), jcci, jetro; in all
    assert f'action="{base}{ISSUE}/approve"' not in page.text  # staff do not approve
    assert f'action="{base}{ISSUE}/send"' not in page.text  # nor send what nobody approved
    assert f'action="{base}{ISSUE}/approve"' in approver_page.text
    assert f'action="{base}{ISSUE}/send"' not in approver_page.text  # approvers do not send
    assert "<script" not in page.text
    assert page.headers["cache-control"] == "no-store"


def test_the_composer_cannot_approve_their_own_issue_another_approver_can(console: Console) -> None:
    compose(console.db, StaffRole.ADMIN)
    with logged_in(console, StaffRole.ADMIN) as admin:
        before = snapshot(console.db)
        refused = post(admin, f"/admin{ISSUE}/approve")
        english = post(admin, f"/en/admin{ISSUE}/approve")
    assert refused.status_code == english.status_code == 409
    assert "あなたが起案した号は、あなた自身では決裁できません。" in refused.text
    assert "You cannot approve an issue you composed." in english.text
    assert unchanged(console.db, before)

    with logged_in(console, StaffRole.APPROVER) as approver:
        done = post(approver, f"/admin{ISSUE}/approve")
        assert (done.status_code, done.headers["location"]) == (303, f"/admin{ISSUE}?done=approved")
        page = approver.get(done.headers["location"])
        again = post(approver, f"/admin{ISSUE}/approve")
    assert "決裁しました。" in page.text
    assert "staff:approver@example.jp" in page.text
    assert again.status_code == 409
    assert "この号はすでに決裁されています。" in again.text
    event = issue_events(console.db)[0]
    assert (event.actor, event.action, event.target, event.ip) == (
        "staff:approver@example.jp",
        "issue.approve",
        "issue No. 1",
        "127.0.0.1",
    )


@pytest.mark.parametrize("base", ["/admin", "/en/admin"])
def test_every_refusal_of_an_issue_route_changes_nothing(console: Console, base: str) -> None:
    compose(console.db)
    with console.db.session() as session:
        start_send(session, get_issue(session, 1), now=utcnow(), by=Acting("cli:tester", ApprovalPolicy.NONE))
    before = snapshot(console.db)
    with console.client() as anonymous:
        for action in POSTS:
            assert anonymous.post(f"{base}{ISSUE}{action}").status_code == 303
        assert (
            anonymous.get(f"{base}{ISSUE}").headers["location"]
            == f"{base}/login?next=%2F{base[1:].replace('/', '%2F')}%2Fissues%2F1"
        )
    for role, refused in (
        (StaffRole.STAFF, ("/approve",)),
        (StaffRole.APPROVER, ("/send", "/schedule", "/pause", "/resume", "/cancel")),
        (StaffRole.ORG_EDITOR, POSTS),
    ):
        with logged_in(console, role) as client:
            token = csrf_in(client.get(f"{base}/login", follow_redirects=True).text)
            checked = snapshot(console.db)
            for action in refused:
                answer = client.post(f"{base}{ISSUE}{action}", data={"csrf_token": token})
                assert answer.status_code == 403, (role, action)
            for action in set(POSTS) - set(refused) if role is not StaffRole.ORG_EDITOR else ():
                for data in ({}, {"csrf_token": "forged"}):
                    answer = client.post(f"{base}{ISSUE}{action}", data=data)
                    assert answer.status_code == 403, (role, action, data)
            assert snapshot(console.db) == checked
    assert without(snapshot(console.db), "staff_sessions", "staff_users", "audit_events") == without(
        before, "staff_sessions", "staff_users", "audit_events"
    )
    assert [e.action for e in issue_events(console.db)] == ["issue.send", "issue.compose"]


def test_an_unapproved_issue_cannot_be_confirmed_sent_or_scheduled(console: Console) -> None:
    compose(console.db)
    with logged_in(console, StaffRole.STAFF) as staff:
        before = snapshot(console.db)
        at = (utcnow() + timedelta(days=2)).astimezone(JST).strftime("%Y-%m-%dT%H:%M")
        answers = [
            staff.get(f"/admin{ISSUE}/send"),
            staff.get(f"/admin{ISSUE}/schedule", params={"at": at}),
            post(staff, f"/admin{ISSUE}/send"),
            post(staff, f"/admin{ISSUE}/schedule", at=at),
        ]
    for answer in answers:
        assert answer.status_code == 409
        assert "この号はまだ決裁されていません。" in answer.text
    assert unchanged(console.db, before)


def test_staff_confirm_and_send_now_for_the_resident_workers(console: Console) -> None:
    compose(console.db)
    approve_directly(console.db)
    with logged_in(console, StaffRole.STAFF) as staff:
        page = staff.get(f"/admin{ISSUE}")
        before = snapshot(console.db)
        confirmation = staff.get(f"/admin{ISSUE}/send")
        assert unchanged(console.db, before)
        token = csrf_in(confirmation.text)
        sent = staff.post(f"/admin{ISSUE}/send", data={"csrf_token": token})
        twice = staff.post(f"/admin{ISSUE}/send", data={"csrf_token": token})
        after = staff.get(sent.headers["location"])
    assert f'action="/admin{ISSUE}/send"' in page.text
    assert confirmation.status_code == 200
    assert "配信の確認" in confirmation.text
    assert "【海外安全メールマガジン 第1号】第8回本会合の開催結果" in confirmation.text
    assert "今すぐ" in confirmation.text
    assert "3件" in confirmation.text
    assert (sent.status_code, sent.headers["location"]) == (303, f"/admin{ISSUE}?done=started")
    assert twice.status_code == 409  # a second click starts nothing
    assert "配信を開始しました。" in after.text
    assert status_of(console.db) == IssueStatus.SENDING
    with console.db.session() as session:
        queued = session.scalar(select(func.count()).where(Delivery.status == DeliveryStatus.QUEUED))
    assert queued == 3
    event = issue_events(console.db)[0]
    assert (event.actor, event.action, event.ip) == ("staff:staff@example.jp", "issue.send", "127.0.0.1")
    assert event.detail is not None
    assert event.detail.startswith("3 recipients queued; approved by staff:approver@example.jp")


def test_schedule_suggests_the_next_business_morning_and_plans_the_send(console: Console) -> None:
    compose(console.db)
    approve_directly(console.db)
    suggested = next_business_morning(utcnow()).strftime("%Y-%m-%dT%H:%M")
    with logged_in(console, StaffRole.STAFF) as staff:
        page = staff.get(f"/admin{ISSUE}")
        before = snapshot(console.db)
        garbled = staff.get(f"/admin{ISSUE}/schedule", params={"at": "来週の月曜"})
        past = staff.get(f"/admin{ISSUE}/schedule", params={"at": "2020-01-06T10:00"})
        posted_past = post(staff, f"/admin{ISSUE}/schedule", at="2020-01-06T10:00")
        assert unchanged(console.db, before)
        confirmation = staff.get(f"/en/admin{ISSUE}/schedule", params={"at": suggested})
        planned = staff.post(
            f"/en/admin{ISSUE}/schedule", data={"csrf_token": csrf_in(confirmation.text), "at": suggested}
        )
    assert f'value="{suggested}"' in page.text
    assert garbled.status_code == past.status_code == posted_past.status_code == 400
    assert "配信日時を「2026-12-01 10:00」の形で入力してください。" in garbled.text
    assert 'value="来週の月曜"' in garbled.text  # the input is kept
    assert "配信日時には、これから先の日時を入力してください。" in past.text
    assert confirmation.status_code == 200
    assert "Confirm the schedule" in confirmation.text
    assert suggested.replace("T", " ") in confirmation.text
    assert (planned.status_code, planned.headers["location"]) == (303, f"/en/admin{ISSUE}?done=scheduled")
    assert status_of(console.db) == IssueStatus.SCHEDULED
    with JobBook(console.db) as book:
        [job] = book.jobs()
    assert job.id == "issue:1"
    assert job.next_run is not None
    assert job.next_run.astimezone(JST).strftime("%Y-%m-%dT%H:%M") == suggested
    assert issue_events(console.db)[0].action == "issue.schedule"


def test_pause_resume_and_cancel_a_running_send(console: Console) -> None:
    compose(console.db)
    with logged_in(console, StaffRole.STAFF) as staff:
        refused = post(staff, f"/admin{ISSUE}/pause")  # a draft is not being sent
        assert refused.status_code == 409
        assert "この号は現在「下書き」のため、この操作はできません。" in refused.text
        with console.db.session() as session:
            start_send(
                session, get_issue(session, 1), now=utcnow(), by=Acting("cli:tester", ApprovalPolicy.NONE)
            )
        assert post(staff, f"/admin{ISSUE}/pause").status_code == 303
        paused = staff.get(f"/admin{ISSUE}")
        assert status_of(console.db) == IssueStatus.PAUSED
        assert post(staff, f"/admin{ISSUE}/resume").status_code == 303
        assert status_of(console.db) == IssueStatus.SENDING
        assert post(staff, f"/admin{ISSUE}/cancel").status_code == 303
        cancelled = staff.get(f"/admin{ISSUE}?done=cancelled")
    assert "paused by staff" in paused.text
    assert f'action="/admin{ISSUE}/resume"' in paused.text
    assert status_of(console.db) == IssueStatus.CANCELLED
    assert "配信を中止しました。" in cancelled.text
    assert "この号の配信は終わっています。" in cancelled.text
    assert [(e.actor, e.action) for e in issue_events(console.db)][:3] == [
        ("staff:staff@example.jp", "issue.cancel"),
        ("staff:staff@example.jp", "issue.resume"),
        ("staff:staff@example.jp", "issue.pause"),
    ]


def test_an_issue_that_does_not_exist_is_a_404(console: Console) -> None:
    with logged_in(console, StaffRole.ADMIN) as admin:
        for path in ("/admin/issues/9", "/admin/issues/99999999999", "/en/admin/issues/9/send"):
            answer = admin.get(path)
            assert answer.status_code == 404, path
        assert "ページが見つかりません" in admin.get("/admin/issues/9").text
        assert post(admin, "/admin/issues/9/approve").status_code == 404
        assert admin.get("/admin/issues/x").status_code == 404
