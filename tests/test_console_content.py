"""The console's meeting pages over real HTTP (uvicorn, httpx, SQLite and PostgreSQL): a meeting added through
the form is listed, stored and audited with the browser's address, in both languages; an edit names the issues
that already carry the meeting; a bad date, a duplicate, a bad link or a text an unsent issue's charset cannot
carry is refused at its field with a 400 and changes nothing; the preview (button and /markdown) renders with
the mail's own Markdown renderer, escaping raw HTML, and saves nothing; an unknown meeting or promotion is a
404. The promotion pages: tests/test_console_promotions.py.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx
import pytest

from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.markdown import to_html
from outreach.staff import audit
from outreach.staff.models import StaffRole
from outreach.usecases.drafts import NewDraft, compose
from tests.conftest import snapshot
from tests.console_support import Console
from tests.test_console_http import csrf_in, logged_in, without

SUMMARY = "第9回本会合を開催しました。\n\n## 議題\n\n- 海外安全対策\n- **テロ対策**"
LINK = "https://www.anzen.mofa.go.jp/anzen_info/network.html"


def meeting_form(**fields: str) -> dict[str, str]:
    """A new meeting's form as a browser posts it: three link rows, the second and third left empty."""
    form = {
        "kind": "plenary",
        "number": "9",
        "held_on": "2026-11-20",
        "format": "hybrid",
        "opened_by_ja": "外務副大臣",
        "opened_by_en": "the Parliamentary Vice-Minister",
        "summary_ja": SUMMARY,
        "summary_en": "The 9th plenary was held.",
        "link_url_1": LINK,
        "link_title_ja_1": "開催結果",
        "link_title_en_1": "Outcome",
        "action": "save",
    }
    for row in (2, 3):
        form |= {f"link_url_{row}": "", f"link_title_ja_{row}": "", f"link_title_en_{row}": ""}
    return form | fields


def post(client: httpx.Client, path: str, data: dict[str, str]) -> httpx.Response:
    base = "/en/admin" if path.startswith("/en/") else "/admin"
    token = csrf_in(client.get(f"{base}/").text)
    return client.post(path, data={"csrf_token": token, **data})


def unchanged(db: Database, before: dict[str, list[tuple[Any, ...]]]) -> bool:
    """Every table as it was, but the session's idle clock, which an allowed request restarts."""
    return without(snapshot(db), "staff_sessions") == without(before, "staff_sessions")


def events(db: Database, prefix: str) -> list[audit.AuditEntry]:
    with db.session() as session:
        entries = audit.read_page(session, per_page=1000).entries
        return [entry for entry in entries if entry.action.startswith(prefix)]


def field_error(page: str, field: str) -> str:
    """The message shown at a field (its `field-error-text`), or "" when there is none."""
    found = re.search(rf'<p class="field-error-text" id="{field}-error">(.*?)</p>', page)
    return found.group(1) if found else ""


# Meetings


@pytest.mark.parametrize(
    ("base", "words"),
    [
        ("/admin", ("第9回本会合", "ハイブリッド", "会合結果を追加しました。")),
        ("/en/admin", ("Plenary No. 9", "hybrid", "The meeting outcome has been added.")),
    ],
)
def test_a_meeting_added_through_the_form_is_listed_stored_and_audited(
    console: Console, base: str, words: tuple[str, ...]
) -> None:
    with logged_in(console, StaffRole.STAFF) as staff:
        form = staff.get(f"{base}/meetings/new")
        added = post(staff, f"{base}/meetings/new", meeting_form())
        assert (added.status_code, added.headers["location"]) == (303, f"{base}/meetings?done=added")
        listing = staff.get(added.headers["location"])
    assert form.status_code == 200
    assert form.text.count('name="link_url_') == 3
    assert f'<script src="{base}/assets/markdown-preview.js" defer></script>' in form.text
    for word in words:
        assert word in listing.text, word
    assert f'href="{base}/meetings/plenary/9"' in listing.text
    assert f'href="{base}/promotions"' in listing.text
    # newest first: the 9th plenary (2026) before the 8th
    assert listing.text.index("/meetings/plenary/9") < listing.text.index("/meetings/plenary/8")
    with console.db.session() as session:
        meeting = find_meeting(session, MeetingKey("plenary", 9))
        stored = (meeting.held_on, meeting.format, meeting.summary_ja, meeting.summary_en, meeting.links)
    assert stored == (
        date(2026, 11, 20),
        "hybrid",
        SUMMARY,
        "The 9th plenary was held.",
        [{"title_ja": "開催結果", "title_en": "Outcome", "url": LINK}],
    )
    [event] = events(console.db, "meeting.")
    assert (event.actor, event.action, event.target, event.ip) == (
        "staff:staff@example.jp",
        "meeting.add",
        "meeting plenary:9",
        "127.0.0.1",
    )


