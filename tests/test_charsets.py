"""A charset per organization and per subscriber: each reader's mail goes in theirs (their own preference,
else their organization's, else the issue's), and compose checks an issue against ISO-2022-JP when anyone
prefers it."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from outreach.cli import cli
from outreach.composer import senders
from outreach.config import Settings, SmtpRelay
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.errors import InvalidInput
from outreach.issues import get_issue
from outreach.mailer import SmtpMailer
from outreach.models import Organization
from outreach.render import Renderer, Sender
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases import drafts
from outreach.usecases.approval import Acting
from outreach.usecases.sends import send_now
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.links import SignedLinks
from tests.conftest import snapshot
from tests.smtp_server import SmtpServer

ISO = "iso-2022-jp"
# What staff type on Windows: ① and ㈱ are NEC extensions and ～ is the full-width tilde, none of them in
# ISO-2022-JP, each with the replacement Japanese mail has always used.
TYPED = "説明会①を10:00～12:00に開きました。㈱サンプルが登壇しました。"
SUBSTITUTED = "説明会(1)を10:00〜12:00に開きました。(株)サンプルが登壇しました。"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _summary(database: Database, text: str) -> None:
    with database.session() as session:
        find_meeting(session, MeetingKey("plenary", 8)).summary_ja = text


@pytest.fixture
def ready(env: dict[str, str], seeded_db: Database) -> Database:
    _summary(seeded_db, TYPED)
    return seeded_db


def _organization(database: Database, slug: str) -> Organization:
    with database.session() as session:
        found = session.scalar(select(Organization).where(Organization.slug == slug))
    assert found is not None
    return found


def _add(
    database: Database, email: str, slug: str | None, *, name: str = "", charset: str | None = None
) -> None:
    with database.session() as session:
        organization = organization_or_none(session, slug)
        added = add_subscriber(session, email, company="株式会社テスト", name=name, organization=organization)
        added.charset = charset


def _compose(database: Database, *, renderer: Renderer | None = None) -> drafts.Drafted:
    with database.session() as session:
        return drafts.compose(session, drafts.NewDraft(meetings=["plenary:8"]), renderer=renderer)


def _send(database: Database, settings: Settings, port: int, number: int) -> None:
    relay = SmtpRelay(host="127.0.0.1", port=port, security="none")
    sent = asyncio.run(
        send_now(
            database,
            replace(settings, smtp=relay),
            number,
            mailer=SmtpMailer(relay),
            links=SignedLinks(settings),
            by=Acting("cli:test", ApprovalPolicy.NONE),
        )
    )
    assert sent.finished


def _charsets(message: EmailMessage) -> list[str | None]:
    return [part.get_content_charset() for part in message.iter_parts()]


def _flat_text(message: EmailMessage) -> str:
    """The plain-text part as the standard library decodes it, without the wrapping's line breaks."""
    text_part, _ = message.iter_parts()
    assert isinstance(text_part, EmailMessage)
    return "".join(text_part.get_content().split())


# --- sending ------------------------------------------------------------------------------------------


