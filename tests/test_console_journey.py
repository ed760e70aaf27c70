"""A whole issue through the staff console in headless Chromium (Debian's), in Japanese and in English:
staff record a meeting's outcome, compose an issue from it, preview two organizations side by side and
test-send them (the real SMTP server receives the tests); the composer cannot approve, an approver does;
staff send it, the progress page reaches "sent" by refreshing itself, the log is filtered to one
organization and exported as CSV.
The Japanese run on SQLite saves the screenshots the README shows (docs/screenshots/console-*.png).
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from outreach.config import Settings, SmtpRelay
from outreach.db import Database
from outreach.issues import get_issue
from outreach.models import Delivery, DeliveryStatus, IssueStatus
from outreach.staff.models import StaffRole
from outreach.staff.settings import ApprovalPolicy, StaffSettings
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.web import create_app
from tests.browser import OPTIONS, ConsoleRun, add_staff, as_user, needs_chromium, resident_worker
from tests.smtp_server import SmtpServer
from tests.web_server import WebServer

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
STAFF = "kaigai.taro@example.jp"
APPROVER = "kessai.hanako@example.jp"
READERS = {"reader0@example.jp": "jetro", "reader1@example.jp": "jcci", "reader2@example.jp": None}
WORDS = {
    "ja": {
        "added": "会合結果を追加しました。",
        "compose": "起案する",
        "composed": "号を起案しました。",
        "show": "表示する",
        "test": "テスト配信する",
        "approve": "決裁する",
        "approved": "決裁しました。",
        "send_now": "今すぐ配信する",
        "start": "配信を開始する",
        "sent": "配信済み",
        "filter": "絞り込む",
        "state_sent": "送信済み",
        "log_out": "ログアウト",
    },
    "en": {
        "added": "The meeting outcome has been added.",
        "compose": "Compose",
        "composed": "The issue is composed.",
        "show": "Show",
        "test": "Send the test",
        "approve": "Approve",
        "approved": "Approved.",
        "send_now": "Send now",
        "start": "Start the send",
        "sent": "Sent",
        "filter": "Filter",
        "state_sent": "Sent",
        "log_out": "Log out",
    },
}

pytestmark = needs_chromium


def _setting(db: Database) -> dict[str, tuple[str, str]]:
    """Three companies (JETRO's, JCCI's, one on its own), a staff user and an approver; the two
    organizations' names in Japanese and English."""
    names = {}
    with db.session() as session:
        for email, slug in READERS.items():
            organization = organization_or_none(session, slug) if slug else None
            add_subscriber(session, email, organization=organization)
            if organization is not None:
                names[organization.slug] = (organization.name_ja, organization.name_en)
    add_staff(db, STAFF, StaffRole.STAFF, name="海外 太郎")
    add_staff(db, APPROVER, StaffRole.APPROVER, name="決裁 花子")
    return names


def _log_out(page: Page, words: dict[str, str]) -> None:
    page.click(f".logout button:has-text('{words['log_out']}')")


def _record_meeting(page: Page, console: str, words: dict[str, str]) -> None:
    page.goto(f"{console}/meetings/new")
    page.select_option("#kind", "plenary")
    page.fill("#number", "9")
    page.fill("#held_on", "2026-11-20")
    page.fill("#summary_ja", "**第9回本会合**をオンラインで開催し、各団体の安全対策の取組を共有しました。")
    page.fill("#summary_en", "The **9th plenary** met online and shared the members' safety measures.")
    page.click("main form button[value=save]")
    expect(page.locator(".notice")).to_contain_text(words["added"])


def _compose(page: Page, console: str, words: dict[str, str], keep: bool) -> None:
    page.goto(f"{console}/issues/new")
    page.check("input[name=meeting][value='plenary:9']")
    page.fill("#lead_ja", "年末年始に海外へ渡航される皆様へ、最新の安全情報をお届けします。")
    page.fill(
        "#lead_en", "Before travelling abroad over the year-end holidays, read the latest safety information."
    )
    if keep:
        page.screenshot(path=str(SCREENSHOTS / "console-compose.png"), full_page=True)
    page.click(f"#compose-form button:has-text('{words['compose']}')")
    expect(page.locator(".notice")).to_contain_text(words["composed"])
    assert page.url.endswith("/issues/1?done=composed")


def _preview_and_test(
    page: Page, console: str, words: dict[str, str], names: dict[str, tuple[str, str]], keep: bool
) -> None:
    page.goto(f"{console}/issues/1/preview")
    page.select_option("#left", "jetro")
    page.select_option("#left_lang", "ja")
    page.select_option("#right", "jcci")
    page.select_option("#right_lang", "en")
    page.click(f"form.choose button:has-text('{words['show']}')")
    frames = page.locator("iframe")
    expect(frames).to_have_count(2)
    expect(page.frame_locator("iframe").nth(0).locator("body")).to_contain_text(names["jetro"][0])
    expect(page.frame_locator("iframe").nth(1).locator("body")).to_contain_text(names["jcci"][1])
    expect(page.frame_locator("iframe").nth(1).locator("body")).to_contain_text("9th plenary")
    if keep:
        page.screenshot(path=str(SCREENSHOTS / "console-preview.png"), full_page=True)
    expect(page.locator("#to")).to_have_value(STAFF)
    button = page.locator(f"#test button:has-text('{words['test']}')")
    button.scroll_into_view_if_needed()  # the frames above finish their layout first
    button.click()
    replies = page.locator(".notice tbody tr")
    expect(replies).to_have_count(2)
    expect(replies.nth(0)).to_contain_text("250")
    expect(replies.nth(1)).to_contain_text("250")


