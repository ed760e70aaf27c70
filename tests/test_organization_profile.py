"""An organization's profile in its rendition (both databases): what its editors set comes before the
seed data, in both parts and both languages; until it sets a contact, every member's rendition shows its own
web page and the network secretariat, never the old placeholder; the footer sits above the standard footer;
the messages a send builds carry the profile; the charset checks see the profile's texts; a refused profile
writes nothing.
"""

from __future__ import annotations

import asyncio
import html
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage

import lxml.html
import pytest
from sqlalchemy import select

from outreach.composer import senders
from outreach.config import Settings, SmtpRelay
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issue_charsets import CharsetRefused
from outreach.issues import compose_issue
from outreach.mailer import SmtpMailer
from outreach.models import Organization
from outreach.network import NETWORK, NETWORK_SLUG
from outreach.render import Renderer
from outreach.staff.models import AuditEvent
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases import drafts
from outreach.usecases.approval import Acting
from outreach.usecases.organizations import ProfileRefused, ProfileValues, read_profile, save_profile
from outreach.usecases.sends import send_now
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.links import SignedLinks
from tests.conftest import snapshot
from tests.smtp_server import SmtpServer

PLACEHOLDERS = ("本メールの配信担当部署", "the department in charge of this email")
NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
CONTACT = ProfileValues(
    greeting_ja="JETROより、海外展開中の企業の皆様へ。",
    department_ja="海外ビジネスサポート課",
    department_en="Overseas Business Support Division",
    phone="03-3582-5511",
    email="Anzen@Example.JP",
    web_url="https://www.jetro.go.jp/anzen/",
    footer_ja="セミナーのご案内は当機構のページをご覧ください。\n二行目です。",
)


def _flat(text: str) -> str:
    """The text without its white space: the plain-text part is wrapped at 72 columns."""
    return "".join(text.split())


def _both(parts: drafts.PreviewParts) -> tuple[str, str]:
    """What a reader reads of each part, without white space: the HTML's text, and the plain text."""
    return _flat(lxml.html.document_fromstring(parts.html).text_content()), _flat(parts.text)


def _renderer(settings: Settings) -> Renderer:
    return Renderer(sender=senders(settings))


def _parts(db: Database, settings: Settings, slug: str, language: str) -> drafts.PreviewParts:
    with db.session() as session:
        return drafts.preview_parts(
            session,
            1,
            organization=slug,
            language=language,
            renderer=_renderer(settings),
            base_url="https://x.jp",
        )


def _save(db: Database, values: ProfileValues, slug: str = "jetro") -> None:
    with db.session() as session:
        save_profile(session, slug, values, actor="staff:editor@example.jp", now=NOW)


@pytest.fixture
def issue(seeded_db: Database) -> Database:
    with seeded_db.session() as session:
        compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 8))])
    return seeded_db


def test_with_nothing_set_every_member_shows_its_web_page_and_the_secretariat_never_a_placeholder(
    issue: Database, settings: Settings
) -> None:
    with issue.session() as session:
        organizations = [(org.slug, org.url) for org in session.scalars(select(Organization))]
    assert len(organizations) == 31
    for slug, url in organizations:
        for language in ("ja", "en"):
            parts = _parts(issue, settings, slug, language)
            for part in (_flat(html.unescape(parts.html)), _flat(parts.text)):
                for placeholder in PLACEHOLDERS:
                    assert _flat(placeholder) not in part, (slug, language)
                if slug != NETWORK_SLUG:
                    assert url in part, (slug, language)
                    assert _flat(NETWORK.contact_ja if language == "ja" else NETWORK.contact_en) in part
            if language == "en":
                assert "お問い合わせ" not in parts.text


def test_the_profile_comes_before_the_seed_data_in_both_parts(issue: Database, settings: Settings) -> None:
    _save(issue, CONTACT)
    ja = _parts(issue, settings, "jetro", "ja")
    for part in _both(ja):
        assert "JETROより、海外展開中の企業の皆様へ。" in part
        assert "日本貿易振興機構より" not in part  # the seed greeting gave way
        assert "本メールに関するお問い合わせ：海外ビジネスサポート課" in part
        assert "電話番号：03-3582-5511" in part
        assert "メールアドレス：Anzen@example.jp" in part  # the domain normalized, as mail does
        assert "ウェブサイト：https://www.jetro.go.jp/anzen/" in part
        assert _flat(NETWORK.contact_ja) not in part  # the organization's own contact replaces the fallback
        assert part.index("セミナーのご案内") < part.index("発行：")  # above the standard footer
    assert '<a href="mailto:Anzen@example.jp"' in ja.html
    assert "セミナーのご案内は当機構のページをご覧ください。<br>二行目です。" in ja.html
    en = _parts(issue, settings, "jetro", "en")
    for part in _both(en):
        assert _flat("Questions about this email: Overseas Business Support Division") in part
        assert "Phone:03-3582-5511" in part
        # No English greeting or footer set: the English seed greeting, and never the Japanese texts.
        assert _flat("JETRO is passing on the Ministry of Foreign Affairs") in part
        assert "JETROより" not in part
        assert "セミナー" not in part
    # Another organization keeps its own.
    jcci = _parts(issue, settings, "jcci", "ja")
    assert "海外ビジネスサポート課" not in jcci.text
    assert "https://www.jcci.or.jp/" in jcci.text


