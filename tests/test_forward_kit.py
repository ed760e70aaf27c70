"""The forward kit's engine (outreach.members.kit, outreach.members.forwarding), on both databases: the .eml,
the HTML and the text of an issue that went out, in the organization's charset, with the network's public
pages where a rendition has personal links; the downloads recorded and the forwarding reported."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from outreach.composer import senders
from outreach.config import Settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.errors import InvalidInput, NotFound
from outreach.issues import compose_issue
from outreach.members import forwarding
from outreach.members.kit import FORMATS, PublicPages, build_file, generic_values
from outreach.members.models import ForwardReport, KitDownload, KitFormat, OrganizationProfile
from outreach.models import IssueStatus, Organization
from outreach.render import Renderer
from outreach.staff.models import AuditEvent
from subscribers.links import SignedLinks
from tests.conftest import snapshot

NOW = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
BASE = "https://mailmag.example.jp"
# What a personal link looks like (subscribers.links.SignedLinks), and the preview's made-up one.
PERSONAL = ("/unsubscribe/", "/preferences/", "/confirm/", "?subject=unsubscribe", "@@OUTREACH", "PREVIEW")


def kit_setting(db: Database) -> None:
    """Issue No. 1 sent and No. 2 a draft; JCCI's companies prefer ISO-2022-JP (set before compose, which
    checks that the issue fits)."""
    with db.session() as session:
        session.execute(update(Organization).where(Organization.slug == "jcci").values(charset="iso-2022-jp"))
        first = compose_issue(
            session, meetings=[find_meeting(session, MeetingKey("plenary", 7))], issue_date=date(2022, 12, 1)
        )
        first.status = IssueStatus.SENT
        compose_issue(
            session, meetings=[find_meeting(session, MeetingKey("plenary", 8))], issue_date=date(2024, 2, 15)
        )


@pytest.fixture
def kit_db(seeded_db: Database) -> Database:
    kit_setting(seeded_db)
    return seeded_db


def _build(session: Session, settings: Settings, slug: str, language: str, extension: str) -> bytes:
    return build_file(
        session,
        renderer=Renderer(sender=senders(settings)),
        links=PublicPages(settings.base_url, settings.unsubscribe_mailto),
        number=1,
        slug=slug,
        language=language,
        kit_format=FORMATS[extension],
        now=NOW,
    ).content


def _parsed(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)


def _parts(message: EmailMessage) -> dict[str, tuple[str, str, str]]:
    """Each part by its type: (charset, transfer encoding, text with LF line ends)."""
    return {
        part.get_content_type(): (
            part.get_content_charset() or "",
            part["Content-Transfer-Encoding"],
            part.get_content().replace("\r\n", "\n"),
        )
        for part in message.iter_parts()
    }


def _no_personal_link(text: str) -> None:
    for form in PERSONAL:
        assert form not in text, form


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_eml_is_a_message_to_send_from_the_network_without_personal_parts(
    kit_db: Database, settings: Settings, language: str
) -> None:
    with kit_db.session() as session:
        data = _build(session, settings, "jetro", language, "eml")
        text = _build(session, settings, "jetro", language, "txt").decode("utf-8")
        html = _build(session, settings, "jetro", language, "html").decode("utf-8")
    message = _parsed(data)
    assert not message.defects
    assert message["From"].addresses[0].addr_spec == settings.sender_address
    assert message["From"].addresses[0].display_name == (
        settings.sender_name_ja if language == "ja" else settings.sender_name_en
    )
    for absent in ("To", "Cc", "Bcc", "Reply-To", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Id"):
        assert message[absent] is None, absent
    assert message["Subject"].startswith("【海外安全メールマガジン 第1号】" if language == "ja" else "[SME")
    assert message["Date"].datetime == NOW
    assert message["Message-ID"].endswith("@example.jp>")
    assert (message["MIME-Version"], message["X-Unsent"]) == ("1.0", "1")
    assert message.get_content_type() == "multipart/alternative"
    parts = _parts(message)
    assert list(parts) == ["text/plain", "text/html"]
    assert {charset for charset, _, _ in parts.values()} == {"utf-8"}
    assert parts["text/plain"][2] == text
    assert parts["text/html"][2] == html
    _no_personal_link(data.decode("ascii") + text + html)
    prefix = "" if language == "ja" else "/en"
    lines = text.splitlines()
    assert any(line.endswith(f"{BASE}{prefix}/unsubscribe") for line in lines)
    assert any(line.endswith(f"{BASE}{prefix}/") for line in lines)
    assert f'href="{BASE}{prefix}/unsubscribe"' in html
    assert f'href="{BASE}{prefix}/"' in html
    assert ("ご担当者様" if language == "ja" else "Dear reader,") in text
    assert ("ご登録の皆様 宛" if language == "ja" else "sent to our registered readers.") in text
    assert html.startswith("<!DOCTYPE html>")
    assert html.rstrip().endswith("</html>")
    assert 'style="' in html  # the CSS inlined, as sent


def test_the_kit_fills_the_rendition_as_sent_with_public_pages(kit_db: Database, settings: Settings) -> None:
    links = PublicPages(BASE, "unsubscribe@example.jp")
    assert generic_values("en", links) == {
        "salutation": "Dear reader,",
        "email": "our registered readers",
        "unsubscribe_url": f"{BASE}/en/unsubscribe",
        "preferences_url": f"{BASE}/en/",
    }
    signed = SignedLinks(settings).for_subscriber(1, "ja")  # what a subscriber's own copy has
    with kit_db.session() as session:
        every = b"".join(
            _build(session, settings, slug, language, extension)
            for slug in ("jetro", "jcci")
            for language in ("ja", "en")
            for extension in FORMATS
        )
    for personal in (signed.unsubscribe_url, signed.preferences_url, signed.unsubscribe_mailto):
        assert personal.split("/")[-1].encode() not in every


def test_an_organization_that_prefers_iso_2022_jp_gets_its_eml_in_it(
    kit_db: Database, settings: Settings
) -> None:
    with kit_db.session() as session:
        data = _build(session, settings, "jcci", "ja", "eml")
        text = _build(session, settings, "jcci", "ja", "txt").decode("utf-8")
        html = _build(session, settings, "jcci", "ja", "html").decode("utf-8")
        utf8 = _build(session, settings, "jetro", "ja", "html").decode("utf-8")
    assert data.isascii()
    assert b"Subject: =?iso-2022-jp?b?" in data
    message = _parsed(data)
    parts = _parts(message)
    assert {(charset, encoding) for charset, encoding, _ in parts.values()} == {("iso-2022-jp", "7bit")}
    assert parts["text/plain"][2] == text
    assert "ご担当者様" in text
    assert "日本商工会議所" in text
    assert message["Subject"].startswith("【海外安全メールマガジン 第1号】")
    # The files are UTF-8 whatever the message's charset, and say so.
    assert 'content="text/html; charset=iso-2022-jp"' in parts["text/html"][2]
    assert 'content="text/html; charset=utf-8"' in html
    assert parts["text/html"][2].replace("charset=iso-2022-jp", "charset=utf-8", 1) == html
    assert 'content="text/html; charset=utf-8"' in utf8
    _no_personal_link(data.decode("ascii") + text + html)


def _profile(session: Session, slug: str, **values: str) -> None:
    organization = session.scalars(select(Organization).where(Organization.slug == slug)).one()
    session.add(OrganizationProfile(organization_id=organization.id, **values))


def test_the_profile_gives_the_eml_its_from_and_reply_to(kit_db: Database, settings: Settings) -> None:
    with kit_db.session() as session:
        _profile(
            session,
            "jcci",
            kit_from_name_ja="日本商工会議所 国際部",
            kit_from_address="kokusai@jcci.example.jp",
            kit_reply_to="reply@jcci.example.jp",
            greeting_ja="会員企業の皆様へ、日本商工会議所からお届けします。",
        )
        _profile(session, "jetro", kit_from_name_ja="ジェトロ", kit_from_address="not an address")
    with kit_db.session() as session:
        japanese = _parsed(_build(session, settings, "jcci", "ja", "eml"))
        english = _parsed(_build(session, settings, "jcci", "en", "eml"))
        unsafe = _parsed(_build(session, settings, "jetro", "ja", "eml"))
        text = _build(session, settings, "jcci", "ja", "txt").decode("utf-8")
    # The organization's own rendition: its profile's greeting, as its companies got it.
    assert "会員企業の皆様へ、日本商工会議所からお届けします。" in text
    assert str(japanese["From"]) == "日本商工会議所 国際部 <kokusai@jcci.example.jp>"
    assert str(japanese["Reply-To"]) == "reply@jcci.example.jp"
    assert japanese["Message-ID"].endswith("@jcci.example.jp>")
    # No English name in the profile: the organization's English name.
    assert english["From"].addresses[0].display_name == "The Japan Chamber of Commerce and Industry (JCCI)"
    assert english["From"].addresses[0].addr_spec == "kokusai@jcci.example.jp"
    # An address a header cannot carry is no address: the network's sender.
    assert unsafe["From"].addresses[0].addr_spec == settings.sender_address
    assert unsafe["Reply-To"] is None


def test_only_an_issue_that_went_out_has_a_kit(kit_db: Database, settings: Settings) -> None:
    with kit_db.session() as session:
        for number, slug, language in (
            (2, "jetro", "ja"),
            (9, "jetro", "ja"),
            (1, "nobody", "ja"),
            (1, "jetro", "fr"),
        ):
            with pytest.raises(NotFound):
                build_file(
                    session,
                    renderer=Renderer(sender=senders(settings)),
                    links=PublicPages(BASE, "unsubscribe@example.jp"),
                    number=number,
                    slug=slug,
                    language=language,
                    kit_format=KitFormat.EML,
                    now=NOW,
                )


def _download(session: Session, settings: Settings, extension: str, by: str = "a@jetro.example.jp") -> None:
    forwarding.download(
        session,
        renderer=Renderer(sender=senders(settings)),
        links=PublicPages(BASE, "unsubscribe@example.jp"),
        number=1,
        slug="jetro",
        language="ja",
        kit_format=FORMATS[extension],
        by=by,
        actor=f"staff:{by}",
        ip="192.0.2.1",
        now=NOW,
    )


def _report(session: Session, companies: int, note: str = "") -> None:
    forwarding.report_forwarding(
        session,
        number=1,
        slug="jetro",
        companies=companies,
        note=note,
        by="a@jetro.example.jp",
        actor="staff:a@jetro.example.jp",
        ip="192.0.2.1",
        now=NOW,
    )


def test_downloads_are_recorded_and_audited(kit_db: Database, settings: Settings) -> None:
    with kit_db.session() as session:
        _download(session, settings, "eml")
        _download(session, settings, "txt", by="b@jetro.example.jp")
    with kit_db.session() as session:
        rows = session.scalars(select(KitDownload).order_by(KitDownload.id)).all()
        assert [(row.format, row.language, row.downloaded_by) for row in rows] == [
            (KitFormat.EML, "ja", "a@jetro.example.jp"),
            (KitFormat.TEXT, "ja", "b@jetro.example.jp"),
        ]
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "kit.download")).all()
        assert [(event.actor, event.target, event.detail, event.ip) for event in events] == [
            ("staff:a@jetro.example.jp", "issue No. 1", "jetro: ja eml", "192.0.2.1"),
            ("staff:b@jetro.example.jp", "issue No. 1", "jetro: ja text", "192.0.2.1"),
        ]
        listed = forwarding.kit_issues(session, "jetro")
        assert [(issue.number, issue.downloads, issue.companies) for issue in listed] == [(1, 2, None)]
        assert forwarding.kit_issues(session, "jcci")[0].downloads == 0


def test_a_later_report_replaces_the_earlier_one(kit_db: Database, settings: Settings) -> None:
    with kit_db.session() as session:
        _report(session, 80, "会員企業へ転送")
    with kit_db.session() as session:
        _report(session, 120)
    with kit_db.session() as session:
        reports = session.scalars(select(ForwardReport)).all()
        assert [(report.companies, report.note) for report in reports] == [(120, "")]
        details = session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "kit.forwarded").order_by(AuditEvent.id)
        ).all()
        assert details == ["jetro: 80 companies (会員企業へ転送)", "jetro: 120 companies"]
        assert forwarding.kit_issues(session, "jetro")[0].companies == 120


@pytest.mark.parametrize(("companies", "note"), [(-1, ""), (1_000_001, ""), (5, "x" * 501)])
def test_a_report_out_of_bounds_is_refused_and_changes_nothing(
    kit_db: Database, companies: int, note: str
) -> None:
    before = snapshot(kit_db)
    with pytest.raises(InvalidInput), kit_db.session() as session:
        _report(session, companies, note)
    assert snapshot(kit_db) == before
    with kit_db.session() as session, pytest.raises(NotFound):
        forwarding.report_forwarding(
            session, number=2, slug="jetro", companies=1, note="", by="x", actor="x", ip=None, now=NOW
        )
    with kit_db.session() as session:
        assert session.scalar(select(func.count()).select_from(ForwardReport)) == 0
