"""An org-editor's profile in headless Chromium (Debian's), in Japanese and in English: JETRO's editor logs
in, lands on JETRO's page, opens the profile, changes its contact line, sees it in the preview before saving,
saves; staff then compose the next issue and its preview page shows JETRO's rendition with the new contact.
The Japanese run on SQLite saves docs/screenshots/console-organization.png (the profile page and its preview).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from outreach.config import Settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue
from outreach.models import IssueStatus
from outreach.staff.models import StaffRole
from subscribers.web import create_app
from tests.browser import OPTIONS, ConsoleRun, add_staff, as_user, needs_chromium
from tests.web_server import WebServer

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
EDITOR = "jetro-editor@example.jp"
STAFF = "kaigai.taro@example.jp"
WORDS = {
    "ja": {
        "profile": "団体情報とプレビュー",
        "department": "海外ビジネスサポート課",
        "field": "#department_ja",
        "line": "本メールに関するお問い合わせ：海外ビジネスサポート課",
        "unsaved": "まだ保存していません",
        "preview": "プレビュー",
        "save": "保存する",
        "saved": "団体情報を保存しました。",
        "fallback": "日本貿易振興機構のウェブサイト",
        "log_out": "ログアウト",
    },
    "en": {
        "profile": "Profile and preview",
        "department": "Overseas Business Support Division",
        "field": "#department_en",
        "line": "Questions about this email: Overseas Business Support Division",
        "unsaved": "Nothing is saved yet",
        "preview": "Preview",
        "save": "Save",
        "saved": "The profile is saved.",
        "fallback": "Website of Japan External Trade Organization",
        "log_out": "Log out",
    },
}

pytestmark = needs_chromium


def _setting(db: Database) -> None:
    """JETRO's editor, a staff user, and issue No. 1 already sent."""
    for email, role, slug in ((EDITOR, StaffRole.ORG_EDITOR, "jetro"), (STAFF, StaffRole.STAFF, None)):
        add_staff(db, email, role, name=email.split("@")[0], organization=slug)
    with db.session() as session:
        first = compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 7))])
        first.status = IssueStatus.SENT


def _edit_contact(page: Page, console: str, words: dict[str, str], keep: bool) -> None:
    expect(page).to_have_url(f"{console}/organizations/jetro")  # an org-editor's home is their page
    page.click(f"a:has-text('{words['profile']}')")
    frame = page.frame_locator(".profile-preview iframe")
    expect(frame.locator("body")).to_contain_text(words["fallback"])  # nothing set yet
    page.fill(words["field"], words["department"])
    page.fill("#phone", "03-3582-5511")
    page.click(f".form-actions button:has-text('{words['preview']}')")
    expect(page.locator(".notice")).to_contain_text(words["unsaved"])
    expect(frame.locator("body")).to_contain_text(words["line"])
    expect(frame.locator("body")).not_to_contain_text(words["fallback"])
    if keep:  # the frame scrolled to the contact line, at the rendition's end
        page.hover(".profile-preview iframe")
        page.mouse.wheel(0, 20000)
        page.screenshot(path=str(SCREENSHOTS / "console-organization.png"), full_page=True)
    page.click(f".form-actions button:has-text('{words['save']}')")
    expect(page).to_have_url(f"{console}/organizations/jetro?done=saved")
    expect(page.locator(".notice")).to_contain_text(words["saved"])
    page.click(f".logout button:has-text('{words['log_out']}')")


def test_an_org_editor_changes_its_contact_and_the_next_issue_shows_it(
    browser: Browser, seeded_db: Database, settings: Settings, console_run: ConsoleRun
) -> None:
    words = WORDS[console_run.language]
    _setting(seeded_db)
    with WebServer() as web:
        web.serve(create_app(replace(settings, base_url=web.url), options=OPTIONS))
        console = f"{web.url}{console_run.base}"
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="ja-JP")

        as_user(page, console, EDITOR)
        _edit_contact(page, console, words, console_run.keep)

        with seeded_db.session() as session:  # the next issue, composed after the contact changed
            compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 8))])
        as_user(page, console, STAFF)
        page.goto(f"{console}/issues/2/preview?left=network&right=jetro&right_lang={console_run.language}")
        jetro = page.frame_locator("iframe").nth(1)
        expect(jetro.locator("body")).to_contain_text(words["line"])
        expect(jetro.locator("body")).to_contain_text("03-3582-5511")
        page.close()
