"""Renditions per (organization, language): greetings, inlined CSS, dates, overrides, personal holes."""

from __future__ import annotations

import html
import logging
import shutil
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import jinja2
import lxml.html
import pytest
from sqlalchemy import select

from outreach.composer import senders
from outreach.config import Settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.errors import InvalidInput
from outreach.i18n import load_catalog
from outreach.issues import compose_issue, get_issue
from outreach.models import Issue, Organization
from outreach.render import TEMPLATES_DIR, Renderer, Rendition
from outreach.stamp import PERSONAL_FIELDS

ISSUE_DATE = date(2024, 2, 15)
JETRO_LINE_JA = "JETRO 海外ビジネスの安全対策相談窓口もご利用ください。"
JETRO_LINE_EN = load_catalog(TEMPLATES_DIR, "en").gettext(JETRO_LINE_JA)
VALUES = {
    "salutation": "株式会社テスト 山田様",
    "email": "yamada@example.jp",
    "unsubscribe_url": "https://mailmag.example.jp/u/tok?x=1&y=2",
    "preferences_url": "https://mailmag.example.jp/p/tok",
}


@dataclass(frozen=True)
class Rendered:
    issue: Issue
    organizations: dict[str, Organization]
    renditions: dict[tuple[str, str], Rendition]


def _compose(database: Database) -> Issue:
    with database.session() as session:
        meeting = find_meeting(session, MeetingKey.parse("plenary:8"))
        number = compose_issue(session, meetings=[meeting], issue_date=ISSUE_DATE).number
    with database.session() as session:
        return get_issue(session, number)


def _organizations(database: Database, *slugs: str) -> dict[str, Organization]:
    with database.session() as session:
        rows = session.scalars(select(Organization).where(Organization.slug.in_(slugs)))
        return {row.slug: row for row in rows}


def _render_all(database: Database, settings: Settings) -> Rendered:
    issue = _compose(database)
    organizations = _organizations(database, "jetro", "jcci")
    renderer = Renderer(sender=senders(settings))
    renditions = {
        (slug, language): renderer.render(issue, organization, language)
        for slug, organization in organizations.items()
        for language in ("ja", "en")
    }
    return Rendered(issue, organizations, renditions)


@pytest.fixture
def rendered(seeded_db: Database, settings: Settings) -> Rendered:
    return _render_all(seeded_db, settings)


def _html(rendition: Rendition) -> str:
    return rendition.html.fill(VALUES)


def _text(rendition: Rendition) -> str:
    return rendition.text.fill(VALUES)


CASES = [(slug, language) for slug in ("jetro", "jcci") for language in ("ja", "en")]


@pytest.mark.parametrize(("slug", "language"), CASES)
def test_the_organizations_greeting_and_name_are_in_both_parts(
    rendered: Rendered, slug: str, language: str
) -> None:
    organization = rendered.organizations[slug]
    greeting = organization.greeting_ja if language == "ja" else organization.greeting_en
    name = organization.name_ja if language == "ja" else organization.name_en
    rendition = rendered.renditions[(slug, language)]
    assert greeting in html.unescape(_html(rendition))
    assert greeting in _text(rendition)
    assert name in html.unescape(_html(rendition))
    assert name in _text(rendition)
    assert (rendition.issue_number, rendition.organization_slug, rendition.language) == (
        rendered.issue.number,
        slug,
        language,
    )
    assert rendition.charset == "utf-8"


def test_each_organization_gets_its_own_greeting(rendered: Rendered) -> None:
    jetro, jcci = rendered.organizations["jetro"], rendered.organizations["jcci"]
    assert jcci.greeting_ja not in _text(rendered.renditions[("jetro", "ja")])
    assert jetro.greeting_ja not in _text(rendered.renditions[("jcci", "ja")])
    assert jcci.greeting_en not in html.unescape(_html(rendered.renditions[("jetro", "en")]))


@pytest.mark.parametrize(("slug", "language"), CASES)
def test_the_subject_is_the_issues(rendered: Rendered, slug: str, language: str) -> None:
    expected = rendered.issue.subject_ja if language == "ja" else rendered.issue.subject_en
    assert rendered.renditions[(slug, language)].subject == expected


