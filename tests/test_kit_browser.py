"""The forward kit in headless Chromium (Debian's), in Japanese and in English, on both databases: JETRO's
org-editor downloads issue No. 1 as .eml, which parses with the standard library and holds no personal link,
then reports forwarding it to 120 companies and sees the figure on the page."""

from __future__ import annotations

import email
import email.policy
from datetime import date
from pathlib import Path

from playwright.sync_api import Browser, expect

from outreach.config import Settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue
from outreach.models import IssueStatus
from outreach.staff.models import StaffRole
from tests.browser import ConsoleRun, log_in, needs_chromium
from tests.console_support import PASSWORD, USERS, add_user, served
from tests.test_forward_kit import PERSONAL

pytestmark = needs_chromium
WORDS = {
    "ja": {
        "report": "企業数を報告する",
        "recorded": "第1号を転送した企業の数を記録しました。",
        "figure": "120社に転送",
        "downloads": "これまでのダウンロード：1回",
    },
    "en": {
        "report": "Report the number",
        "recorded": "Your report for issue No. 1 is recorded.",
        "figure": "Forwarded to 120 companies",
        "downloads": "Downloads so far: 1 ",
    },
}


def test_an_org_editor_downloads_the_eml_and_reports_its_forwarding(
    browser: Browser, seeded_db: Database, settings: Settings, console_run: ConsoleRun
) -> None:
    words = WORDS[console_run.language]
    email_address = add_user(seeded_db, StaffRole.ORG_EDITOR)
    with seeded_db.session() as session:
        sent = compose_issue(
            session, meetings=[find_meeting(session, MeetingKey("plenary", 7))], issue_date=date(2022, 12, 1)
        )
        sent.status = IssueStatus.SENT
    with served(seeded_db, settings) as console:
        page = browser.new_page(
            viewport={"width": 1200, "height": 900}, locale="ja-JP", accept_downloads=True
        )
        page.goto(f"{console.url}{console_run.base}/login")
        log_in(page, email=email_address, password=PASSWORD)
        page.wait_for_url(f"**{console_run.base}/organizations/jetro")
        page.goto(f"{console.url}{console_run.base}/organizations/jetro/kit")
        with page.expect_download() as download:
            page.click(f"a[href$='/kit/1/{console_run.language}.eml']")
        assert download.value.suggested_filename == f"issue-1-jetro-{console_run.language}.eml"
        data = Path(download.value.path()).read_bytes()
        page.fill("#companies-1", "120")
        page.fill(
            "#note-1",
            "会員企業向けメールで配信" if console_run.language == "ja" else "In our members' newsletter",
        )
        page.click(f"#issue-1 button:has-text('{words['report']}')")
        expect(page.locator(".notice")).to_contain_text(words["recorded"])
        expect(page.locator("#issue-1 .kit-reported")).to_contain_text(words["figure"])
        expect(page.locator("#issue-1 .kit-downloads")).to_contain_text(words["downloads"])
        page.close()
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert not message.defects
    assert message.get_content_type() == "multipart/alternative"
    bodies = [part.get_content() for part in message.iter_parts()]
    assert len(bodies) == 2
    for form in PERSONAL:
        assert all(form not in body for body in bodies), form
        assert form.encode() not in data
    assert message["List-Unsubscribe"] is None
    assert message["To"] is None
    assert (
        f"{console.settings.base_url}{'' if console_run.language == 'ja' else '/en'}/unsubscribe" in bodies[0]
    )
    assert USERS[StaffRole.ORG_EDITOR] == email_address
