"""The safety alerts in headless Chromium (Debian's), in Japanese and in English: a staff member opens the
list from the top bar, sees the levels in the ministry's colours and the failed poll's warning, filters by
type with the plain form (no script), and opens an entry in full and the alert issue that carries it.
The Japanese run on SQLite saves docs/screenshots/console-alerts.png and console-alert.png.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Browser, expect

from outreach.alerts.models import AlertAction, AlertState
from outreach.config import Settings
from outreach.db import Database
from outreach.models import utcnow
from outreach.staff.models import StaffRole
from tests.browser import ConsoleRun, log_in, needs_chromium
from tests.console_support import PASSWORD, USERS, add_user, served
from tests.test_console_alerts import ALERT_NUMBER, Entry, add_entry, add_poll, three_entries

pytestmark = needs_chromium
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
WORDS = {
    "ja": {
        "nav": "安全情報",
        "failed": "直近のフィードの取得に失敗しました。",
        "level": "レベル3",
        "wording": "渡航は止めてください。（渡航中止勧告）",
        "filter": "絞り込む",
        "type": "広域情報（C50）",
        "details": "詳細",
        "issue": f"速報 第{ALERT_NUMBER}号",
        "alert": "速報",
    },
    "en": {
        "nav": "Safety alerts",
        "failed": "The last poll of the feed failed.",
        "level": "Level 3",
        "wording": "Avoid all travel (advisory against travel).",
        "filter": "Filter",
        "type": "Wide-area information (C50)",
        "details": "Details",
        "issue": f"Alert No. {ALERT_NUMBER}",
        "alert": "Alert",
    },
}


def _more_entries(db: Database) -> None:
    """More for the screenshot: each level's colour, an infection level, a recorded embassy message."""
    now = utcnow()
    add_entry(
        db,
        Entry(
            "K-MM",
            "ミャンマーの危険情報【危険レベル引き上げ】",
            published=now - timedelta(minutes=30),
            places=(("10", "0095", "ミャンマー"),),
            risk_levels=(1, 2, 3, 4),
            change="raised",
        ),
    )
    add_entry(
        db,
        Entry(
            "K-INF",
            "感染症危険情報【レベル引き下げ】",
            info_type="T41",
            published=now - timedelta(minutes=50),
            infection_levels=(1,),
            change="lowered",
            rule="infection-lowered",
            action=AlertAction.DIGEST,
        ),
    )
    add_entry(
        db,
        Entry(
            "K-R10",
            "在タイ日本国大使館からのお知らせ",
            info_type="R10",
            published=now - timedelta(days=2),
            rule="embassy-general",
            action=AlertAction.DIGEST,
            state=AlertState.RECORDED,
            note="too old when it arrived",
        ),
    )


def test_staff_follow_the_alerts_from_the_list_to_an_entry_and_its_issue(
    browser: Browser, seeded_db: Database, settings: Settings, console_run: ConsoleRun
) -> None:
    words = WORDS[console_run.language]
    add_user(seeded_db, StaffRole.STAFF)
    wide, raised, _ = three_entries(seeded_db)
    _more_entries(seeded_db)
    add_poll(seeded_db, ago=timedelta(minutes=12), result="ok", detail="5 entries, 2 new (now 1, digest 1)")
    add_poll(seeded_db, ago=timedelta(minutes=7), result="unchanged", status=304)
    add_poll(seeded_db, ago=timedelta(minutes=2), result="error", status=503, detail="HTTP 503 from the feed")
    errors: list[str] = []
    with served(seeded_db, settings) as console:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(f"{console.url}{console_run.base}/login")
        log_in(page, email=USERS[StaffRole.STAFF], password=PASSWORD)
        page.wait_for_url(f"**{console_run.base}/")
        page.get_by_role("link", name=words["nav"], exact=True).click()

        expect(page.locator("h1")).to_have_text(words["nav"])
        expect(page.locator("#poll-warning")).to_contain_text(words["failed"])
        badge = page.locator(f"#alert-{raised} .level-3")
        expect(badge).to_have_text(words["level"])
        colour = badge.evaluate("element => getComputedStyle(element).backgroundColor")
        assert colour == "rgb(255, 140, 26)"  # level 3: the map's deep orange
        red = page.locator(".level-4").first.evaluate("element => getComputedStyle(element).backgroundColor")
        assert red == "rgb(230, 0, 18)"
        expect(page.locator("#rule-risk-raised")).to_be_visible()
        if console_run.keep:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "console-alerts.png"), full_page=True)

        expect(page.locator("#type option[value=C50]")).to_have_text(words["type"])
        page.select_option("#type", "C50")
        page.get_by_role("button", name=words["filter"], exact=True).click()
        page.wait_for_url("**/alerts?state=&type=C50")
        rows = page.locator(".alerts-table tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_attribute("id", f"alert-{wide}")

        page.goto(f"{console.url}{console_run.base}/alerts")
        page.locator(f"#alert-{raised}").get_by_role("link", name=words["details"]).click()
        expect(page.locator(".summary")).to_contain_text(words["wording"])
        if console_run.keep:
            page.screenshot(path=str(SCREENSHOTS / "console-alert.png"), full_page=True)
        page.get_by_role("link", name=words["issue"]).click()
        page.wait_for_url(f"**/issues/{ALERT_NUMBER}")
        expect(page.locator("h1 .kind-alert")).to_have_text(words["alert"])
        expect(page.locator(f"#alert-{raised}")).to_be_visible()
        page.close()
    assert [error for error in errors if "Refused" in error or "Security Policy" in error] == []  # no script
