"""The composer over real HTTP (uvicorn, httpx, both databases): compose an issue from meetings with chosen
promotions, subjects and leads; the warning for a meeting that went out already; a charset refusal shown at
its field with nothing written; edit a draft (withdrawing its approval), refuse to edit what is not a draft;
delete the newest draft and see the next compose take its number. Every write is audited with the address.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from outreach import states
from outreach.db import Database
from outreach.issues import get_issue
from outreach.models import IssueStatus, Meeting, utcnow
from outreach.staff import audit
from outreach.staff.models import StaffRole
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases import approval, drafts
from tests.conftest import snapshot
from tests.console_support import USERS, Console
from tests.test_console_http import csrf_in, logged_in, without

FEBRUARY = "2024-02-15"
CHOSEN = ("tabireg", "awareness-flyer")  # two of the seven promotions active on that date


def form(**given: Any) -> dict[str, Any]:
    """The composer's fields as a browser posts them: plenary:8 on the February date, UTF-8, two tools."""
    return {
        "meeting": ["plenary:8"],
        "issue_date": FEBRUARY,
        "subject_ja": "",
        "subject_en": "",
        "lead_ja": "",
        "lead_en": "",
        "charset": "utf-8",
        "promotion": list(CHOSEN),
        **given,
    }


def post(client: httpx.Client, path: str, fields: dict[str, Any]) -> httpx.Response:
    token = csrf_in(client.get("/admin/").text)
    return client.post(path, data={"csrf_token": token, **fields})


def compose_directly(db: Database, key: str = "plenary:8", *, as_role: StaffRole = StaffRole.STAFF) -> int:
    with db.session() as session:
        draft = drafts.NewDraft(meetings=[key], issue_date=date(2024, 2, 15))
        actor = audit.staff_actor(USERS[as_role])
        return approval.compose_as(session, draft, actor, now=utcnow()).issue.number


def sections(db: Database, number: int) -> list[str]:
    with db.session() as session:
        return [
            item.meeting.key if item.meeting is not None else f"promotion:{item.promotion.slug}"  # type: ignore[union-attr]
            for item in get_issue(session, number).items
        ]


def events(db: Database, action: str) -> list[audit.AuditEntry]:
    with db.session() as session:
        return [e for e in audit.read_page(session, per_page=1000).entries if e.action == action]


def unchanged(db: Database, before: dict[str, list[tuple[Any, ...]]]) -> bool:
    """Every table as it was, but the session's idle clock, which an allowed request restarts."""
    return without(snapshot(db), "staff_sessions") == without(before, "staff_sessions")


