"""The country picker of the preference page in headless Chromium (Debian's), in Japanese and in English: with
scripts, the filter box narrows the lists as one types; without scripts, the regions open as <details> and
names typed into the field are saved, a wrong one shown beside it. The Japanese run on SQLite saves
docs/screenshots/places-picker.png."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from playwright.sync_api import Browser, expect

from outreach.config import Settings
from outreach.db import Database
from subscribers.directory import add_subscriber
from subscribers.links import SignedLinks
from subscribers.places import places_of
from subscribers.web import create_app
from tests.browser import OPTIONS, ConsoleRun, needs_chromium
from tests.web_server import WebServer

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
WORDS = {
    "ja": {
        "asia": "アジア",
        "thailand": "タイ",
        "vietnam": "ベトナム",
        "typed": "ケニア、中東",
        "save": "保存する",
    },
    "en": {
        "asia": "Asia",
        "thailand": "Thailand",
        "vietnam": "Viet Nam",
        "typed": "Kenya, Middle East",
        "save": "Save",
    },
}

pytestmark = needs_chromium


def _member(db: Database, email: str) -> int:
    with db.session() as session:
        return add_subscriber(session, email, company="既存商事").id


def _tokens(db: Database, subscriber_id: int) -> list[str]:
    with db.session() as session:
        return [place.token for place in places_of(session, subscriber_id)]


def test_the_picker_filters_with_scripts_and_works_without(
    browser: Browser, seeded_db: Database, settings: Settings, console_run: ConsoleRun
) -> None:
    words = WORDS[console_run.language]
    scripted, plain = _member(seeded_db, "scripted@example.jp"), _member(seeded_db, "plain@example.jp")
    errors: list[str] = []
    with WebServer() as web:
        site = replace(settings, base_url=web.url)
        web.serve(create_app(site, options=OPTIONS))
        links = SignedLinks(site)

        # With scripts: a filter box; typing narrows the lists and opens the regions that match.
        page = browser.new_page(viewport={"width": 1024, "height": 900})
        page.on("pageerror", lambda error: errors.append(str(error)))  # the script failing
        page.on(  # or not loading (the favicon, which the site has none of, aside)
            "response",
            lambda answer: (
                errors.append(answer.url)
                if answer.status >= 400 and not answer.url.endswith("/favicon.ico")
                else None
            ),
        )
        page.goto(links.for_subscriber(scripted, console_run.language).preferences_url)
        asia = page.locator("details.region").first
        expect(asia).not_to_have_attribute("open", "")
        page.fill("#place-filter", words["vietnam"][:3])
        expect(asia).to_have_attribute("open", "")
        expect(page.get_by_label(words["vietnam"], exact=True)).to_be_visible()
        expect(page.get_by_label(words["thailand"], exact=True)).to_be_hidden()
        page.get_by_label(words["vietnam"], exact=True).check()
        page.locator("#place-filter").press("Enter")  # filters, does not send the form
        expect(page.locator("#place-filter")).to_be_visible()
        if console_run.keep:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.locator("fieldset#places").screenshot(path=str(SCREENSHOTS / "places-picker.png"))
        page.fill("#place-filter", "")
        expect(page.get_by_label(words["thailand"], exact=True)).to_be_visible()
        page.get_by_role("button", name=words["save"]).click()
        page.wait_for_load_state()
        page.close()

        # Without scripts: no filter box; a region opens as <details>, and typed names are read on the server.
        context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.goto(links.for_subscriber(plain, console_run.language).preferences_url)
        expect(page.locator("#place-filter")).to_have_count(0)
        page.locator("summary", has_text=words["asia"]).first.click()
        page.get_by_label(words["thailand"], exact=True).check()
        page.fill("#places_text", f"{words['typed']}、Narnia")
        page.get_by_role("button", name=words["save"]).click()
        page.wait_for_load_state()
        expect(page.locator("#places-error")).to_contain_text("Narnia")
        expect(page.locator("#places_text")).to_have_value(f"{words['typed']}、Narnia")
        expect(page.get_by_label(words["thailand"], exact=True)).to_be_checked()
        page.fill("#places_text", words["typed"])
        page.get_by_role("button", name=words["save"]).click()
        page.wait_for_load_state()  # saved: the page in the subscriber's own language (Japanese) again
        expect(page.locator('input[name="place"][value="10-0066"]')).to_be_checked()
        context.close()

    assert errors == []
    assert _tokens(seeded_db, scripted) == ["10-0084"]
    assert _tokens(seeded_db, plain) == ["10-0066", "50", "60-0254"]
