"""The console's promotion pages over real HTTP (uvicorn, httpx, SQLite and PostgreSQL): the list with each
promotion's window and whether an issue dated today carries it; a promotion added or edited (its slug stays)
with its window, audited with the browser's address; a bad slug, URL, window or position refused at its field
with a 400 and nothing changed; the preview button renders the bodies with the mail's renderer and saves
nothing. (The meeting pages, /markdown and the 404s: tests/test_console_content.py.)
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from outreach.content import find_promotion
from outreach.staff.models import StaffRole
from tests.conftest import snapshot
from tests.console_support import Console
from tests.test_console_content import events, field_error, post, unchanged
from tests.test_console_http import logged_in


def promotion_form(**fields: str) -> dict[str, str]:
    form = {
        "slug": "winter-safety",
        "title_ja": "冬の安全対策",
        "title_en": "Winter safety",
        "body_ja": "冬の**安全**対策です。",
        "body_en": "Stay *safe* in winter.",
        "url": "https://www.anzen.mofa.go.jp/winter.html",
        "starts_on": "2000-12-01",
        "ends_on": "2000-02-28",
        "yearly": "1",
        "position": "75",
        "action": "save",
    }
    return form | fields


def test_a_promotion_is_added_with_its_window_and_listed(console: Console) -> None:
    with logged_in(console, StaffRole.ADMIN) as admin:
        listing = admin.get("/admin/promotions")
        added = post(admin, "/admin/promotions/new", promotion_form())
        assert (added.status_code, added.headers["location"]) == (303, "/admin/promotions?done=added")
        after = admin.get(added.headers["location"])
        english = admin.get("/en/admin/promotions")
    assert listing.status_code == 200
    assert "たびレジ" in listing.text
    assert "毎年 7/1〜8/31" in listing.text  # the seeded summer-safety-month
    assert "安全対策ツールを追加しました。" in after.text
    assert "冬の安全対策" in after.text
    assert "毎年 12/1〜2/28" in after.text
    assert "Winter safety" in english.text
    assert "Every year, 12/1 to 2/28" in english.text
    with console.db.session() as session:
        promotion = find_promotion(session, "winter-safety")
        window = (promotion.starts_on, promotion.ends_on, promotion.yearly, promotion.position)
    assert window == (date(2000, 12, 1), date(2000, 2, 28), True, 75)
    [event] = events(console.db, "promotion.")
    assert (event.actor, event.action, event.target, event.ip) == (
        "staff:admin@example.jp",
        "promotion.add",
        "promotion winter-safety",
        "127.0.0.1",
    )


def test_the_list_says_which_promotions_an_issue_today_would_carry(console: Console) -> None:
    with logged_in(console, StaffRole.STAFF) as staff:
        post(
            staff,
            "/admin/promotions/new",
            promotion_form(slug="past", starts_on="2001-01-01", ends_on="2001-12-31", yearly=""),
        )
        listing = staff.get("/admin/promotions")
    past = re.search(r"<tr>(?:(?!</tr>).)*?past</span>.*?</tr>", listing.text, re.S)
    tabireg = re.search(r"<tr>(?:(?!</tr>).)*?tabireg</span>.*?</tr>", listing.text, re.S)
    assert past is not None
    assert tabireg is not None
    assert "掲載期間外" in past.group(0)
    assert "2001年" in past.group(0)
    assert "掲載中" in tabireg.group(0)
    assert "常時" in tabireg.group(0)


def test_a_promotion_is_edited_and_keeps_its_slug(console: Console) -> None:
    with logged_in(console, StaffRole.STAFF) as staff:
        form = staff.get("/admin/promotions/tabireg")
        edited = post(
            staff,
            "/admin/promotions/tabireg",
            promotion_form(slug="other", starts_on="2026-01-01", ends_on="2026-03-31", yearly=""),
        )
        assert (edited.status_code, edited.headers["location"]) == (
            303,
            "/admin/promotions/tabireg?done=edited",
        )
        shown = staff.get(edited.headers["location"])
    assert form.status_code == 200
    assert "たびレジ" in form.text
    assert 'name="slug"' not in form.text
    assert "安全対策ツールを保存しました。" in shown.text
    with console.db.session() as session:
        promotion = find_promotion(session, "tabireg")
        stored = (
            promotion.title_ja,
            promotion.starts_on,
            promotion.ends_on,
            promotion.yearly,
            promotion.position,
        )
    assert stored == ("冬の安全対策", date(2026, 1, 1), date(2026, 3, 31), False, 75)
    [event] = events(console.db, "promotion.")
    assert (event.action, event.target, event.ip) == ("promotion.edit", "promotion tabireg", "127.0.0.1")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"slug": "tabireg"}, "slug", "このスラッグはすでに使われています。"),
        ({"slug": "Winter Safety"}, "slug", "スラッグには半角の英小文字・数字・ハイフンを使い"),
        ({"slug": "new"}, "slug", "「new」はスラッグに使えません。"),
        ({"url": "http://www.anzen.mofa.go.jp/"}, "url", "URLは https:// で始まるもの"),
        (
            {"yearly": "", "ends_on": "2000-11-30"},
            "ends_on",
            "掲載終了日は掲載開始日と同じ日か、それより後に",
        ),
        ({"ends_on": ""}, "yearly", "毎年繰り返す場合は、掲載開始日と掲載終了日の両方を"),
        ({"starts_on": "12/1"}, "starts_on", "「掲載開始日」は「2026-11-20」の形の日付で"),
        ({"position": "-1"}, "position", "表示順には0から1000000までの整数を"),
        ({"body_ja": ""}, "body_ja", "「本文（日本語）」を入力してください。"),
    ],
)
def test_a_bad_promotion_is_refused_at_its_field_and_nothing_changes(
    console: Console, fields: dict[str, str], field: str, message: str
) -> None:
    with logged_in(console, StaffRole.STAFF) as staff:
        before = snapshot(console.db)
        refused = post(staff, "/admin/promotions/new", promotion_form(**fields))
    assert refused.status_code == 400
    assert message in field_error(refused.text, field)
    assert unchanged(console.db, before)


def test_the_promotion_preview_renders_the_bodies_and_saves_nothing(console: Console) -> None:
    with logged_in(console, StaffRole.STAFF) as staff:
        before = snapshot(console.db)
        page = post(
            staff,
            "/admin/promotions/tabireg",
            promotion_form(body_en="# Hello\n\n<i>x</i>", action="preview"),
        )
    assert page.status_code == 200
    assert "<h3>Hello</h3>" in page.text
    assert "&lt;i&gt;x&lt;/i&gt;" in page.text
    assert "冬の<strong>安全</strong>対策です。" in page.text
    assert unchanged(console.db, before)
