"""Renditions per (organization, language): greetings, inlined CSS, dates, overrides, personal holes."""

from __future__ import annotations

import html
import logging
import re
import shutil
import warnings
from collections import Counter
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
from outreach.digest import carried_before
from outreach.errors import InvalidInput
from outreach.i18n import load_catalog
from outreach.issues import compose_issue, get_issue
from outreach.models import Issue, IssueStatus, Meeting, Organization
from outreach.network import DATA_DIR, PROMOTIONS
from outreach.render import TEMPLATES_DIR, Renderer, Rendition
from outreach.stamp import PERSONAL_FIELDS
from outreach.textpart import display_width

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


def _flat(text: str) -> str:
    """The text without its whitespace: what it says, wherever the text part wrapped its lines."""
    return "".join(text.split())


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
    assert _flat(greeting) in _flat(_text(rendition))
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


def test_japanese_dates_say_the_era_year_beside_the_year_in_both_parts(rendered: Rendered) -> None:
    for slug in ("jetro", "jcci"):
        rendition = rendered.renditions[(slug, "ja")]
        for part in (_html(rendition), _text(rendition)):
            assert "2024年（令和6年）1月31日" in part  # the meeting
            assert "2024年（令和6年）2月15日" in part  # the issue
            assert "令和6年1月31日" not in part  # the month and day are said once
            assert "第8回本会合" in part


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
        assert "SME Overseas Safety Network Newsletter" in page


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
    for part in (_flat(html.unescape(_html(rendition))), _flat(_text(rendition))):
        assert _flat(name) in part
        assert _flat(postal) in part
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
    assert renderer.environment("jcci", "ja").filters["local_date"](day) == "2024年（令和6年）1月31日"
    assert renderer.environment("jcci", "en").filters["local_date"](day) == "31 January 2024"
    assert renderer.environment("jcci", "ja").filters["wareki"](date(2019, 5, 1)) == "令和元年5月1日"


# The magazine's wording, read back from a real issue carrying every meeting, as a careful reader reads it
# (issue 16): the network's rendition and 損保協会's, in both languages, the HTML and the text part.
WORDING_CASES = [(slug, language) for slug in ("network", "sonpo") for language in ("ja", "en")]


@pytest.fixture
def parts(seeded_db: Database, settings: Settings) -> dict[tuple[str, str], tuple[str, str]]:
    """(slug, language) -> (the visible text of the HTML, the text part), each filled for one reader."""
    with seeded_db.session() as session:
        meetings = list(session.scalars(select(Meeting).order_by(Meeting.held_on)))
        number = compose_issue(session, meetings=meetings, issue_date=date(2026, 12, 1)).number
    with seeded_db.session() as session:
        issue = get_issue(session, number)
    organizations = _organizations(seeded_db, "network", "sonpo")
    renderer = Renderer(sender=senders(settings))
    found = {}
    for slug, language in WORDING_CASES:
        rendition = renderer.render(issue, organizations[slug], language)
        body = lxml.html.document_fromstring(_html(rendition)).find("body")
        assert body is not None
        found[slug, language] = (body.text_content(), _text(rendition))
    return found


def test_dates_read_year_era_month_day(parts: dict[tuple[str, str], tuple[str, str]]) -> None:
    for slug in ("network", "sonpo"):
        for part in parts[slug, "ja"]:
            assert "2026年（令和8年）12月1日" in part  # the issue
            assert "2016年（平成28年）9月27日" in part  # the first plenary
            assert "2019年（令和元年）8月30日" in part
            assert "（令和8年12月1日）" not in part
        for part in parts[slug, "en"]:
            assert "1 December 2026" in part
            assert "令和" not in part


def test_no_cryptic_note_on_what_was_published(parts: dict[tuple[str, str], tuple[str, str]]) -> None:
    for (_slug, language), (html_text, text) in parts.items():
        for part in (html_text, text):
            greeted = (
                "柘植芳文外務副大臣（当時）が会場で挨拶しました。"
                if language == "ja"
                else "Yoshifumi Tsuge, then"
            )
            assert _flat(greeted) in _flat(part)
            for cryptic in ("を公開）", "were published", "was published"):
                assert _flat(cryptic) not in _flat(part)