def _top_level_rules(css: str) -> list[str]:
    """The preludes of the top-level rules of a stylesheet (`@media …`, `.masthead`, …)."""
    preludes: list[str] = []
    depth = 0
    current = ""
    for char in css:
        if char == "{":
            if depth == 0:
                preludes.append(current.strip())
            depth += 1
        elif char == "}":
            depth -= 1
            current = ""
        elif depth == 0:
            current += char
    assert depth == 0, "unbalanced braces in the stylesheet"
    return preludes


@pytest.mark.parametrize(("slug", "language"), CASES)
def test_styles_are_inlined_and_only_media_queries_stay(rendered: Rendered, slug: str, language: str) -> None:
    document = lxml.html.document_fromstring(_html(rendered.renditions[(slug, language)]))
    masthead = document.xpath('//td[contains(concat(" ", @class, " "), " masthead ")]')
    assert len(masthead) == 1
    assert "background-color:#12355b" in masthead[0].get("style", "").replace(" ", "")
    for css_class in (
        "masthead-title",
        "org-header",
        "content",
        "section",
        "section-title",
        "footer",
        "button",
    ):
        elements = document.xpath(f'//*[contains(concat(" ", @class, " "), " {css_class} ")]')
        assert elements, css_class
        assert all(element.get("style") for element in elements), css_class
    body = document.find("body")
    assert body is not None
    assert "margin:0" in body.get("style", "").replace(" ", "")
    stylesheets = [style.text or "" for style in document.iter("style")]
    preludes = [prelude for css in stylesheets for prelude in _top_level_rules(css)]
    assert preludes, "the @media rules for small screens must stay in <style>"
    assert all(prelude.startswith("@media") for prelude in preludes), preludes


def test_japanese_dates_in_the_japanese_html(rendered: Rendered) -> None:
    for slug in ("jetro", "jcci"):
        page = _html(rendered.renditions[(slug, "ja")])
        assert "2024年1月31日" in page  # the meeting
        assert "令和6年1月31日" in page
        assert "2024年2月15日" in page  # the issue
        assert "令和6年2月15日" in page
        assert "第8回本会合" in page
        assert "2024年1月31日" in _text(rendered.renditions[(slug, "ja")])


def test_english_dates_and_greeting_in_the_english_rendition(rendered: Rendered) -> None:
    for slug in ("jetro", "jcci"):
        rendition = rendered.renditions[(slug, "en")]
        page = html.unescape(_html(rendition))
        assert "31 January 2024" in page
        assert "15 February 2024" in page
        assert "31 January 2024" in _text(rendition)
        assert "令和" not in page
        assert "年1月31日" not in page
        assert "Plenary 8" in page
        assert rendered.organizations[slug].greeting_en in page
        assert "SME Overseas Safety Network Mail Magazine" in page


def test_the_jetro_override_adds_its_line_only_to_jetro(rendered: Rendered) -> None:
    assert JETRO_LINE_EN != JETRO_LINE_JA
    assert JETRO_LINE_JA in _html(rendered.renditions[("jetro", "ja")])
    assert JETRO_LINE_EN in html.unescape(_html(rendered.renditions[("jetro", "en")]))
    for language in ("ja", "en"):
        page = html.unescape(_html(rendered.renditions[("jcci", language)]))
        assert JETRO_LINE_JA not in page
        assert JETRO_LINE_EN not in page
    # the override keeps the rest of the default layout
    assert "中堅・中小企業海外安全対策ネットワーク メールマガジン" in _html(
        rendered.renditions[("jetro", "ja")]
    )


