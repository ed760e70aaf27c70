"""The staff console in headless Chromium (Debian's), in Japanese and in English: log in, see the issues on
the dashboard and the login in the audit log, log out; and the sign-off before a send (起案 → 決裁): the
composer cannot approve, an approver does, staff send, and a resident worker delivers to the real SMTP server.
The Japanese runs save the screenshots that the README shows (docs/screenshots/console-*.png).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path

from playwright.sync_api import Browser, expect

from outreach.config import Settings, SmtpRelay
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue, get_issue
from outreach.models import utcnow
from outreach.staff.models import StaffRole
from outreach.staff.settings import ApprovalPolicy, StaffSettings
from outreach.usecases import approval, drafts
from outreach.usecases.approval import Acting
from outreach.usecases.sends import send_now, start_send
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.links import SignedLinks
from subscribers.web import create_app
from tests.browser import OPTIONS, ConsoleRun, add_staff, as_user, log_in, needs_chromium, resident_worker
from tests.console_support import PASSWORD
from tests.smtp_server import SmtpServer
from tests.web_server import WebServer

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
UNCHECKED = Acting("scheduler", ApprovalPolicy.NONE)  # a send in a test's setting, without the sign-off
EMAIL = "kaigai.taro@example.jp"
WORDS = {
    "ja": {
        "login": "管理画面へのログイン",
        "dashboard": "ダッシュボード",
        "issue": "第3号",
        "draft": "下書き",
        "sending": "配信中",
        "sent": "配信済み",
        "audit": "操作記録",
        "logged_in": "ログイン成功",
        "failed": "ログインできませんでした",
        "logged_out": "ログアウトしました。",
        "log_out": "ログアウト",
        "role": "事務局スタッフ",
    },
    "en": {
        "login": "Log in to the console",
        "dashboard": "Dashboard",
        "issue": "Issue No. 3",
        "draft": "Draft",
        "sending": "Sending",
        "sent": "Sent",
        "audit": "Audit log",
        "logged_in": "Logged in",
        "failed": "You could not log in",
        "logged_out": "You have logged out.",
        "log_out": "Log out",
        "role": "Secretariat staff",
    },
}

pytestmark = needs_chromium


def _issues(db: Database, settings: Settings) -> None:
    """Three issues: No. 1 sent to three companies, No. 2 sending, No. 3 a draft."""
    with db.session() as session:
        for index, slug in enumerate(("jetro", "jcci", "chuokai")):
            organization = organization_or_none(session, slug)
            add_subscriber(session, f"reader{index}@example.jp", organization=organization)
        compose_issue(
            session, meetings=[find_meeting(session, MeetingKey("plenary", 6))], issue_date=date(2022, 3, 15)
        )
    sending = send_now(db, settings, 1, links=SignedLinks(settings), by=UNCHECKED)
    with ThreadPoolExecutor(max_workers=1) as pool:  # Playwright's sync API owns this thread's event loop
        pool.submit(asyncio.run, sending).result(timeout=120)
    with db.session() as session:
        compose_issue(
            session, meetings=[find_meeting(session, MeetingKey("plenary", 7))], issue_date=date(2022, 12, 1)
        )
        start_send(session, get_issue(session, 2), now=utcnow(), by=UNCHECKED)
        compose_issue(
            session, meetings=[find_meeting(session, MeetingKey("plenary", 8))], issue_date=date(2024, 2, 15)
        )
    add_staff(db, EMAIL, StaffRole.STAFF, name="海外 太郎")


def test_log_in_see_the_dashboard_and_the_audit_log_then_log_out(
    browser: Browser,
    seeded_db: Database,
    settings: Settings,
    smtp_server: SmtpServer,
    console_run: ConsoleRun,
) -> None:
    words = WORDS[console_run.language]
    with WebServer() as web:
        site_settings = replace(settings, smtp=SmtpRelay.from_url(smtp_server.url), base_url=web.url)
        _issues(seeded_db, site_settings)
        web.serve(create_app(site_settings, options=OPTIONS))
        page = browser.new_page(viewport={"width": 1200, "height": 760}, locale="ja-JP")

        # The dashboard asks for a login first, and comes back to it after.
        page.goto(f"{web.url}{console_run.base}/")
        expect(page.locator("h1")).to_have_text(words["login"])
        assert page.url.startswith(f"{web.url}{console_run.base}/login?next=")
        if console_run.keep:
            page.screenshot(path=str(SCREENSHOTS / "console-login.png"), full_page=True)

        log_in(page, email=EMAIL, password="not the password at all")
        expect(page.locator(".error-summary h2")).to_have_text(words["failed"])
        expect(page.locator("#email")).to_have_value(EMAIL)
        expect(page.locator("#password")).to_have_value("")
        log_in(page, email=EMAIL, password=PASSWORD)

        expect(page.locator("h1")).to_have_text(words["dashboard"])
        assert page.url == f"{web.url}{console_run.base}/"
        expect(page.locator(".who-name")).to_have_text("海外 太郎")
        expect(page.locator(".role")).to_have_text(words["role"])
        rows = page.locator("tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.nth(0).locator("td").nth(0)).to_have_text(words["issue"])
        expect(rows.nth(0).locator(".state")).to_have_text(words["draft"])
        expect(rows.nth(1).locator(".state")).to_have_text(words["sending"])
        expect(rows.nth(2).locator(".state")).to_have_text(words["sent"])
        expect(rows.nth(2).locator("td.figure")).to_have_text("3")
        if console_run.keep:
            page.screenshot(path=str(SCREENSHOTS / "console-dashboard.png"), full_page=True)

        # The audit log shows this login, the failed one before it, who added the user, and the two sends
        # of the setting (by the scheduler, without the sign-off).
        page.click(f".console-nav >> text={words['audit']}")
        expect(page.locator("h1")).to_have_text(words["audit"])
        first = page.locator("tbody tr").nth(0)
        expect(first).to_contain_text(f"staff:{EMAIL}")
        expect(first).to_contain_text(words["logged_in"])
        expect(first).to_contain_text("127.0.0.1")
        expect(page.locator("tbody tr")).to_have_count(5)
        page.fill("#actor", "cli:")
        page.click("form.filter button")
        expect(page.locator("tbody tr")).to_have_count(1)
        expect(page.locator("tbody tr")).to_contain_text("cli:root")

        # The language switch keeps the page; logging out ends the session.
        other = "/en/admin" if console_run.language == "ja" else "/admin"
        page.click("a.language")
        assert page.url == f"{web.url}{other}/audit?actor=cli%3A"
        page.click("a.language")
        page.click(f"button:has-text('{words['log_out']}')")
        expect(page.locator(".notice")).to_have_text(words["logged_out"])
        page.goto(f"{web.url}{console_run.base}/")
        expect(page.locator("h1")).to_have_text(words["login"])
        page.close()


def test_the_console_fits_a_phone_screen(browser: Browser, seeded_db: Database, settings: Settings) -> None:
    add_staff(seeded_db, EMAIL, StaffRole.ADMIN)
    with WebServer() as web:
        web.serve(create_app(replace(settings, base_url=web.url), options=OPTIONS))
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        page.goto(f"{web.url}/admin/login")
        log_in(page, email=EMAIL, password=PASSWORD)
        expect(page.locator("h1")).to_have_text("ダッシュボード")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        page.close()
    assert overflow <= 0


APPROVER = "kessai.hanako@example.jp"
SIGN_OFF = {
    "ja": {
        "approve": "決裁する",
        "approved": "決裁しました。",
        "wait": "まだ決裁されていません。決裁者に決裁を依頼してください。",
        "send_now": "今すぐ配信する",
        "confirm": "配信の確認",
        "start": "配信を開始する",
        "started": "配信を開始しました。配信ワーカーが順に送ります。",
        "sent": "配信済み",
    },
    "en": {
        "approve": "Approve",
        "approved": "Approved.",
        "wait": "It is not approved yet. Ask an approver to approve it.",
        "send_now": "Send now",
        "confirm": "Confirm the send",
        "start": "Start the send",
        "started": "The send has started. The delivery workers are sending it.",
        "sent": "Sent",
    },
}


def _sign_off_setting(db: Database) -> None:
    """Three companies (JETRO's, JCCI's, one on its own), a draft composed by a staff user, an approver."""
    add_staff(db, EMAIL, StaffRole.STAFF, name="海外 太郎")
    add_staff(db, APPROVER, StaffRole.APPROVER, name="決裁 花子")
    with db.session() as session:
        for index, slug in enumerate(("jetro", "jcci", None)):
            organization = organization_or_none(session, slug) if slug else None
            add_subscriber(session, f"reader{index}@example.jp", organization=organization)
        draft = drafts.NewDraft(meetings=["plenary:8"], issue_date=date(2024, 2, 15))
        approval.compose_as(session, draft, f"staff:{EMAIL}", now=utcnow())


def test_the_composer_cannot_approve_an_approver_does_and_staff_send(
    browser: Browser,
    seeded_db: Database,
    settings: Settings,
    smtp_server: SmtpServer,
    console_run: ConsoleRun,
) -> None:
    words = SIGN_OFF[console_run.language]
    _sign_off_setting(seeded_db)
    with WebServer() as web:
        site_settings = replace(settings, smtp=SmtpRelay.from_url(smtp_server.url), base_url=web.url)
        two_person = StaffSettings(approval=ApprovalPolicy.TWO_PERSON)
        web.serve(create_app(site_settings, options=OPTIONS, staff=two_person))
        console = f"{web.url}{console_run.base}"
        page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="ja-JP")

        # The staff user who composed it finds it from the dashboard, and cannot approve or send it.
        as_user(page, console, EMAIL)
        page.click("tbody tr >> nth=0 >> a")
        assert page.url == f"{console}/issues/1"
        expect(page.locator("#approval")).to_contain_text(words["wait"])
        expect(page.locator("#approval button")).to_have_count(0)
        expect(page.locator("#sending button")).to_have_count(0)
        page.click("button.secondary")  # log out

        # An approver approves it.
        as_user(page, console, APPROVER)
        page.goto(f"{console}/issues/1")
        page.click(f"#approval button:has-text('{words['approve']}')")
        expect(page.locator(".notice")).to_have_text(words["approved"])
        expect(page.locator("#approval")).to_contain_text(f"staff:{APPROVER}")
        page.click("button.secondary")

        # Staff send it, after the confirmation, and a resident worker delivers it.
        as_user(page, console, EMAIL)
        page.goto(f"{console}/issues/1")
        expect(page.locator("#sending")).to_contain_text(words["send_now"])
        if console_run.keep:
            page.screenshot(path=str(SCREENSHOTS / "console-issue.png"), full_page=True)
        page.click(f"#sending button:has-text('{words['send_now']}')")
        expect(page.locator("h1")).to_have_text(words["confirm"])
        expect(page.locator("tfoot td")).to_have_text("3")
        if console_run.keep:
            page.screenshot(path=str(SCREENSHOTS / "console-confirm.png"), full_page=True)
        with resident_worker(seeded_db, site_settings):
            page.click(f"form.confirm button:has-text('{words['start']}')")
            expect(page.locator(".notice")).to_have_text(words["started"])
            # The progress page refreshes itself while the issue is sending; the worker settles it as sent.
            page.goto(f"{console}/issues/1/progress")
            expect(page.locator("h1 .state")).to_have_text(words["sent"], timeout=90_000)
        page.close()
    assert smtp_server.handler.copies() == {f"reader{index}@example.jp": 1 for index in range(3)}