def test_a_utf8_issue_reaches_each_reader_in_the_charset_they_or_their_organization_prefer(
    ready: Database, settings: Settings, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    assert run("org", "set-charset", "jetro", ISO).exit_code == 0
    # One who prefers ISO-2022-JP, from the roster's charset column (no organization: the network's own).
    (tmp_path / "roster.csv").write_text(
        "email,company,charset\r\nprefers@example.jp,株式会社一,ISO-2022-JP\r\n", encoding="utf-8"
    )
    imported = run("subscribers", "import", "roster.csv", "--org", "network", "--consent", "vouched")
    assert imported.exit_code == 0, imported.output
    _add(ready, "member@example.jp", "jetro")  # their organization prefers it
    _add(ready, "neither@example.jp", "jcci")  # nobody prefers anything: the issue's UTF-8
    _add(ready, "own-utf8@example.jp", "jetro", charset="utf-8")  # their own preference comes first
    _add(ready, "takahashi@example.jp", "jetro", name="髙橋 一郎")  # a name ISO-2022-JP cannot carry

    drafted = _compose(ready)
    assert drafted.issue.charset == "utf-8"
    _send(ready, settings, smtp_server.port, drafted.issue.number)

    # (the parts' charset, their text as the standard library decodes it, the rendition's charset)
    expected = {
        "prefers@example.jp": (ISO, SUBSTITUTED, ISO),
        "member@example.jp": (ISO, SUBSTITUTED, ISO),
        "neither@example.jp": ("utf-8", TYPED, "utf-8"),
        "own-utf8@example.jp": ("utf-8", TYPED, "utf-8"),
        # The jetro rendition, substituted, with its parts in UTF-8 for this one message: nobody's name is
        # changed. Its Subject stays an ISO-2022-JP encoded word, as any header may be.
        "takahashi@example.jp": ("utf-8", SUBSTITUTED, ISO),
    }
    for address, (charset, text, rendition) in expected.items():
        [received] = smtp_server.handler.to(address)
        message = received.parsed()
        assert _charsets(message) == [charset, charset], address
        assert text in _flat_text(message), address
        assert "海外安全メールマガジン" in str(message["Subject"]), address
        head = received.data.split(b"\r\n\r\n", 1)[0].decode("ascii").lower()
        assert (f"subject: =?{ISO}?" in head) == (rendition == ISO), address
        if charset == ISO:
            assert received.data.isascii()  # ISO-2022-JP goes as 7bit, as Japanese mail clients expect
            _, html_part = message.iter_parts()
            assert isinstance(html_part, EmailMessage)
            assert f'charset={ISO}"' in html_part.get_content()  # the page says what it is in
    takahashi = smtp_server.handler.to("takahashi@example.jp")[0].parsed()
    assert "髙橋" in str(takahashi["To"])
    _, fallback_html = takahashi.iter_parts()
    assert isinstance(fallback_html, EmailMessage)
    assert 'charset=utf-8"' in fallback_html.get_content()  # the one message in UTF-8 says so in its page


def test_an_organization_back_to_default_gets_the_issues_own_charset(
    ready: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    assert run("org", "set-charset", "jetro", ISO).exit_code == 0
    assert run("org", "set-charset", "JETRO", "default").exit_code == 0
    _add(ready, "member@example.jp", "jetro")

    number = _compose(ready).issue.number
    _send(ready, settings, smtp_server.port, number)

    [received] = smtp_server.handler.to("member@example.jp")
    assert _charsets(received.parsed()) == ["utf-8", "utf-8"]
    assert TYPED in _flat_text(received.parsed())


def test_a_preference_set_after_compose_that_the_issue_does_not_fit_gets_the_issues_charset(
    ready: Database, settings: Settings, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    _summary(ready, "草彅委員が報告")
    number = _compose(ready).issue.number  # nobody preferred ISO-2022-JP then
    _add(ready, "member@example.jp", "jetro")
    assert run("org", "set-charset", "jetro", ISO).exit_code == 0

    _send(ready, settings, smtp_server.port, number)  # the send is not stopped for it

    [received] = smtp_server.handler.to("member@example.jp")
    assert _charsets(received.parsed()) == ["utf-8", "utf-8"]
    assert "草彅委員が報告" in _flat_text(received.parsed())
    assert "issue No. 1 for jetro (ja) goes in utf-8 to readers who prefer iso-2022-jp" in caplog.text


# --- org set-charset ----------------------------------------------------------------------------------


def test_org_set_charset_stores_the_preference_and_default_clears_it(ready: Database) -> None:
    result = run("org", "set-charset", " JETRO ", ISO)

    assert result.exit_code == 0, result.output
    assert "jetro's companies now get each issue in iso-2022-jp" in result.output
    assert _organization(ready, "jetro").charset == ISO
    listed = {org["slug"]: org["charset"] for org in json.loads(run("org", "list", "--json").output)}
    assert (listed["jetro"], listed["jcci"]) == (ISO, None)

    cleared = run("org", "set-charset", "jetro", "default")

    assert cleared.exit_code == 0, cleared.output
    assert "the issue's own charset" in cleared.output
    assert _organization(ready, "jetro").charset is None


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("jetro", "shift_jis"), "'shift_jis' is not one of 'utf-8', 'iso-2022-jp', 'default'"),
        (("nosuch", ISO), "no organization 'nosuch'"),
    ],
)
def test_org_set_charset_refuses_a_bad_value_or_organization_with_exit_2(
    ready: Database, args: tuple[str, str], said: str
) -> None:
    before = snapshot(ready)

    result = run("org", "set-charset", *args)

    assert result.exit_code == 2
    assert said in result.output
    assert snapshot(ready) == before


# --- compose ------------------------------------------------------------------------------------------


def test_compose_refuses_what_iso_2022_jp_cannot_carry_once_a_subscriber_prefers_it(ready: Database) -> None:
    _summary(ready, "草彅委員が報告")
    assert _compose(ready).issue.number == 1  # nobody prefers ISO-2022-JP: UTF-8 carries 彅
    _add(ready, "prefers@example.jp", None, charset=ISO)
    before = snapshot(ready)

    with pytest.raises(InvalidInput) as refused:
        _compose(ready)

    message = str(refused.value)
    assert "彅 (U+5F45) in the Japanese summary of plenary:8" in message
    assert "iso-2022-jp (which readers of network prefer) cannot carry them" in message
    assert snapshot(ready) == before
    with ready.session() as session, pytest.raises(InvalidInput, match="彅"):
        drafts.edit(session, 1, drafts.DraftChanges(subject_ja="【第1号】お知らせ"))