def test_the_list_names_the_issues_that_carry_each_meeting(console: Console, second_issue: int) -> None:
    with logged_in(console, StaffRole.ADMIN) as admin:
        listing = admin.get("/admin/meetings")
    row = re.search(r'<tr>\s*<td class="nowrap">第8回本会合</td>.*?</tr>', listing.text, re.S)
    assert row is not None
    assert f'href="/admin/issues/{second_issue}"' in row.group(0)
    assert "下書き" in row.group(0)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"held_on": "2026-02-30"}, "held_on", "「開催日」は「2026-11-20」の形の日付で入力してください。"),
        ({"held_on": ""}, "held_on", "「開催日」を入力してください。"),
        ({"number": "8"}, "number", "同じ種類・同じ回の会合がすでに登録されています。"),
        ({"number": "x"}, "number", "回には1以上の整数を入力してください。"),
        ({"link_url_1": "ftp://example.jp/a"}, "link_url_1", "「リンク1のURL」には http:// か https://"),
        ({"link_url_2": "https://a.example.jp/"}, "link_title_ja_2", "「リンク2のタイトル（日本語）」を入力"),
        ({"summary_ja": "  "}, "summary_ja", "「要約（日本語）」を入力してください。"),
        ({"opened_by_ja": "長" * 201}, "opened_by_ja", "「開会者（日本語）」が長すぎます。"),
    ],
)
def test_a_bad_meeting_is_refused_at_its_field_and_nothing_changes(
    console: Console, fields: dict[str, str], field: str, message: str
) -> None:
    with logged_in(console, StaffRole.STAFF) as staff:
        before = snapshot(console.db)
        refused = post(staff, "/admin/meetings/new", meeting_form(**fields))
    assert refused.status_code == 400
    assert message in field_error(refused.text, field)
    assert f'<a href="#{field}">' in refused.text  # the error summary links to the field
    assert unchanged(console.db, before)
    typed = fields.get("held_on", "") or fields.get("number", "")
    assert f'value="{typed}"' in refused.text  # what was typed is kept


def test_a_bad_date_is_worded_in_english_on_the_english_page(console: Console) -> None:
    with logged_in(console, StaffRole.STAFF) as staff:
        refused = post(staff, "/en/admin/meetings/new", meeting_form(held_on="20.11.2026"))
    assert refused.status_code == 400
    assert field_error(refused.text, "held_on") == "Enter “Held on” as a date like 2026-11-20."


def test_editing_a_meeting_names_the_issue_it_went_out_in(console: Console, second_issue: int) -> None:
    page_url = "/admin/meetings/plenary/7"
    with logged_in(console, StaffRole.STAFF) as staff:
        form = staff.get(page_url)
        assert form.status_code == 200
        assert 'value="2022-' in form.text or "2022-" in form.text
        with console.db.session() as session:
            meeting = find_meeting(session, MeetingKey("plenary", 7))
            links = {f"link_url_{n}": link["url"] for n, link in enumerate(meeting.links, start=1)}
            links |= {f"link_title_ja_{n}": link["title_ja"] for n, link in enumerate(meeting.links, start=1)}
            held_on = meeting.held_on.isoformat()
        fields = {
            "held_on": held_on,
            "format": "online",
            "opened_by_ja": "",
            "opened_by_en": "",
            "summary_ja": "新しい要約です。",
            "summary_en": "",
            **links,
            "action": "save",
        }
        edited = post(staff, page_url, fields)
        assert (edited.status_code, edited.headers["location"]) == (303, f"{page_url}?done=edited")
        shown = staff.get(edited.headers["location"])
        english = staff.get(f"/en{page_url}?done=edited")
    assert "会合結果を保存しました。" in shown.text
    assert "第1号で配信済みです。受信者の手元には前の文面が残ります。" in shown.text
    assert "Issue No. 1 has been sent: its recipients keep the earlier text." in english.text
    with console.db.session() as session:
        meeting = find_meeting(session, MeetingKey("plenary", 7))
        assert (meeting.summary_ja, meeting.summary_en, meeting.format) == ("新しい要約です。",) * 2 + (
            "online",
        )
    [event] = events(console.db, "meeting.")
    assert (event.action, event.target, event.ip) == ("meeting.edit", "meeting plenary:7", "127.0.0.1")
    assert "summary_ja" in (event.detail or "")
    assert "format" in (event.detail or "")