def test_a_former_title_is_marked_in_the_summary_as_in_the_header(
    seeded_db: Database, parts: dict[tuple[str, str], tuple[str, str]]
) -> None:
    with seeded_db.session() as session:
        plenaries = list(session.scalars(select(Meeting).where(Meeting.kind == "plenary")))
    assert len(plenaries) == 8
    for meeting in plenaries:
        titles_ja = re.findall(r"[一-龥]+（当時）", meeting.opened_by_ja)
        titles_en = re.findall(
            r"[A-Z][a-z]+ [A-Z][a-z]+, then [A-Z][A-Za-z -]+?(?=,|$)", meeting.opened_by_en
        )
        assert titles_ja, meeting.opened_by_ja
        assert len(titles_en) == len(titles_ja), meeting.opened_by_en
        for slug in ("network", "sonpo"):
            for part in map(_flat, parts[slug, "ja"]):
                assert _flat(f"冒頭挨拶：{meeting.opened_by_ja}") in part
                assert all(part.count(_flat(title)) >= 2 for title in titles_ja), titles_ja  # header, summary
            for part in map(_flat, parts[slug, "en"]):
                assert _flat(f"Opening remarks: {meeting.opened_by_en}") in part
                assert all(part.count(_flat(title)) >= 2 for title in titles_en), titles_en
                assert "(atthetime)" not in part


def test_japanese_labels_take_the_full_width_colon(parts: dict[tuple[str, str], tuple[str, str]]) -> None:
    for slug in ("network", "sonpo"):
        html_text, text = parts[slug, "ja"]
        for label in ("開催日：", "冒頭挨拶：", "発行：", "連絡先："):
            assert label in html_text
            assert label in text
        for label in ("安全対策ツール：", "詳しく見る：", "配信設定の変更：", "配信停止の手続き："):
            assert label in text
        for part in (html_text, text):
            assert re.search(r"[^\x00-\x7f]:", part) is None  # no half-width colon after Japanese
        for part in parts[slug, "en"]:
            assert "：" not in part
            assert "Held on: " in part
            assert "Published by: " in part


def test_no_doubled_honorific_in_any_greeting(
    seeded_db: Database, parts: dict[tuple[str, str], tuple[str, str]]
) -> None:
    with seeded_db.session() as session:
        organizations = list(session.scalars(select(Organization)))
    for organization in organizations:
        for words in (organization.greeting_ja, organization.contact_ja):
            assert re.search(r"様の?(皆様|各位)|各位の皆様", words) is None, organization.slug
    for part in parts["sonpo", "ja"]:
        assert "日本損害保険協会より、会員会社とそのお客様へ" in part
        assert "お客様の皆様" not in part


def test_the_footer_link_is_named_for_the_page_it_opens(rendered: Rendered) -> None:
    for (_slug, language), rendition in rendered.renditions.items():
        name = "配信停止の手続き" if language == "ja" else "Unsubscribe"
        document = lxml.html.document_fromstring(_html(rendition))
        links = document.xpath("//a[@href=$url]", url=VALUES["unsubscribe_url"])
        assert [link.text_content() for link in links] == [name]
        assert f"{name}{'：' if language == 'ja' else ': '}{VALUES['unsubscribe_url']}" in _text(rendition)
        for part in (_html(rendition), _text(rendition)):
            assert "ワンクリック" not in part
            assert "one click" not in part


def test_english_says_newsletter_and_gives_the_japanese_name_once(
    parts: dict[tuple[str, str], tuple[str, str]],
) -> None:
    japanese_name = "中堅・中小企業海外安全対策ネットワーク メールマガジン"
    for slug in ("network", "sonpo"):
        for part in parts[slug, "en"]:
            assert part.startswith("SME Overseas Safety Network Newsletter") or (
                "\nSME Overseas Safety Network Newsletter\n" in part
            )
            assert "mail magazine" not in part.lower()  # (members' own magazines may stay)
            assert part.count(japanese_name) == 1
            assert f"Newsletter ({japanese_name})" in part
        for part in parts[slug, "ja"]:
            assert part.count(japanese_name) == 1  # the masthead
            assert "英語版" not in part