def test_compose_checks_an_organizations_texts_when_it_prefers_iso_2022_jp(ready: Database) -> None:
    with ready.session() as session:
        jcci = session.scalars(select(Organization).where(Organization.slug == "jcci")).one()
        jcci.greeting_ja = "𥔎各社の皆様へ"  # a kanji with no JIS X 0208 form
    assert _compose(ready).issue.number == 1
    assert run("org", "set-charset", "jcci", ISO).exit_code == 0

    with pytest.raises(InvalidInput) as refused:
        _compose(ready)

    assert "𥔎 (U+2550E) in the greeting of jcci (ja)" in str(refused.value)
    assert "which readers of jcci prefer" in str(refused.value)


def test_a_preference_of_someone_not_active_or_of_utf8_checks_nothing(ready: Database) -> None:
    _summary(ready, "草彅委員が報告")
    _add(ready, "gone@example.jp", None, charset=ISO)
    assert run("subscribers", "unsubscribe", "gone@example.jp").exit_code == 0
    _add(ready, "own-utf8@example.jp", "jetro", charset="utf-8")

    drafted = _compose(ready)

    assert drafted.issue.charset == "utf-8"
    assert drafted.substitutions == []


def test_compose_tells_what_iso_2022_jp_replaces_for_the_readers_who_prefer_it(
    ready: Database, settings: Settings
) -> None:
    _add(ready, "member@example.jp", "jetro", charset=ISO)

    renderer = Renderer(sender=senders(settings))  # jetro's renditions are also rendered in ISO-2022-JP
    drafted = _compose(ready, renderer=renderer)

    assert drafted.issue.charset == "utf-8"
    [told] = drafted.substitutions
    assert "① → (1)" in told
    assert "～ → 〜" in told
    assert "㈱ → (株)" in told
    assert told.endswith(" in the Japanese summary of plenary:8, for readers who prefer iso-2022-jp")


def test_compose_renders_the_renditions_readers_prefer_in_iso_2022_jp_to_check_the_rest(
    ready: Database, settings: Settings
) -> None:
    odd_sender = {**senders(settings), "ja": Sender("鷗橋事務局", "mailmag@example.jp", "東京都千代田区")}
    assert _compose(ready, renderer=Renderer(sender=odd_sender)).issue.number == 1  # all in UTF-8
    _add(ready, "member@example.jp", "jetro", charset=ISO)
    before = snapshot(ready)

    with pytest.raises(InvalidInput) as refused:
        _compose(ready, renderer=Renderer(sender=odd_sender))

    assert "鷗 (U+9DD7) in the rendition of issue No. 2 for jetro (ja)" in str(refused.value)
    assert "templates or the sender" in str(refused.value)
    assert snapshot(ready) == before


def test_a_preview_of_an_organization_that_prefers_iso_2022_jp_is_in_it(
    ready: Database, settings: Settings, tmp_path: Path
) -> None:
    assert run("org", "set-charset", "jetro", ISO).exit_code == 0
    number = _compose(ready).issue.number
    before = snapshot(ready)

    renderer = Renderer(sender=senders(settings))
    with ready.session() as session:
        shown = drafts.preview(
            session, number, organization="jetro", language="ja", out=tmp_path / "p.html",
            renderer=renderer, base_url=settings.base_url,
        )  # fmt: skip
        other = drafts.preview(
            session, number, organization="jcci", language="ja", out=tmp_path / "q.html",
            renderer=renderer, base_url=settings.base_url,
        )  # fmt: skip

    assert "～ → 〜 ×2" in shown.substitutions  # the text part and the HTML one
    assert other.substitutions == ()
    assert 'charset=iso-2022-jp"' in shown.path.read_text(encoding="utf-8")
    assert snapshot(ready) == before  # the issue lent its charset for the preview, and has its own back
    with ready.session() as session:
        assert get_issue(session, number).charset == "utf-8"


def test_issue_compose_prints_what_the_charset_replaced(ready: Database) -> None:
    _add(ready, "member@example.jp", "jetro", charset=ISO)
    result = run("issue", "compose", "--meeting", "plenary:8")
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if "replaced for the charset" in line]
    assert "～ → 〜" in line
    assert line.endswith("for readers who prefer iso-2022-jp")