def _approve(page: Page, console: str, words: dict[str, str]) -> None:
    page.goto(f"{console}/issues/1")
    page.click(f"#approval button:has-text('{words['approve']}')")
    expect(page.locator(".notice")).to_have_text(words["approved"])


def _send_and_watch(
    page: Page, console: str, words: dict[str, str], db: Database, settings: Settings, keep: bool
) -> None:
    page.goto(f"{console}/issues/1")
    page.click(f"#sending button:has-text('{words['send_now']}')")
    expect(page.locator("tfoot td")).to_have_text("3")
    with resident_worker(db, settings):
        page.click(f"form.confirm button:has-text('{words['start']}')")
        page.goto(f"{console}/issues/1/progress")
        # The page refreshes itself every 5 s while the issue is sending; the worker settles it as sent.
        expect(page.locator("h1 .state")).to_have_text(words["sent"], timeout=90_000)
    expect(page.locator("#send-progress")).to_have_attribute("value", "3")
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    if keep:
        page.screenshot(path=str(SCREENSHOTS / "console-progress.png"), full_page=True)


def _filter_and_export(page: Page, console: str, words: dict[str, str], keep: bool) -> list[list[str]]:
    page.goto(f"{console}/issues/1/log")
    expect(page.locator("tbody tr")).to_have_count(3)
    page.select_option("#organization", "jetro")
    page.click(f"form.log-filter button:has-text('{words['filter']}')")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text("reader0@example.jp")
    expect(rows.nth(0)).to_contain_text(words["state_sent"])
    expect(rows.nth(0)).to_contain_text("250")
    if keep:
        page.screenshot(path=str(SCREENSHOTS / "console-log.png"), full_page=True)
    with page.expect_download() as download:
        page.click("a[href*='log.csv']")
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_an_issue_from_a_new_meeting_to_the_exported_log(
    browser: Browser,
    seeded_db: Database,
    settings: Settings,
    smtp_server: SmtpServer,
    console_run: ConsoleRun,
) -> None:
    words = WORDS[console_run.language]
    names = _setting(seeded_db)
    with WebServer() as web:
        relay = SmtpRelay.from_url(smtp_server.url)
        # Development: a test send may go to the local relay with the tests' key and an http base URL.
        site_settings = replace(settings, smtp=relay, base_url=web.url, development=True)
        two_person = StaffSettings(approval=ApprovalPolicy.TWO_PERSON)
        web.serve(create_app(site_settings, options=OPTIONS, staff=two_person))
        console = f"{web.url}{console_run.base}"
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="ja-JP")

        as_user(page, console, STAFF)
        _record_meeting(page, console, words)
        _compose(page, console, words, console_run.keep)
        _preview_and_test(page, console, words, names, console_run.keep)
        tests = smtp_server.handler.to(STAFF)
        assert len(tests) == 2
        subjects = sorted(str(copy.parsed()["Subject"]) for copy in tests)  # JCCI's in English, JETRO's
        assert subjects[0].startswith("[TEST] [SME Overseas Safety Network Newsletter No. 1]")
        assert subjects[1].startswith("【テスト】【海外安全メールマガジン 第1号】")
        page.goto(f"{console}/issues/1")
        expect(page.locator("#approval button")).to_have_count(0)  # the composer cannot approve
        _log_out(page, words)

        as_user(page, console, APPROVER)
        _approve(page, console, words)
        _log_out(page, words)

        as_user(page, console, STAFF)
        _send_and_watch(page, console, words, seeded_db, site_settings, console_run.keep)
        exported = _filter_and_export(page, console, words, console_run.keep)
        page.close()

    assert [row[0] for row in exported[1:]] == ["reader0@example.jp"]
    assert len(exported[0]) == len(exported[1])
    copies = smtp_server.handler.copies()
    assert copies == {STAFF: 2, **dict.fromkeys(READERS, 1)}
    with seeded_db.session() as session:
        issue = get_issue(session, 1)
        assert issue.status == IssueStatus.SENT
        assert issue.composed_by == f"staff:{STAFF}"
        assert issue.approved_by == f"staff:{APPROVER}"
        assert issue.lead_en.startswith("Before travelling abroad")
        states = session.scalars(select(Delivery.status).where(Delivery.issue_id == issue.id)).all()
    assert sorted(states) == [DeliveryStatus.SENT] * 3