def test_each_tool_links_its_own_page_or_the_data_says_why_not(
    parts: dict[tuple[str, str], tuple[str, str]],
) -> None:
    data = (DATA_DIR / "promotions.toml").read_text(encoding="utf-8")
    blocks = {
        slug: block
        for block in data.split("[[promotions]]")[1:]
        for slug in re.findall(r'^slug = "(.+)"$', block, re.M)
    }
    pages = Counter(promotion.url for promotion in PROMOTIONS)
    for promotion in PROMOTIONS:
        # The website's own promotion is the one tool whose page the top page is.
        if pages[promotion.url] > 1 and promotion.slug != "overseas-safety-website":
            assert "# No page of its own" in blocks[promotion.slug], promotion.slug
        if promotion.slug != "summer-safety-month":  # July and August only
            assert f"■ 安全対策ツール：{promotion.title_ja}\n\n" in parts["network", "ja"][1]
            # A URL that does not fit after its label starts the next line.
            assert re.search(f"詳しく見る：\n?{re.escape(promotion.url)}\n", parts["network", "ja"][1])
            assert re.search(f"Learn more:[ \n]{re.escape(promotion.url)}\n", parts["network", "en"][1])


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_subscription_mails_use_the_same_name_and_colons(settings: Settings, language: str) -> None:
    renderer = Renderer(sender=senders(settings))
    env = renderer.environment("network", language)
    context = {
        "lang": language,
        "email": "yamada@example.jp",
        "sender": renderer.sender[language],
        "url": "https://mailmag.example.jp/c/tok",
        "days": 7,
        "preferences_url": "https://mailmag.example.jp/p/tok",
        "unsubscribe_url": "https://mailmag.example.jp/u/tok",
    }
    for kind in ("confirm", "already_subscribed", "unsubscribe_link"):
        for suffix in ("subject.txt", "txt", "html"):
            words = env.get_template(f"email/{kind}.{suffix}").render(context)
            if language == "en":
                assert "magazine" not in words.lower(), kind
                assert "Newsletter" in words, kind
                assert "：" not in words, kind
            else:
                assert "メールマガジン" in words, kind
                assert re.search(r"[^\x00-\x7f]:", words) is None, kind
                assert suffix == "subject.txt" or "連絡先：" in words, kind


# Mail that reads well everywhere (issue 13): a shorter issue, HTML for every client, a text part like mail.

SUMMARY_JA = (
    "会合の概要です。\n\n## 議題\n\n> 外務省から*最新の*注意喚起を紹介しました。\n\n"
    "- **日本商工会議所**：委員会を設置"
)
SUMMARY_EN = (
    "An overview.\n\n## Agenda\n\n> MOFA presented its *latest* alerts.\n\n- **JCCI**: set up a committee"
)


@dataclass(frozen=True)
class Typical:
    """Issue No. 2 after a sent No. 1 that carried every promotion but the JETRO flyer (new in 2024)."""

    renditions: dict[str, Rendition]  # by language, the network's
    full: dict[str, Rendition]  # the same, rendered without the previous issue: every promotion in full


@pytest.fixture
def typical(seeded_db: Database, settings: Settings) -> Typical:
    with seeded_db.session() as session:
        first = compose_issue(
            session, meetings=[find_meeting(session, MeetingKey("plenary", 7))], issue_date=date(2022, 12, 1)
        )
        first.status = IssueStatus.SENT
        meeting = find_meeting(session, MeetingKey("plenary", 8))
        meeting.summary_ja, meeting.summary_en = SUMMARY_JA, SUMMARY_EN
        number = compose_issue(session, meetings=[meeting], issue_date=date(2024, 2, 15)).number
    renderer = Renderer(sender=senders(settings))
    with seeded_db.session() as session:
        issue = get_issue(session, number)
        carried = carried_before(session, issue)
        network = _organizations(seeded_db, "network")["network"]
        return Typical(
            {
                language: renderer.render(issue, network, language, carried=carried)
                for language in ("ja", "en")
            },
            {language: renderer.render(issue, network, language) for language in ("ja", "en")},
        )