def field_error(html: str, field: str) -> str:
    """The message shown at a field, or "" when it has none."""
    found = re.search(rf'<p class="field-error-text" id="{field}-error">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


def test_compose_from_two_meetings_with_chosen_promotions(console: Console) -> None:
    with logged_in(console, StaffRole.STAFF) as staff:
        page = staff.get("/admin/issues/new")
        done = post(staff, "/admin/issues/new", form(meeting=["plenary:8", "secretariat:5"]))
        after = staff.get(done.headers["location"])
    assert page.status_code == 200
    offered = re.findall(r'name="meeting" value="([a-z]+:[0-9]+)"', page.text)
    with console.db.session() as session:
        newest_first = [m.key for m in session.scalars(select(Meeting).order_by(Meeting.held_on.desc()))]
    assert offered == newest_first
    precheck = re.findall(r'name="promotion" value="([a-z0-9-]+)" checked', page.text)
    assert len(precheck) >= 6  # every tool running today, checked
    assert (done.status_code, done.headers["location"]) == (303, "/admin/issues/1?done=composed")
    assert after.status_code == 200
    held = sections(console.db, 1)
    assert held == ["secretariat:5", "plenary:8", "promotion:tabireg", "promotion:awareness-flyer"]
    with console.db.session() as session:
        issue = get_issue(session, 1)
        assert issue.composed_by == "staff:staff@example.jp"
        assert issue.issue_date == date(2024, 2, 15)
        assert (
            issue.subject_ja == "【海外安全メールマガジン 第1号】第8回本会合の開催結果"
        )  # the topmost chosen
    (event,) = events(console.db, "issue.compose")
    assert (event.actor, event.target, event.ip) == ("staff:staff@example.jp", "issue No. 1", "127.0.0.1")


def test_the_form_marks_new_and_carried_promotions_and_a_meeting_that_went_out(console: Console) -> None:
    compose_directly(console.db, "plenary:8")
    with console.db.session() as session:
        issue = get_issue(session, 1)
        states.start(issue, now=utcnow())
        states.finish(issue, now=utcnow())
    with logged_in(console, StaffRole.STAFF) as staff:
        page = staff.get("/admin/issues/new")
        english = staff.get("/en/admin/issues/new")
        done = post(staff, "/admin/issues/new", form(meeting=["plenary:8"]))
        checks = staff.get(done.headers["location"])
    assert "第1号で配信済み" in page.text
    assert "Sent in issue No. 1" in english.text
    assert "前号で紹介済み：リンクのみ" in page.text  # issue No. 1 carried the tools running in February 2024
    # A warning, not a refusal: issue No. 2 exists, and its edit page says what to check.
    assert (done.status_code, done.headers["location"]) == (303, "/admin/issues/2/edit?composed=1")
    assert "第2号を起案しました。" in checks.text
    assert "第8回本会合は、第1号ですでに配信しています。" in checks.text
    assert sections(console.db, 2)[0] == "plenary:8"


@pytest.mark.parametrize("base", ["/admin", "/en/admin"])
def test_subjects_and_leads_round_trip(console: Console, base: str) -> None:
    lead_ja = "皆様、いつもありがとうございます。\r\n\r\n今号は**第8回本会合**の結果です。"
    lead_en = "Thank you for reading.\r\n\r\nThis issue covers **Plenary 8**."
    fields = form(
        subject_ja="【臨時号】本会合のご報告",
        subject_en="Special: the plenary",
        lead_ja=lead_ja,
        lead_en=lead_en,
    )
    with logged_in(console, StaffRole.STAFF) as staff:
        done = post(staff, f"{base}/issues/new", fields)
        edit = staff.get(f"{base}/issues/1/edit")
    assert done.status_code == 303
    with console.db.session() as session:
        issue = get_issue(session, 1)
        stored = (issue.subject_ja, issue.subject_en, issue.lead_ja, issue.lead_en)
    assert stored == (
        "【臨時号】本会合のご報告",
        "Special: the plenary",
        "皆様、いつもありがとうございます。\n\n今号は**第8回本会合**の結果です。",
        "Thank you for reading.\n\nThis issue covers **Plenary 8**.",
    )
    assert edit.status_code == 200
    assert 'value="【臨時号】本会合のご報告"' in edit.text
    assert "今号は**第8回本会合**の結果です。</textarea>" in edit.text
    assert "This issue covers **Plenary 8**.</textarea>" in edit.text


@pytest.mark.parametrize(
    ("field", "given", "named"),
    [
        ("lead_ja", {"lead_ja": "草彅さんのご挨拶"}, "彅 (U+5F45) in the Japanese lead"),
        ("subject_en", {"subject_en": "Café news"}, "é (U+00E9) in the English subject"),
    ],
)
def test_a_text_iso_2022_jp_cannot_carry_is_refused_at_its_field(
    console: Console, field: str, given: dict[str, str], named: str
) -> None:
    with logged_in(console, StaffRole.STAFF) as staff:
        staff.get("/admin/")
        before = snapshot(console.db)
        refused = post(staff, "/admin/issues/new", form(charset="iso-2022-jp", **given))
    assert refused.status_code == 400
    assert named in field_error(refused.text, field)
    assert 'class="error-summary"' in refused.text
    assert f'href="#{field}"' in refused.text
    assert next(iter(given.values())) in refused.text  # the input is kept
    assert unchanged(console.db, before)


def test_edit_changes_a_draft_and_withdraws_its_approval(console: Console) -> None:
    compose_directly(console.db)
    with console.db.session() as session:
        approval.record_approval(
            session, 1, "staff:approver@example.jp", policy=ApprovalPolicy.TWO_PERSON, now=utcnow()
        )
    with logged_in(console, StaffRole.STAFF) as staff:
        page = staff.get("/admin/issues/1/edit")
        fields = form(subject_en="Plenary news", lead_en="Hello.", promotion=["tabireg"])
        saved = post(staff, "/admin/issues/1/edit", fields)
    assert page.status_code == 200
    assert "staff:approver@example.jp" in page.text
    assert "保存すると決裁は取り消され" in page.text
    assert (saved.status_code, saved.headers["location"]) == (303, "/admin/issues/1?done=edited")
    with console.db.session() as session:
        issue = get_issue(session, 1)
        assert (issue.subject_en, issue.lead_en, issue.approved_by) == ("Plenary news", "Hello.", None)
        assert (
            issue.subject_ja == "【海外安全メールマガジン 第1号】第8回本会合の開催結果"
        )  # untouched: derived
    assert sections(console.db, 1) == ["plenary:8", "promotion:tabireg"]
    assert [e.ip for e in events(console.db, "issue.revoke") + events(console.db, "issue.edit")] == [
        "127.0.0.1"
    ] * 2


def test_what_is_not_a_draft_cannot_be_edited_or_deleted(console: Console) -> None:
    compose_directly(console.db)
    with console.db.session() as session:
        states.schedule(get_issue(session, 1), at=utcnow())
    with logged_in(console, StaffRole.STAFF) as staff:
        before = snapshot(console.db)
        page = staff.get("/admin/issues/1/edit")
        saved = post(staff, "/admin/issues/1/edit", form())
        deleted = post(staff, "/en/admin/issues/1/delete", {"confirm": "yes"})
        missing = staff.get("/admin/issues/9/edit")
    assert page.status_code == saved.status_code == deleted.status_code == 409
    assert "この号は現在「配信予約」です。編集や削除ができるのは下書きだけです。" in page.text
    assert "Only a draft can be edited or deleted." in deleted.text
    assert missing.status_code == 404
    assert unchanged(console.db, before)


def test_deleting_the_newest_draft_frees_its_number(console: Console) -> None:
    compose_directly(console.db, "plenary:7")
    compose_directly(console.db, "plenary:8")
    with logged_in(console, StaffRole.STAFF) as staff:
        page = staff.get("/admin/issues/2/edit")
        before = snapshot(console.db)
        unconfirmed = post(staff, "/admin/issues/2/delete", {})
        assert unchanged(console.db, before)
        deleted = post(staff, "/admin/issues/2/delete", {"confirm": "yes"})
        again = post(staff, "/admin/issues/new", form(meeting=["secretariat:5"]))
    assert "削除すると第2号の番号は次に起案する号が使います" in page.text
    assert unconfirmed.status_code == 400
    assert "削除する場合は、確認のチェックを入れてください。" in field_error(unconfirmed.text, "confirm")
    assert (deleted.status_code, deleted.headers["location"]) == (303, "/admin/?deleted=2")
    assert again.headers["location"] == "/admin/issues/2?done=composed"
    assert sections(console.db, 2)[0] == "secretariat:5"
    (event,) = events(console.db, "issue.delete")
    assert (event.actor, event.target, event.ip) == ("staff:staff@example.jp", "issue No. 2", "127.0.0.1")
    assert "the next issue composed is No. 2 again" in (event.detail or "")


@pytest.mark.parametrize("role", [StaffRole.APPROVER, StaffRole.ORG_EDITOR])
def test_approvers_and_org_editors_may_not_compose(console: Console, role: StaffRole) -> None:
    compose_directly(console.db)
    with logged_in(console, role) as client:
        token = csrf_in(client.get("/admin/login", follow_redirects=True).text)
        before = snapshot(console.db)
        answers = [
            client.get("/admin/issues/new"),
            client.post("/admin/issues/new", data={"csrf_token": token, "meeting": "plenary:8"}),
            client.get("/admin/issues/1/edit"),
            client.post("/admin/issues/1/delete", data={"csrf_token": token, "confirm": "yes"}),
        ]
    assert [answer.status_code for answer in answers] == [403] * 4
    assert unchanged(console.db, before)
    assert get_status(console.db) == IssueStatus.DRAFT


def get_status(db: Database) -> IssueStatus:
    with db.session() as session:
        return get_issue(session, 1).status
