"""The forward kit's pages over real HTTP (uvicorn, httpx, both databases): the list of sent issues, each
file as an attachment with no personal link (its download recorded and audited), the forwarding report that
replaces an earlier one, refusals at the field; another organization's kit and a draft's are 404s."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage

import httpx
import pytest
from sqlalchemy import select

from outreach.config import Settings
from outreach.db import Database
from outreach.members.models import ForwardReport, KitDownload, KitFormat
from outreach.staff.models import AuditEvent, StaffRole
from tests.conftest import snapshot
from tests.console_support import Console, add_user, served
from tests.test_console_http import csrf_in, logged_in, without
from tests.test_forward_kit import PERSONAL, kit_setting

KIT = "/admin/organizations/jetro/kit"


@pytest.fixture
def console(seeded_db: Database, settings: Settings) -> Iterator[Console]:
    """A user of each role (the org-editor is JETRO's); issue No. 1 sent, No. 2 a draft; JCCI's companies
    prefer ISO-2022-JP."""
    for role in StaffRole:
        add_user(seeded_db, role)
    kit_setting(seeded_db)
    with served(seeded_db, settings) as running:
        yield running


def _form_token(client: httpx.Client, page: str) -> str:
    return csrf_in(client.get(page).text)


def _parsed(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def test_the_kit_page_lists_the_sent_issues_with_their_files(console: Console) -> None:
    with logged_in(console, StaffRole.ORG_EDITOR) as client:
        page = client.get(KIT)
        english = client.get("/en" + KIT)
    assert page.status_code == english.status_code == 200
    assert 'id="issue-1"' in page.text
    assert 'id="issue-2"' not in page.text
    for name in ("ja.eml", "en.eml", "ja.html", "en.html", "ja.txt", "en.txt"):
        assert f'href="{KIT}/1/{name}"' in page.text
    assert "まだダウンロードされていません。" in page.text
    assert "Forward kit" in english.text
    assert "Not downloaded yet." in english.text
    assert f'action="/en{KIT}/1/forwarded"' in english.text


def test_each_file_is_an_attachment_without_personal_links_and_its_download_is_recorded(
    console: Console,
) -> None:
    with logged_in(console, StaffRole.ORG_EDITOR) as client:
        eml = client.get(f"{KIT}/1/ja.eml")
        html = client.get(f"/en{KIT}/1/en.html")
        text = client.get(f"{KIT}/1/ja.txt")
        page = client.get(KIT)
    assert (eml.status_code, html.status_code, text.status_code) == (200, 200, 200)
    assert eml.headers["content-disposition"] == 'attachment; filename="issue-1-jetro-ja.eml"'
    assert html.headers["content-disposition"] == 'attachment; filename="issue-1-jetro-en.html"'
    assert text.headers["content-disposition"] == 'attachment; filename="issue-1-jetro-ja.txt"'
    assert eml.headers["content-type"] == "message/rfc822"
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    message = _parsed(eml.content)
    assert message["Subject"].startswith("【海外安全メールマガジン 第1号】")
    assert message["To"] is None
    assert message["List-Unsubscribe"] is None
    bodies = "".join(part.get_content() for part in message.iter_parts()) + html.text + text.text
    for form in PERSONAL:
        assert form not in bodies, form
    assert f"{console.settings.base_url}/unsubscribe" in bodies
    assert "これまでのダウンロード：3回" in page.text
    with console.db.session() as session:
        rows = session.scalars(select(KitDownload).order_by(KitDownload.id)).all()
        assert [(row.format, row.language, row.downloaded_by) for row in rows] == [
            (KitFormat.EML, "ja", "jetro-editor@example.jp"),
            (KitFormat.HTML, "en", "jetro-editor@example.jp"),
            (KitFormat.TEXT, "ja", "jetro-editor@example.jp"),
        ]
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "kit.download")).all()
        assert [(event.actor, event.target, event.detail) for event in events] == [
            ("staff:jetro-editor@example.jp", "issue No. 1", "jetro: ja eml"),
            ("staff:jetro-editor@example.jp", "issue No. 1", "jetro: en html"),
            ("staff:jetro-editor@example.jp", "issue No. 1", "jetro: ja text"),
        ]


def test_a_head_request_downloads_nothing(console: Console) -> None:
    with logged_in(console, StaffRole.ORG_EDITOR) as client:
        before = without(snapshot(console.db), "staff_sessions")
        answer = client.head(f"{KIT}/1/ja.eml")
        assert without(snapshot(console.db), "staff_sessions") == before
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == 'attachment; filename="issue-1-jetro-ja.eml"'


def test_staff_get_any_organizations_kit_in_its_charset(console: Console) -> None:
    with logged_in(console, StaffRole.STAFF) as client:
        page = client.get("/admin/organizations/jcci/kit")
        eml = client.get("/admin/organizations/jcci/kit/1/ja.eml")
    assert page.status_code == eml.status_code == 200
    assert "日本商工会議所" in page.text
    charsets = {part.get_content_charset() for part in _parsed(eml.content).iter_parts()}
    assert charsets == {"iso-2022-jp"}


def test_a_forwarding_report_replaces_the_earlier_one(console: Console) -> None:
    with logged_in(console, StaffRole.ORG_EDITOR) as client:
        token = _form_token(client, KIT)
        first = client.post(
            f"{KIT}/1/forwarded", data={"csrf_token": token, "companies": "80", "note": "会報で"}
        )
        second = client.post(
            f"{KIT}/1/forwarded", data={"csrf_token": token, "companies": "１２０", "note": ""}
        )
        page = client.get(second.headers["location"])
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == f"{KIT}?done=reported&issue=1#issue-1"
    assert "第1号を転送した企業の数を記録しました。" in page.text
    assert "120社に転送" in page.text
    assert "会報で" not in page.text
    with console.db.session() as session:
        reports = session.scalars(select(ForwardReport)).all()
        assert [(report.companies, report.note, report.reported_by) for report in reports] == [
            (120, "", "jetro-editor@example.jp")
        ]
        details = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "kit.forwarded").order_by(AuditEvent.id)
        ).all()
        assert details == ["jetro: 80 companies (会報で)", "jetro: 120 companies"]


@pytest.mark.parametrize(
    ("companies", "note", "field", "message"),
    [
        ("abc", "", "companies-1", "転送した企業の数を、0以上の整数で入力してください。"),
        ("-5", "", "companies-1", "転送した企業の数を、0以上の整数で入力してください。"),
        ("", "", "companies-1", "転送した企業の数を、0以上の整数で入力してください。"),
        ("1000001", "", "companies-1", "転送した企業の数は1,000,000社以下で入力してください。"),
        ("12", "あ" * 501, "note-1", "メモは500文字以内で入力してください。"),
    ],
)
def test_bad_input_is_refused_at_its_field_and_changes_nothing(
    console: Console, companies: str, note: str, field: str, message: str
) -> None:
    with logged_in(console, StaffRole.ORG_EDITOR) as client:
        token = _form_token(client, KIT)
        before = without(snapshot(console.db), "staff_sessions")
        answer = client.post(
            f"{KIT}/1/forwarded", data={"csrf_token": token, "companies": companies, "note": note}
        )
        assert without(snapshot(console.db), "staff_sessions") == before
    assert answer.status_code == 400
    assert f'<a href="#{field}">第1号：{message}</a>' in answer.text  # the error summary
    assert f'<p class="field-error-text" id="{field}-error">{message}</p>' in answer.text
    assert f'value="{companies}"' in answer.text  # what was typed, kept


def test_another_organizations_kit_is_a_404_and_changes_nothing(console: Console) -> None:
    with logged_in(console, StaffRole.ORG_EDITOR) as client:
        token = _form_token(client, KIT)
        before = without(snapshot(console.db), "staff_sessions")
        for base in ("/admin", "/en/admin"):
            for slug in ("jcci", "no-such-org"):
                kit = f"{base}/organizations/{slug}/kit"
                assert client.get(kit).status_code == 404
                assert client.get(f"{kit}/1/ja.eml").status_code == 404
                for data in ({"companies": "5", "note": ""}, {"companies": "bad", "note": ""}):
                    answer = client.post(f"{kit}/1/forwarded", data={"csrf_token": token, **data})
                    assert answer.status_code == 404, (kit, data)
        assert without(snapshot(console.db), "staff_sessions") == before


def test_a_draft_or_unknown_issue_or_file_has_no_kit(console: Console) -> None:
    with logged_in(console, StaffRole.ORG_EDITOR) as client:
        token = _form_token(client, KIT)
        before = without(snapshot(console.db), "staff_sessions")
        for name in ("2/ja.eml", "99/ja.eml", "1/fr.eml", "1/ja.pdf", "1/ja", "1/forwarded", "0/ja.eml"):
            answer = client.get(f"{KIT}/{name}")
            assert answer.status_code == 404, name
            assert "ページが見つかりません" in answer.text
        for number in ("2", "99", "2147483648"):
            for data in ({"companies": "5", "note": ""}, {"companies": "bad", "note": ""}):
                answer = client.post(f"{KIT}/{number}/forwarded", data={"csrf_token": token, **data})
                assert answer.status_code == 404, (number, data)
        assert without(snapshot(console.db), "staff_sessions") == before


def test_an_approver_may_not_open_a_kit(console: Console) -> None:
    with logged_in(console, StaffRole.APPROVER) as client:
        assert client.get(KIT).status_code == 403
        assert client.get(f"{KIT}/1/ja.eml").status_code == 403


def test_a_kit_page_answers_on_a_server_of_its_own(seeded_db: Database, settings: Settings) -> None:
    """Without any issue that went out, the page says so."""
    add_user(seeded_db, StaffRole.ORG_EDITOR)
    with served(seeded_db, settings) as running, logged_in(running, StaffRole.ORG_EDITOR) as client:
        page = client.get(KIT)
    assert page.status_code == 200
    assert "まだ配信した号はありません。" in page.text