def _document(rendition: Rendition) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(_html(rendition))


def test_only_the_new_promotion_is_in_full_the_others_are_a_compact_list(typical: Typical) -> None:
    for language, rendition in typical.renditions.items():
        document = _document(rendition)
        titles = [title.text_content() for title in document.xpath('//*[contains(@class, "section-title")]')]
        flyer = next(p for p in PROMOTIONS if p.slug == "awareness-flyer")
        more = "そのほかの安全対策ツール" if language == "ja" else "More safety tools"
        assert titles == [
            "第8回本会合" if language == "ja" else "Plenary 8",
            flyer.title_ja if language == "ja" else flyer.title_en,
            more,
        ]
        listed = document.xpath('//ul[contains(@class, "tool-list")]//a')
        assert len(listed) == 6
        tabireg = next(p for p in PROMOTIONS if p.slug == "tabireg")
        assert (tabireg.url, tabireg.title_ja if language == "ja" else tabireg.title_en) in [
            (link.get("href"), link.text_content()) for link in listed
        ]
        text = _text(rendition)
        assert f"■ {more}" in text
        assert f"- {tabireg.title_ja if language == 'ja' else tabireg.title_en}" in text
        assert len(_text(typical.full[language])) > len(text) * 1.4


def test_the_summer_campaign_is_in_full_in_its_month_even_when_the_last_issue_had_it(
    seeded_db: Database, settings: Settings
) -> None:
    with seeded_db.session() as session:
        july = compose_issue(session, meetings=[], issue_date=date(2024, 7, 1))
        july.status = IssueStatus.SENT
        number = compose_issue(session, meetings=[], issue_date=date(2024, 7, 20)).number
    with seeded_db.session() as session:
        issue = get_issue(session, number)
        carried = carried_before(session, issue)
        assert "summer-safety-month" in carried
        network = _organizations(seeded_db, "network")["network"]
        rendition = Renderer(sender=senders(settings)).render(issue, network, "ja", carried=carried)
    summer = next(p for p in PROMOTIONS if p.slug == "summer-safety-month")
    assert f"■ 安全対策ツール：{summer.title_ja}" in _text(rendition)
    assert "■ そのほかの安全対策ツール" in _text(rendition)


def test_a_hidden_preheader_gives_the_issues_first_line(typical: Typical) -> None:
    for language, rendition in typical.renditions.items():
        [preheader] = _document(rendition).xpath('//div[@class="preheader"]')
        style = preheader.get("style", "").replace(" ", "")
        assert "display:none" in style
        assert "mso-hide:all" in style
        first = "第8回本会合：会合の概要です。" if language == "ja" else "Plenary 8: An overview."
        assert preheader.text_content().startswith(first)
        assert _html(rendition).index('class="preheader"') < _html(rendition).index('class="masthead')


def test_color_scheme_outlook_fallback_and_japanese_line_breaking(typical: Typical) -> None:
    for rendition in typical.renditions.values():
        page = _html(rendition)
        assert '<meta name="color-scheme" content="light dark">' in page
        assert "@media (prefers-color-scheme: dark)" in page
        assert '<!--[if mso]><table role="presentation" align="center" width="600"' in page
        assert "<!--[if mso]></td></tr></table><![endif]-->" in page
        document = _document(rendition)
        for part in ("content", "org-header", "footer"):
            [cell] = document.xpath(f'//td[contains(concat(" ", @class, " "), " {part} ")]')
            style = cell.get("style", "").replace(" ", "")
            for rule in ("line-break:strict", "word-break:normal", "overflow-wrap:anywhere"):
                assert rule in style, (part, rule)


def test_headings_in_a_section_stand_below_its_title_and_quotes_are_styled(typical: Typical) -> None:
    for language, rendition in typical.renditions.items():
        document = _document(rendition)
        title = document.xpath('//h2[contains(@class, "section-title")]')[0]
        [heading] = document.xpath("//h3")
        assert heading.text_content() == ("議題" if language == "ja" else "Agenda")
        assert not document.xpath("//h1")
        size = re.search(r"font-size:\s*(\d+)px", heading.get("style", ""))
        title_size = re.search(r"font-size:\s*(\d+)px", title.get("style", ""))
        assert size
        assert title_size
        assert int(size.group(1)) < int(title_size.group(1))
        [quote] = document.xpath("//blockquote")
        assert "border-left" in quote.get("style", "")