def test_a_department_set_only_in_japanese_names_the_organization_in_english(
    issue: Database, settings: Settings
) -> None:
    _save(issue, ProfileValues(department_ja="総務部"))
    en = _parts(issue, settings, "jetro", "en")
    assert _flat("Questions about this email: Japan External Trade Organization") in _flat(en.text)
    assert "総務部" not in en.text
    assert "本メールに関するお問い合わせ：総務部" in _parts(issue, settings, "jetro", "ja").text


def test_a_send_builds_its_messages_with_the_profile(
    issue: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    with issue.session() as session:
        jetro = organization_or_none(session, "jetro")
        add_subscriber(session, "reader@example.jp", company="株式会社テスト", name="", organization=jetro)
    _save(issue, CONTACT)
    relay = SmtpRelay(host="127.0.0.1", port=smtp_server.port, security="none")
    sent = asyncio.run(
        send_now(
            issue,
            replace(settings, smtp=relay),
            1,
            mailer=SmtpMailer(relay),
            links=SignedLinks(settings),
            by=Acting("cli:test", ApprovalPolicy.NONE),
        )
    )
    assert sent.finished
    [received] = smtp_server.handler.to("reader@example.jp")
    message = received.parsed()
    text_part, _ = message.iter_parts()
    assert isinstance(text_part, EmailMessage)
    assert "海外ビジネスサポート課" in text_part.get_content()


def test_the_charset_check_of_an_iso_2022_jp_issue_sees_the_profile(issue: Database) -> None:
    _save(issue, ProfileValues(footer_en="Café seminars"))
    before = snapshot(issue)
    with issue.session() as session:
        meeting = find_meeting(session, MeetingKey("plenary", 7))
        with pytest.raises(CharsetRefused) as refused:
            compose_issue(session, meetings=[meeting], charset="iso-2022-jp")
    assert "footer_en of jetro" in str(refused.value)
    assert "organization:jetro" in refused.value.parts
    assert snapshot(issue) == before


def test_a_profile_an_unsent_iso_2022_jp_issue_cannot_carry_is_refused_at_its_field(
    seeded_db: Database,
) -> None:
    with seeded_db.session() as session:
        meeting = find_meeting(session, MeetingKey("plenary", 8))
        compose_issue(session, meetings=[meeting], charset="iso-2022-jp")
    before = snapshot(seeded_db)
    with pytest.raises(ProfileRefused) as refused:
        _save(seeded_db, ProfileValues(greeting_ja="カフェ（Café）から", phone="03-1234-5678"))
    [problem] = refused.value.problems
    assert (problem.field, problem.code, problem.chars, problem.issues) == (
        "greeting_ja",
        "charset",
        "é",
        (1,),
    )
    assert snapshot(seeded_db) == before


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        (ProfileValues(email="not an address"), "email", "bad-email"),
        (ProfileValues(web_url="http://www.jetro.go.jp/"), "web_url", "https"),
        (ProfileValues(web_url="javascript:alert(1)"), "web_url", "https"),
        (ProfileValues(phone="０３－１２３４"), "phone", "bad-phone"),
        (ProfileValues(department_ja="x" * 201), "department_ja", "too-long"),
        (ProfileValues(department_ja="総務部\n広報課"), "department_ja", "control"),
        (ProfileValues(kit_reply_to="reply@"), "kit_reply_to", "bad-email"),
        (ProfileValues(report_language="fr"), "report_language", "bad-language"),
        (ProfileValues(monthly_report=True), "monthly_report", "report-needs-email"),
    ],
)
def test_a_bad_field_is_refused_and_nothing_is_written(
    seeded_db: Database, values: ProfileValues, field: str, code: str
) -> None:
    before = snapshot(seeded_db)
    with pytest.raises(ProfileRefused) as refused:
        _save(seeded_db, values)
    assert [(problem.field, problem.code) for problem in refused.value.problems] == [(field, code)]
    assert snapshot(seeded_db) == before


def test_saving_again_records_what_changed(seeded_db: Database) -> None:
    _save(seeded_db, CONTACT)
    _save(seeded_db, replace(CONTACT, phone="03-0000-0000"))
    with seeded_db.session() as session:
        assert read_profile(session, "jetro").phone == "03-0000-0000"
        recorded = select(AuditEvent.target, AuditEvent.detail).where(
            AuditEvent.action == "organization.profile"
        )
        details = session.execute(recorded.order_by(AuditEvent.id)).all()
    assert [tuple(row) for row in details] == [
        ("organization jetro", "changed: " + ", ".join(_set_fields(CONTACT))),
        ("organization jetro", "changed: phone"),
    ]


def _set_fields(values: ProfileValues) -> list[str]:
    return [name for name, value in vars(values).items() if value not in ("", False, "ja")]