def test_an_edit_an_unsent_issue_cannot_carry_is_refused_at_the_field(console: Console) -> None:
    with console.db.session() as session:
        number = compose(session, NewDraft(["plenary:8"], charset="iso-2022-jp")).issue.number
        meeting = find_meeting(session, MeetingKey("plenary", 8))
        held_on, links = meeting.held_on.isoformat(), list(meeting.links)
    fields = {
        "held_on": held_on,
        "format": "in_person",
        "summary_ja": "Café で会合を開きました。",
        "summary_en": "",
        "opened_by_ja": "",
        "opened_by_en": "",
        **{f"link_url_{n}": link["url"] for n, link in enumerate(links, start=1)},
        **{f"link_title_ja_{n}": link["title_ja"] for n, link in enumerate(links, start=1)},
    }
    with logged_in(console, StaffRole.STAFF) as staff:
        before = snapshot(console.db)
        refused = post(staff, "/admin/meetings/plenary/8", fields)
    assert refused.status_code == 400
    message = field_error(refused.text, "summary_ja")
    assert f"第{number}号" in message
    assert "é" in message
    assert "iso-2022-jp" in message
    assert unchanged(console.db, before)


def test_the_preview_button_renders_the_summaries_and_saves_nothing(console: Console) -> None:
    text = "## 議題\n\n- **テロ対策**\n\n<script>alert(1)</script>"
    with logged_in(console, StaffRole.STAFF) as staff:
        before = snapshot(console.db)
        new = post(staff, "/admin/meetings/new", meeting_form(summary_ja=text, action="preview"))
        edit = post(staff, "/admin/meetings/plenary/8", meeting_form(summary_ja=text, action="preview"))
    for page in (new, edit):
        assert page.status_code == 200
        assert "プレビューを表示しました。まだ保存していません。" in page.text
        assert to_html(text, top_heading=3) in page.text
        assert "<h3>議題</h3>" in page.text
        assert "<strong>テロ対策</strong>" in page.text
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert unchanged(console.db, before)


def test_markdown_returns_the_fragment_the_mail_would_carry(console: Console) -> None:
    text = "# 見出し\n\n[たびレジ](https://www.ezairyu.mofa.go.jp/tabireg/) <b>x</b> [x](javascript:alert(1))"
    with logged_in(console, StaffRole.STAFF) as staff:
        token = csrf_in(staff.get("/admin/meetings/new").text)
        before = snapshot(console.db)
        answer = staff.post("/admin/markdown", data={"csrf_token": token, "text": text, "language": "en"})
        script = staff.get("/admin/assets/markdown-preview.js")
    assert answer.status_code == 200
    assert answer.text == f'<div lang="en">{to_html(text, top_heading=3)}</div>'
    assert "<h3>見出し</h3>" in answer.text
    assert '<a href="https://www.ezairyu.mofa.go.jp/tabireg/">たびレジ</a>' in answer.text
    assert "&lt;b&gt;x&lt;/b&gt;" in answer.text
    assert 'href="javascript' not in answer.text
    assert unchanged(console.db, before)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("application/javascript")
    assert "data-preview" in script.text
    assert "fetch(" in script.text


@pytest.mark.parametrize("role", [StaffRole.APPROVER, StaffRole.ORG_EDITOR])
def test_roles_without_content_rights_get_a_403(console: Console, role: StaffRole) -> None:
    with logged_in(console, role) as client:
        for path in (
            "/admin/meetings",
            "/admin/meetings/new",
            "/admin/promotions",
            "/admin/promotions/tabireg",
        ):
            assert client.get(path).status_code == 403, path


@pytest.mark.parametrize(
    "path",
    [
        "/admin/meetings/plenary/99",
        "/admin/meetings/board/1",
        "/admin/meetings/plenary/0",
        "/admin/meetings/plenary/99999999999",
        "/admin/promotions/no-such-tool",
        "/admin/promotions/Bad_Slug",
    ],
)
def test_an_unknown_meeting_or_promotion_is_a_404(console: Console, path: str) -> None:
    with logged_in(console, StaffRole.STAFF) as staff:
        before = snapshot(console.db)
        shown = staff.get(path)
        posted = post(staff, path, {"held_on": "2026-11-20", "summary_ja": "要約", "action": "save"})
    assert shown.status_code == posted.status_code == 404
    assert "ページが見つかりません" in shown.text
    assert unchanged(console.db, before)


def test_a_long_summary_fits_the_form(console: Console) -> None:
    """A summary of 2,000 Japanese characters (18 KB as a browser encodes it) is saved."""
    long_summary = "海外安全対策の会合を開きました。" * 125
    with logged_in(console, StaffRole.STAFF) as staff:
        added = post(staff, "/admin/meetings/new", meeting_form(summary_ja=long_summary))
    assert added.status_code == 303, added.text[:500]
    with console.db.session() as session:
        assert find_meeting(session, MeetingKey("plenary", 9)).summary_ja == long_summary