def test_english_renditions_have_english_labels_and_separators(typical: Typical) -> None:
    body = _document(typical.renditions["en"]).find("body")
    assert body is not None
    visible = body.text_content().replace("中堅・中小企業海外安全対策ネットワーク メールマガジン", "")
    assert re.search(r"[・：、。「」]", visible) is None, re.findall(r".{20}[・：、。「」].{20}", visible)
    assert (
        re.search(
            r"[・：、。「」]",
            _text(typical.renditions["en"]).replace(
                "中堅・中小企業海外安全対策ネットワーク メールマガジン", ""
            ),
        )
        is None
    )


def test_a_link_with_no_english_title_is_named_in_english(seeded_db: Database, settings: Settings) -> None:
    with seeded_db.session() as session:
        meeting = find_meeting(session, MeetingKey("plenary", 8))
        meeting.links = [{"title_ja": "開催結果", "title_en": "", "url": "https://www.mofa.go.jp/x.html"}]
        number = compose_issue(session, meetings=[meeting], issue_date=ISSUE_DATE).number
    with seeded_db.session() as session:
        issue = get_issue(session, number)
        network = _organizations(seeded_db, "network")["network"]
        renderer = Renderer(sender=senders(settings))
        english, japanese = (renderer.render(issue, network, language) for language in ("en", "ja"))
    for part in (html.unescape(_html(english)), _text(english)):
        assert "開催結果" not in part
        assert "Related page (in Japanese)" in part
    assert "開催結果" in _text(japanese)


def test_the_text_part_reads_like_mail(typical: Typical) -> None:
    for language, rendition in typical.renditions.items():
        text = _text(rendition)
        assert "*" not in text
        assert "##" not in text
        assert (
            "> 外務省から最新の注意喚起を紹介しました。"
            if language == "ja"
            else "> MOFA presented its latest alerts."
        ) in text
        assert (
            "- 日本商工会議所：委員会を設置" if language == "ja" else "- JCCI: set up a committee"
        ) in text
        rules = text.split("\n============================================================\n")
        assert len(rules) == 4  # the greeting; the meeting, the flyer and the list each under a rule
        for line in rendition.text.fill(dict.fromkeys(PERSONAL_FIELDS, "x")).split("\n"):
            if "://" not in line and not line.startswith("■"):
                assert display_width(line) <= 70, line
            assert line[:1] not in "、。）」ーッャュョぁぃぅぇぉっゃゅょ" or not line, line
        for url in re.findall(r"https?://\S+", text):
            assert url.startswith(("https://www.anzen.mofa.go.jp", "https://www.ezairyu", "https://mailmag"))


def test_golgo_13_reads_without_its_markdown(seeded_db: Database, settings: Settings) -> None:
    with seeded_db.session() as session:
        number = compose_issue(session, meetings=[], issue_date=ISSUE_DATE).number
    with seeded_db.session() as session:
        issue = get_issue(session, number)
        network = _organizations(seeded_db, "network")["network"]
        text = _text(Renderer(sender=senders(settings)).render(issue, network, "en"))
    assert "the hero of the Golgo 13 manga" in " ".join(text.split())
    assert "*Golgo 13*" not in text


@pytest.mark.parametrize(("slug", "language"), CASES)
def test_every_issue_says_how_to_stop_it_in_both_parts(rendered: Rendered, slug: str, language: str) -> None:
    rendition = rendered.renditions[(slug, language)]
    sentence = (
        "今後このメールマガジンの受信を希望されない場合は、次の「配信停止の手続き」からいつでも配信を停止できます。"
        if language == "ja"
        else "If you no longer wish to receive this newsletter, you can unsubscribe at any time "
        'with the "Unsubscribe" link below.'
    )
    assert sentence in html.unescape(_html(rendition))
    assert _flat(sentence) in _flat(_text(rendition))
    text = _text(rendition)
    assert text.index(sentence[:12]) < text.index(VALUES["unsubscribe_url"])
