"""An organization's roster in headless Chromium (Debian's), in Japanese and in English: JETRO's org-editor
imports a roster with a bad line and sees that line in the page, corrects it and imports it, searches the
list, opens a subscriber and reads their consent record.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from outreach.config import Settings
from outreach.db import Database
from outreach.staff.models import StaffRole
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.web import create_app
from tests.browser import OPTIONS, ConsoleRun, add_staff, log_in, needs_chromium
from tests.console_support import PASSWORD
from tests.web_server import WebServer

EDITOR = "roster-editor@example.jp"
BAD = (
    "メールアドレス,会社名,氏名\r\n"
    "sato@example.jp,佐藤商事,佐藤 一郎\r\n"
    "suzuki(at)example.jp,鈴木物産,鈴木 花子\r\n"  # line 3: no @
)
WORDS = {
    "ja": {
        "line": "3行目",
        "import": "取り込む",
        "refused": "名簿を取り込めませんでした",
        "imported": "名簿を取り込みました（2行）",
        "search": "検索する",
        "imported_event": "名簿からの登録（団体が同意を確認）",
        "vouched": "団体が一人ひとりの同意を得ている",
    },
    "en": {
        "line": "Line 3",
        "import": "Import",
        "refused": "The roster could not be imported",
        "imported": "The roster is imported (2 rows)",
        "search": "Search",
        "imported_event": "Imported from a roster",
        "vouched": "The organization has each person's consent",
    },
}

pytestmark = needs_chromium


def _setting(db: Database) -> None:
    """JETRO's org-editor, one of JETRO's companies and one of JCCI's."""
    add_staff(db, EDITOR, StaffRole.ORG_EDITOR, name="名簿 担当", organization="jetro")
    with db.session() as session:
        add_subscriber(
            session,
            "kato@example.jp",
            company="加藤製作所",
            organization=organization_or_none(session, "jetro"),
        )
        add_subscriber(session, "jcci-only@example.jp", organization=organization_or_none(session, "jcci"))


def _import(page: Page, roster: str, path: Path, words: dict[str, str]) -> None:
    path.write_text(roster, encoding="utf-8")
    page.set_input_files("#roster", str(path))
    page.get_by_label(words["vouched"]).check()
    page.click(f"form.import-form button:has-text('{words['import']}')")


def test_an_editor_imports_a_roster_corrects_a_line_searches_and_reads_the_consent_record(
    browser: Browser, seeded_db: Database, settings: Settings, tmp_path: Path, console_run: ConsoleRun
) -> None:
    words = WORDS[console_run.language]
    _setting(seeded_db)
    with WebServer() as web:
        web.serve(create_app(replace(settings, base_url=web.url), options=OPTIONS))
        roster = f"{web.url}{console_run.base}/organizations/jetro/roster"
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        page.goto(f"{web.url}{console_run.base}/login")
        log_in(page, email=EDITOR, password=PASSWORD)
        page.wait_for_url(f"{web.url}{console_run.base}/organizations/jetro")

        page.goto(f"{roster}/import")
        _import(page, BAD, tmp_path / "roster.csv", words)
        expect(page.locator(".error-summary h2")).to_have_text(words["refused"])
        problems = page.locator(".problem-list li")
        expect(problems).to_have_count(1)
        expect(problems.nth(0)).to_contain_text(words["line"])
        expect(problems.nth(0).locator("code")).to_have_text("suzuki(at)example.jp,鈴木物産,鈴木 花子")

        _import(page, BAD.replace("suzuki(at)example.jp", "suzuki@example.jp"), tmp_path / "fixed.csv", words)
        expect(page.locator(".notice")).to_contain_text(words["imported"])
        expect(page.locator(".error-summary")).to_have_count(0)

        page.goto(roster)
        expect(page.locator("td.address")).to_have_count(3)  # kato, sato, suzuki; not JCCI's
        page.fill("#q", "鈴木")
        page.click(f"form.roster-filter button:has-text('{words['search']}')")
        rows = page.locator("td.address")
        expect(rows).to_have_count(1)
        expect(rows.nth(0)).to_have_text("suzuki@example.jp")

        rows.nth(0).locator("a").click()
        expect(page.locator("h1")).to_contain_text("suzuki@example.jp")
        record = page.locator(".consent-table tbody tr")
        expect(record).to_have_count(1)
        expect(record.nth(0)).to_contain_text(words["imported_event"])
        expect(record.nth(0)).to_contain_text("roster of jetro")
        page.close()
