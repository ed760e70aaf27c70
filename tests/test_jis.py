"""ISO-2022-JP done right: the substitution table, the compose check, an issue sent through a real server."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from outreach.composer import senders
from outreach.config import Settings, SmtpRelay
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.errors import InvalidInput
from outreach.issues import charset_substitutions, compose_issue, get_issue
from outreach.jis import SUBSTITUTIONS, Substitution, replacement, substitute
from outreach.models import Organization
from outreach.render import Renderer, uncarried
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases.approval import Acting
from outreach.usecases.sends import send_now
from subscribers.directory import add_subscriber
from subscribers.links import SignedLinks
from tests.smtp_server import SmtpServer

ISO = "iso-2022-jp"
# Every kind of substitution, as staff would paste it from Windows, and what the reader gets.
TYPED = "～－①⑳Ⅳⅸ㈱㈲㍿㍻㎞№髙﨑德𠮷 ｶﾞｲﾑｼｮｳ｢ﾀﾋﾞﾚｼﾞ｣ \ufa10 –•©"
READ = "〜−(1)(20)IVix(株)(有)株式会社平成kmNo.高崎徳吉 ガイムショウ「タビレジ」 塚 -・(c)"


def _carried(text: str) -> bool:
    try:
        text.encode(ISO)
    except UnicodeEncodeError:
        return False
    return True


def test_every_entry_of_the_table_is_needed_and_carried() -> None:
    assert len(SUBSTITUTIONS) > 90
    for original, new in SUBSTITUTIONS.items():
        assert not _carried(original), f"{original!r} needs no substitution"
        assert _carried(new), f"{original!r} -> {new!r} is not carried either"
    assert substitute(TYPED, ISO)[0] == READ
    assert _carried(READ)


def test_the_common_ones_named_in_the_issue() -> None:
    for original, new in {
        "～": "〜",
        "－": "−",
        "①": "(1)",
        "⑳": "(20)",
        "㈱": "(株)",
        "㈲": "(有)",
        "髙": "高",
        "﨑": "崎",
    }.items():
        assert replacement(original) == new
    assert substitute("ｶﾞｲﾑｼｮｳ", ISO) == ("ガイムショウ", (Substitution("ｶﾞｲﾑｼｮｳ", "ガイムショウ", 1),))


def test_substitutions_are_counted_and_nothing_changes_when_nothing_needs_to() -> None:
    text, made = substitute("㈱A～㈱B～㈱", ISO)
    assert text == "(株)A〜(株)B〜(株)"
    assert made == (Substitution("㈱", "(株)", 3), Substitution("～", "〜", 2))
    assert str(made[0]) == "㈱ → (株) ×3"
    assert substitute("㈱～", "utf-8") == ("㈱～", ())
    assert substitute("第8回本会合〜", ISO) == ("第8回本会合〜", ())


def test_what_has_no_substitution_stays_and_is_named() -> None:
    text, made = substitute("草彅①café", ISO)
    assert text == "草彅(1)café"
    assert made == (Substitution("①", "(1)", 1),)
    problem = uncarried("草彅①café", ISO, where="a summary")
    assert problem is not None
    assert problem.chars == "é彅"  # not ①
    assert str(problem) == "é (U+00E9), 彅 (U+5F45) in a summary"
    assert uncarried("①～髙", ISO, where="a summary") is None


def _compose_iso(database: Database, summary: str) -> int:
    with database.session() as session:
        meeting = find_meeting(session, MeetingKey("plenary", 8))
        meeting.summary_ja = summary
        issue = compose_issue(session, meetings=[meeting], issue_date=date(2024, 2, 15), charset=ISO)
        return issue.number


def test_compose_accepts_what_it_can_substitute_and_tells_each_and_where(seeded_db: Database) -> None:
    number = _compose_iso(seeded_db, f"報告：{TYPED}")
    with seeded_db.session() as session:
        told = charset_substitutions(session, get_issue(session, number))
    assert [place.where for place in told] == ["the Japanese summary of plenary:8"]
    assert "～ → 〜" in str(told[0])
    assert "ｶﾞｲﾑｼｮｳ｢ﾀﾋﾞﾚｼﾞ｣ → ガイムショウ「タビレジ」" in str(told[0])  # a run of half-width kana, whole
    assert str(told[0]).endswith(" in the Japanese summary of plenary:8")


def test_compose_refuses_what_it_cannot_substitute_naming_it(seeded_db: Database) -> None:
    with pytest.raises(InvalidInput, match=r"彅 \(U\+5F45\) in the Japanese summary of plenary:8") as refused:
        _compose_iso(seeded_db, "草彅委員と髙橋委員が報告①")
    assert "①" not in str(refused.value)
    assert "髙" not in str(refused.value)


def test_the_rendition_lists_its_substitutions_and_declares_its_charset(
    seeded_db: Database, settings: Settings
) -> None:
    number = _compose_iso(seeded_db, f"報告：{TYPED}")
    with seeded_db.session() as session:
        issue = get_issue(session, number)
        network = session.scalars(select(Organization).where(Organization.slug == "network")).one()
        rendition = Renderer(sender=senders(settings)).render(issue, network, "ja")
    made = {(each.original, each.replacement) for each in rendition.substitutions}
    assert ("～", "〜") in made
    assert ("㈱", "(株)") in made
    html = rendition.html.fill(dict.fromkeys(rendition.html.fields, "x"))
    assert 'content="text/html; charset=iso-2022-jp"' in html
    assert 'charset="utf-8"' not in html
    assert READ in html
    with seeded_db.session() as session:
        utf8 = compose_issue(session, meetings=[], issue_date=date(2024, 3, 1))
        plain = Renderer(sender=senders(settings)).render(utf8, network, "ja")
    assert plain.substitutions == ()
    assert 'content="text/html; charset=utf-8"' in plain.html.fill(dict.fromkeys(plain.html.fields, "x"))


def _decoded_parts(message: EmailMessage) -> dict[str, str]:
    parts = {}
    for part in message.iter_parts():
        assert part.get_content_charset() == ISO
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        parts[part.get_content_subtype()] = payload.decode(ISO)
    return parts


def test_an_iso_2022_jp_issue_with_each_substitution_arrives_decoded_as_expected(
    seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    number = _compose_iso(seeded_db, f"報告：{TYPED}")
    with seeded_db.session() as session:
        add_subscriber(session, "reader@example.jp", company="株式会社テスト", name="高橋 一郎")
    relayed = replace(settings, smtp=SmtpRelay.from_url(smtp_server.url))
    run = asyncio.run(
        send_now(
            seeded_db,
            relayed,
            number,
            links=SignedLinks(relayed),
            by=Acting("cli:tester", ApprovalPolicy.NONE),
        )
    )
    assert run.totals.get("sent") == 1
    [received] = smtp_server.handler.to("reader@example.jp")
    assert received.data.isascii()  # ISO-2022-JP is 7-bit through and through
    parts = _decoded_parts(received.parsed())
    assert f"報告：{READ}" in parts["plain"]
    assert READ in parts["html"]
    assert "charset=iso-2022-jp" in parts["html"]
    for original in "～①㈱髙ｶ":
        assert original not in parts["plain"]
