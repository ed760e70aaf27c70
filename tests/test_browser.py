"""End to end in headless Chromium against the served app, in Japanese and in English.

Fill the form, confirm with the link from the mail a real SMTP server received, change preferences, then send
an issue with the delivery engine and leave through the unsubscribe link in it.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from outreach.composer import senders
from outreach.config import Settings, SmtpRelay
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.digest import carried_before
from outreach.issues import compose_issue, get_issue, issue_topics
from outreach.models import Subscriber, SubscriberStatus, Topic, utcnow
from outreach.network import NETWORK_SLUG
from outreach.preview import sample_values
from outreach.render import Renderer
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases.approval import Acting
from outreach.usecases.sends import SendRun, send_now
from subscribers.consent import ConsentSource, Origin
from subscribers.directory import find_organization
from subscribers.lifecycle import Details, Preferences, confirm_subscription
from subscribers.links import SignedLinks
from subscribers.places import places_of
from subscribers.web import create_app
from tests.browser import OPTIONS, needs_chromium
from tests.smtp_server import SmtpServer
from tests.web_server import WebServer

URL = re.compile(r"https?://[^\s<>\"]+")

pytestmark = needs_chromium

WORDS = {
    "ja": {
        "check": "確認メールをお送りしました",
        "confirmed": "登録が完了しました",
        "preferences": "配信設定の変更",
        "saved": "配信設定を保存しました。",
        "unsubscribe": "配信を停止する",
        "unsubscribed": "配信を停止しました",
        "subject": "【要確認】海外安全メールマガジンの購読確認",
        "org": "日本商工会議所",
    },
    "en": {
        "check": "Please check your mail",
        "confirmed": "You are subscribed",
        "preferences": "Change your preferences",
        "saved": "Your preferences are saved.",
        "unsubscribe": "Unsubscribe",
        "unsubscribed": "You are unsubscribed",
        "subject": "[Action needed] Confirm your subscription to the SME Overseas Safety Network Newsletter",
        "org": "The Japan Chamber of Commerce and Industry",
    },
}


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def _link(message: EmailMessage, path_part: str) -> str:
    links = [str(url) for url in URL.findall(_text(message)) if path_part in url]
    assert links, f"no {path_part} link in: {_text(message)}"
    return links[0]


def _subscriber(db: Database, email: str) -> Subscriber:
    with db.session() as session:
        found = session.scalar(select(Subscriber).where(Subscriber.email == email))
        assert found is not None
        _ = found.organization, list(found.topics)
        return found


def _send_issue(db: Database, settings: Settings) -> tuple[int, set[Topic], SendRun]:
    with db.session() as session:
        issue = compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 8))])
        number = issue.number
    with db.session() as session:
        topics = issue_topics(get_issue(session, number))
    sending = send_now(
        db, settings, number, links=SignedLinks(settings), by=Acting("cli:tester", ApprovalPolicy.NONE)
    )
    # Playwright's sync API owns this thread's event loop: the engine gets a thread and a loop of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        run = pool.submit(asyncio.run, sending).result(timeout=120)
    return number, topics, run


def _seminars_only(db: Database, email: str) -> None:
    """Another reader, who chose seminars alone."""
    details = Details(email, preferences=Preferences(topics=frozenset({Topic.SEMINARS})))
    with db.session() as session:
        now = utcnow()
        confirm_subscription(session, details, Origin(ConsentSource.STAFF), signed_at=now, now=now)


@pytest.mark.parametrize("language", ["ja", "en"])
def test_subscribe_confirm_choose_and_leave_from_an_issue(
    browser: Browser, seeded_db: Database, settings: Settings, smtp_server: SmtpServer, language: str
) -> None:
    words = WORDS[language]
    prefix = "" if language == "ja" else "/en"
    address = f"browser-{language}@example.jp"
    with WebServer() as web:
        site_settings = replace(settings, smtp=SmtpRelay.from_url(smtp_server.url), base_url=web.url)
        web.serve(create_app(site_settings, options=OPTIONS))
        page = browser.new_page()

        # Subscribe with the form.
        page.goto(f"{web.url}{prefix}/")
        page.fill("#email", address)
        page.fill("#company", "株式会社ブラウザ精機")
        page.fill("#name", "画面 花子")
        page.select_option("#organization", "jetro")
        page.check(f"input[name=language][value={language}]")
        page.uncheck("input[name=topic][value=seminars]")
        page.fill("#places_text", "タイ")  # a name in either language, on either page
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text(words["check"])
        assert _subscriber(seeded_db, address).status == SubscriberStatus.PENDING

        # Confirm with the link in the mail.
        [received] = smtp_server.handler.to(address)
        confirmation = received.parsed()
        assert confirmation["Subject"] == words["subject"]
        page.goto(_link(confirmation, f"{prefix}/confirm/"))
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text(words["confirmed"])
        subscribed = _subscriber(seeded_db, address)
        assert subscribed.status == SubscriberStatus.ACTIVE
        assert sorted(row.topic for row in subscribed.topics) == [Topic.ALERTS, Topic.MEETINGS, Topic.TOOLS]
        with seeded_db.session() as session:
            assert [place.token for place in places_of(session, subscribed.id)] == ["10-0066"]

        # Change preferences: another organization, meeting outcomes only.
        page.click(f"text={words['preferences']}")
        page.select_option("#organization", "jcci")
        page.uncheck("input[name=topic][value=tools]")
        page.click("button[type=submit]")
        expect(page.locator(".notice")).to_have_text(words["saved"])
        chosen = _subscriber(seeded_db, address)
        assert chosen.organization is not None
        assert chosen.organization.slug == "jcci"
        assert sorted(row.topic for row in chosen.topics) == [Topic.ALERTS, Topic.MEETINGS]

        # An issue goes out; the link in it unsubscribes.
        _seminars_only(seeded_db, f"seminars-{language}@example.jp")
        _number, topics, run = _send_issue(seeded_db, site_settings)
        assert run.totals.get("sent", 0) >= 1
        [issue_mail] = [mail.parsed() for mail in smtp_server.handler.to(address)[1:]]
        assert words["org"] in _text(issue_mail)
        header = str(issue_mail["List-Unsubscribe"])
        unsubscribe_url = _link(issue_mail, f"{prefix}/unsubscribe/")
        assert f"<{unsubscribe_url}>" in header
        seminar_mails = smtp_server.handler.to(f"seminars-{language}@example.jp")
        assert len(seminar_mails) == (1 if Topic.SEMINARS in topics else 0)  # topic choices are honoured

        page.goto(unsubscribe_url)
        page.click(f"button:has-text('{words['unsubscribe']}')")
        expect(page.locator("h1")).to_have_text(words["unsubscribed"])
        assert _subscriber(seeded_db, address).status == SubscriberStatus.UNSUBSCRIBED
        page.close()


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_form_fits_a_phone_screen(
    browser: Browser, seeded_db: Database, settings: Settings, language: str, tmp_path: Path
) -> None:
    with WebServer() as web:
        web.serve(create_app(replace(settings, base_url=web.url), options=OPTIONS))
        page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
        page.goto(f"{web.url}{'' if language == 'ja' else '/en'}/")
        shot = tmp_path / f"form-phone-{language}.png"
        page.screenshot(path=str(shot), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        font_size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#email')).fontSize)")
        button_width = page.evaluate(
            "document.querySelector('button[type=submit]').getBoundingClientRect().width"
        )
        page.close()
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert overflow <= 0  # no sideways scrolling
    assert font_size >= 16  # phones do not zoom into the field
    assert button_width > 300  # a full-width button for a thumb


def _typical_issue(db: Database, settings: Settings, number: int) -> dict[str, str]:
    """Issue No. 2, after a sent No. 1: the network's rendition in each language, filled for a reader."""
    renderer = Renderer(sender=senders(settings))
    with db.session() as session:
        issue = get_issue(session, number)
        carried = carried_before(session, issue)
        network = find_organization(session, NETWORK_SLUG)
        return {
            language: renderer.render(issue, network, language, carried=carried).html.fill(
                sample_values(language, settings.base_url)
            )
            for language in ("ja", "en")
        }


@pytest.mark.parametrize("language", ["ja", "en"])
def test_a_typical_issue_is_under_2000_px_at_600_px_and_fits_a_phone(
    browser: Browser,
    seeded_db: Database,
    settings: Settings,
    second_issue: int,
    language: str,
    tmp_path: Path,
) -> None:
    path = tmp_path / f"issue-{language}.html"
    path.write_text(_typical_issue(seeded_db, settings, second_issue)[language], encoding="utf-8")
    sizes = {}
    for width in (600, 375):
        page = browser.new_page(viewport={"width": width, "height": 800})
        page.goto(path.as_uri())
        page.screenshot(path=str(tmp_path / f"issue-{language}-{width}.png"), full_page=True)
        sizes[width] = page.evaluate(
            "[document.body.scrollHeight, document.documentElement.scrollWidth - window.innerWidth]"
        )
        hidden = page.evaluate("getComputedStyle(document.querySelector('.preheader')).display")
        page.close()
        assert hidden == "none"
    print(f"\n{language}: {sizes[600][0]} px tall at 600 px, {sizes[375][0]} px at 375 px")
    assert sizes[600][0] < 2000
    assert sizes[375][1] <= 0  # no sideways scrolling on a phone