@pytest.mark.parametrize(("slug", "language"), CASES)
def test_every_rendition_has_all_personal_fields(rendered: Rendered, slug: str, language: str) -> None:
    rendition = rendered.renditions[(slug, language)]
    assert rendition.html.fields == frozenset(PERSONAL_FIELDS)
    assert rendition.text.fields == frozenset(PERSONAL_FIELDS)
    document = lxml.html.document_fromstring(_html(rendition))
    hrefs = document.xpath("//a/@href")
    assert VALUES["unsubscribe_url"] in hrefs
    assert VALUES["preferences_url"] in hrefs
    text = _text(rendition)
    for value in VALUES.values():
        assert value in text
    assert "@@OUTREACH:" not in text
    assert "@@OUTREACH:" not in _html(rendition)


@pytest.mark.parametrize(("slug", "language"), CASES)
def test_sender_name_and_postal_address_are_in_both_parts(
    rendered: Rendered, settings: Settings, slug: str, language: str
) -> None:
    rendition = rendered.renditions[(slug, language)]
    name = settings.sender_name_ja if language == "ja" else settings.sender_name_en
    postal = settings.postal_address_ja if language == "ja" else settings.postal_address_en
    for part in (html.unescape(_html(rendition)), _text(rendition)):
        assert name in part
        assert postal in part
        assert settings.sender_address in part


def test_rendering_logs_no_warnings_and_warns_nothing(
    seeded_db: Database, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    cssutils_logger = logging.getLogger("CSSUTILS")
    level = cssutils_logger.level
    cssutils_logger.setLevel(logging.INFO)  # as in a fresh process: the render itself must quiet cssutils
    try:
        with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING):
            warnings.simplefilter("always")
            rendered = _render_all(seeded_db, settings)
    finally:
        cssutils_logger.setLevel(level)
    assert len(rendered.renditions) == 4
    loud = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert loud == [], [f"{record.name}: {record.getMessage()}" for record in loud]
    assert [str(warning.message) for warning in caught] == []


def test_an_unknown_language_is_refused(rendered: Rendered, settings: Settings) -> None:
    renderer = Renderer(sender=senders(settings))
    with pytest.raises(InvalidInput, match="unsupported language"):
        renderer.render(rendered.issue, rendered.organizations["jcci"], "fr")


def test_a_template_error_stays_loud(rendered: Rendered, settings: Settings, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    jcci = rendered.organizations["jcci"]
    copy = Renderer(sender=senders(settings), templates_dir=templates).render(rendered.issue, jcci, "ja")
    assert copy.html == rendered.renditions[("jcci", "ja")].html  # the copy alone changes nothing
    (templates / "email" / "issue.html").write_text(
        '{% extends "email/base.html" %}\n{% block content %}{{ no_such_variable }}{% endblock %}\n',
        encoding="utf-8",
    )
    broken = Renderer(sender=senders(settings), templates_dir=templates)
    with pytest.raises(jinja2.UndefinedError, match="no_such_variable"):
        broken.render(rendered.issue, jcci, "ja")


def test_a_missing_attribute_stays_loud(rendered: Rendered, settings: Settings, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    (templates / "email" / "org_header.html").write_text("<p>{{ org.no_such_field }}</p>\n", encoding="utf-8")
    broken = Renderer(sender=senders(settings), templates_dir=templates)
    with pytest.raises(jinja2.UndefinedError):
        broken.render(rendered.issue, rendered.organizations["jcci"], "en")


def test_date_filters_are_registered(settings: Settings) -> None:
    renderer = Renderer(sender=senders(settings))
    day = date(2024, 1, 31)
    for language in ("ja", "en"):
        env = renderer.environment("jcci", language)
        assert env.filters["jdate"](day) == "2024年1月31日"
        assert env.filters["wareki"](day) == "令和6年1月31日"
        assert env.filters["edate"](day) == "31 January 2024"
        rendered = env.from_string("{{ d|jdate }} {{ d|wareki }} {{ d|edate }}").render(d=day)
        assert rendered == "2024年1月31日 令和6年1月31日 31 January 2024"
    assert renderer.environment("jcci", "ja").filters["local_date"](day) == "2024年1月31日"
    assert renderer.environment("jcci", "en").filters["local_date"](day) == "31 January 2024"
    assert renderer.environment("jcci", "ja").filters["wareki"](date(2019, 5, 1)) == "令和元年5月1日"
