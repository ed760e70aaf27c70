"""An org-editor sees its organization's reach page in headless Chromium (Debian's), in Japanese and in
English: the charts are drawn (the SVG is visible, with no script), the figures are those of the ledger, and
printing leaves the console's bars out. The Japanese run on SQLite saves docs/screenshots/console-reach.png.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from playwright.sync_api import Browser, expect

from outreach.config import Settings
from outreach.db import Database
from outreach.staff.models import StaffRole
from tests.browser import ConsoleRun, log_in, needs_chromium
from tests.console_support import PASSWORD, USERS, add_user, served
from tests.smtp_server import SmtpServer
from tests.test_console_reach import PEOPLE as FEW
from tests.test_console_reach import crowd, expected, play

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
WORDS = {
    "ja": {"title": "の到達状況", "chart": "号ごとの到達・不達・配信停止・純増", "issue": "第3号"},
    "en": {
        "title": "Reach of ",
        "chart": "Delivered, undelivered, unsubscribed and net growth",
        "issue": "Issue No. 3",
    },
}

# Enough companies that the charts say something: the scenario's people and a crowd in four organizations.
PEOPLE = FEW + crowd({"jetro": 48, "jcci": 30, "chuokai": 22, "smrj": 18, None: 12})

pytestmark = needs_chromium


def test_an_org_editor_sees_its_reach_page_with_charts(
    browser: Browser,
    seeded_db: Database,
    settings: Settings,
    smtp_server: SmtpServer,
    console_run: ConsoleRun,
) -> None:
    words = WORDS[console_run.language]
    add_user(seeded_db, StaffRole.ORG_EDITOR)
    with ThreadPoolExecutor(1) as pool:  # the worker runs its own event loop; Playwright's is running here
        pool.submit(play, seeded_db, settings, smtp_server, PEOPLE).result()
    errors: list[str] = []
    with served(seeded_db, settings) as console:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(f"{console.url}{console_run.base}/login")
        log_in(page, email=USERS[StaffRole.ORG_EDITOR], password=PASSWORD)
        page.wait_for_load_state()
        page.goto(f"{console.url}{console_run.base}/organizations/jetro/reach")

        expect(page.locator("h1")).to_contain_text(words["title"])
        for key in ("reach-issues", "reach-trend", "reach-compare"):
            chart = page.locator(f"svg#chart-{key}")
            expect(chart).to_be_visible()
            assert chart.bounding_box()["width"] > 300  # type: ignore[index]
        expect(page.locator("svg#chart-reach-issues > title")).to_contain_text(words["chart"])
        expect(page.get_by_role("img", name=words["chart"])).to_be_visible()
        third = page.locator("#issue-3 td")
        expect(third.nth(2)).to_have_text(f"{expected('jetro', 2, PEOPLE)['delivered']:,}")
        expect(page.locator("#issue-3 th")).to_contain_text(words["issue"])
        if console_run.keep:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "console-reach.png"), full_page=True)

        page.emulate_media(media="print")
        expect(page.locator(".topbar")).to_be_hidden()
        expect(page.locator("svg#chart-reach-trend")).to_be_visible()
        page.goto(f"{console.url}{console_run.base}/organizations/jetro/reach?print=1")
        expect(page.locator("svg#chart-reach-compare")).to_be_visible()
        expect(page.locator(".console-nav")).to_have_count(0)
        page.close()
    assert [error for error in errors if "Refused" in error or "Security Policy" in error] == []  # no script
