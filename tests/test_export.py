"""Rosters for associations: `outreach subscribers export` (CSV, UTF-8 with BOM) and import with consent."""

from __future__ import annotations

import email
import email.policy
import io
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from outreach.cli import cli
from outreach.db import Database
from outreach.models import ConsentEvent, Subscriber, SubscriberStatus, SubscriberTopic, Topic
from subscribers.addresses import InvalidAddress, normalize_address
from subscribers.directory import add_subscriber
from subscribers.export import export_roster
from subscribers.roster import parse_roster
from tests.conftest import snapshot
from tests.smtp_server import SmtpServer


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def roster(env: dict[str, str], seeded_db: Database) -> Database:
    """JETRO's companies in every state, one of them with a name Excel would take for a formula."""
    for email_address, company in [
        ("b.active@example.jp", "株式会社ベータ"),
        ("a.active@example.jp", '=HYPERLINK("http://evil.example","x")'),
        ("c.gone@example.jp", "シー商事"),
    ]:
        assert run("subscribers", "add", email_address, "--company", company, "--org", "jetro").exit_code == 0
    assert run("subscribers", "add", "other@example.jp", "--org", "jcci").exit_code == 0
    assert run("subscribers", "add", "nobody@example.jp").exit_code == 0
    assert run("subscribers", "unsubscribe", "C.Gone@example.jp").exit_code == 0
    with seeded_db.session() as session:
        beta = session.scalar(select(Subscriber).where(Subscriber.email == "b.active@example.jp"))
        assert beta is not None
        beta.topics = [SubscriberTopic(topic=Topic.TOOLS), SubscriberTopic(topic=Topic.MEETINGS)]
    return seeded_db


def test_an_export_is_utf8_with_bom_and_crlf_and_reads_back_as_a_roster(
    roster: Database, tmp_path: Path
) -> None:
    result = run("subscribers", "export", "--org", "jetro", "--out", "jetro.csv")

    assert result.exit_code == 0, result.output
    assert "wrote 2 subscriber(s) of jetro" in result.output
    data = (tmp_path / "jetro.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data[3:].decode("utf-8").split("\r\n")
    assert (
        lines[0]
        == "メールアドレス,会社名,氏名,言語,状態,受け取る内容,同意の経路,確認日時,文字コード,国・地域"
    )
    assert lines[1].startswith("a.active@example.jp,\"'=HYPERLINK(")  # made plain text for Excel
    assert lines[2].startswith(
        "b.active@example.jp,株式会社ベータ,,日本語,配信中,会合結果・安全対策ツール,事務局,"
    )
    assert lines[2].endswith(" JST,,")  # and no charset or countries of their own
    assert lines[3] == ""
    assert [row.email for row in parse_roster(data)] == ["a.active@example.jp", "b.active@example.jp"]


def test_all_states_english_headers_and_the_networks_own_roster(roster: Database) -> None:
    everyone = run("subscribers", "export", "--org", "jetro", "--all", "--lang", "en")
    network = run("subscribers", "export", "--org", "network")

    assert everyone.exit_code == 0
    text = everyone.stdout_bytes.decode("utf-8-sig")
    assert text.splitlines()[0] == (
        "email,company,name,language,status,topics,consent source,confirmed at,charset,countries"
    )
    assert "c.gone@example.jp,シー商事,,Japanese,unsubscribed,all,staff," in text
    assert "other@example.jp" not in text
    assert network.stdout_bytes.decode("utf-8-sig").splitlines()[1].startswith("nobody@example.jp,")


def test_exporting_an_unknown_organization_exits_2(roster: Database) -> None:
    result = CliRunner().invoke(cli, ["subscribers", "export", "--org", "nosuch"])
    assert result.exit_code == 2
    assert "no organization 'nosuch'" in result.output


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8-sig")
    return str(path)


def test_a_vouched_import_is_active_at_once_and_leaves_an_unsubscribed_address_alone(
    roster: Database, tmp_path: Path
) -> None:
    path = _write(tmp_path, "email,company\r\nnew@example.jp,新社\r\nc.gone@example.jp,シー商事\r\n")

    result = run("subscribers", "import", path, "--org", "jetro", "--consent", "vouched")

    assert result.exit_code == 0, result.output
    assert "added 1, 1 already subscribed" in result.output
    assert "active now" in result.output
    with roster.session() as session:
        states = dict(session.execute(select(Subscriber.email, Subscriber.status)).all())
        source = session.scalar(select(Subscriber.consent_source).where(Subscriber.email == "new@example.jp"))
        event = session.scalars(select(ConsentEvent).where(ConsentEvent.email == "new@example.jp")).one()
    assert states["new@example.jp"] == SubscriberStatus.ACTIVE
    assert states["c.gone@example.jp"] == SubscriberStatus.UNSUBSCRIBED
    assert source == "import"
    assert (event.action, event.source) == ("imported", "import")
    assert list((tmp_path / "var").rglob("notices/*.eml")) == []


def test_an_import_to_confirm_mails_each_new_address_a_link_and_keeps_it_pending(
    roster: Database, tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_SMTP_URL", smtp_server.url)
    path = _write(tmp_path, "メールアドレス,会社名\r\none@example.jp,一社\r\ntwo@example.jp,二社\r\n")
    before = snapshot(roster)

    dry = run("subscribers", "import", path, "--org", "jcci", "--lang", "en", "--dry-run")
    assert "would mail 2 confirmation link(s)" in dry.output
    assert snapshot(roster) == before
    assert smtp_server.handler.messages == []

    result = run("subscribers", "import", path, "--org", "jcci", "--lang", "en")

    assert result.exit_code == 0, result.output
    assert "added 2, 0 already subscribed" in result.output
    assert "mailed 2 confirmation link(s)" in result.output
    with roster.session() as session:
        pending = session.scalars(
            select(Subscriber).where(Subscriber.email.in_(["one@example.jp", "two@example.jp"]))
        )
        assert {(row.status, row.language) for row in pending} == {(SubscriberStatus.PENDING, "en")}
    [received] = smtp_server.handler.to("one@example.jp")
    message = email.message_from_bytes(received.data, policy=email.policy.default)
    assert message["Subject"].startswith("[Action needed]")
    body = message.get_body(("plain",))
    assert body is not None
    assert "https://mailmag.example.jp/en/confirm/" in body.get_content()

    again = run("subscribers", "import", path, "--org", "jcci", "--lang", "en")
    assert "added 0, 2 already subscribed" in again.output
    assert "mailed 2 confirmation link(s)" in again.output  # still pending: the links go again


def test_purge_pending_and_a_staff_unsubscribe(roster: Database) -> None:
    purge = run("subscribers", "purge-pending")
    assert purge.exit_code == 0
    assert "purged 0 pending subscription(s) older than 7 days" in purge.output

    missing = CliRunner().invoke(cli, ["subscribers", "unsubscribe", "ghost@example.jp"])
    assert missing.exit_code == 2
    assert "not a subscriber" in missing.output


def test_an_exported_roster_imported_again_adds_nothing_though_cells_were_guarded(
    roster: Database, tmp_path: Path
) -> None:
    for address, company, name in [
        ("=calc@example.jp", "+81 商事", "@taro"),
        ("-dash@example.jp", "'-x", ""),
    ]:
        added = run(
            "subscribers", "add", "--company", company, "--name", name, "--org", "jetro", "--", address
        )
        assert added.exit_code == 0, added.output
    assert run("subscribers", "export", "--org", "jetro", "--out", "jetro.csv").exit_code == 0
    exported = (tmp_path / "jetro.csv").read_text(encoding="utf-8-sig")
    assert "'=calc@example.jp,'+81 商事,'@taro," in exported
    assert "'-dash@example.jp,''-x,," in exported
    before = snapshot(roster)

    result = run("subscribers", "import", "jetro.csv", "--org", "jetro", "--consent", "vouched")

    assert result.exit_code == 0, result.output
    assert "added 0, 4 already subscribed" in result.output
    assert snapshot(roster) == before


def test_an_imported_charset_is_stored_exported_and_read_back(roster: Database, tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "email,company,charset\r\n"
        "new@example.jp,新社,ISO-2022-JP\r\n"  # a new address: stored
        "b.active@example.jp,株式会社ベータ,iso-2022-jp\r\n"  # a known one: its preference changes
        "a.active@example.jp,,\r\n",  # an empty cell: a known address keeps what it has
    )
    with roster.session() as session:
        alpha = session.scalars(select(Subscriber).where(Subscriber.email == "a.active@example.jp")).one()
        alpha.charset = "utf-8"

    result = run("subscribers", "import", path, "--org", "jetro", "--consent", "vouched")

    assert result.exit_code == 0, result.output
    assert "added 1, 2 already subscribed" in result.output
    with roster.session() as session:
        charsets = dict(session.execute(select(Subscriber.email, Subscriber.charset)).all())
    assert (charsets["new@example.jp"], charsets["b.active@example.jp"]) == ("iso-2022-jp", "iso-2022-jp")
    assert (charsets["a.active@example.jp"], charsets["other@example.jp"]) == ("utf-8", None)

    assert run("subscribers", "export", "--org", "jetro", "--lang", "en", "--out", "jetro.csv").exit_code == 0
    data = (tmp_path / "jetro.csv").read_bytes()
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].endswith(",charset,countries")
    assert [line.split(",")[-2] for line in lines[1:]] == ["utf-8", "iso-2022-jp", "iso-2022-jp"]
    assert [(row.email, row.charset) for row in parse_roster(data)] == [
        ("a.active@example.jp", "utf-8"),
        ("b.active@example.jp", "iso-2022-jp"),
        ("new@example.jp", "iso-2022-jp"),
    ]


def test_a_roster_with_a_bad_charset_is_refused_with_its_line_and_changes_nothing(
    roster: Database, tmp_path: Path
) -> None:
    path = _write(tmp_path, "email,文字コード\r\nnew@example.jp,\r\nnext@example.jp,JIS\r\n")
    before = snapshot(roster)

    result = CliRunner().invoke(
        cli, ["subscribers", "import", path, "--org", "jetro", "--consent", "vouched"]
    )

    assert result.exit_code == 2
    assert "line 3: the charset must be utf-8 or iso-2022-jp" in result.output
    assert snapshot(roster) == before


def _usable(local_part: str) -> bool:
    try:
        normalize_address(f"{local_part}@example.jp")
    except InvalidAddress:
        return False
    return True


# Local parts and texts that lean towards what the export guards: = + - @ TAB CR, and apostrophes before them.
_LOCAL_PARTS = st.text(alphabet="abcxyz019=+-'!#$%&*/?^_`{|}~", min_size=1, max_size=12).filter(_usable)
_TEXTS = st.one_of(
    st.text(max_size=40),
    st.builds(
        str.__add__,
        st.sampled_from(["=", "+", "-", "@", "\t", "\r", "'", "'=", "''+", " -", "\u202e="]),
        st.text(max_size=20),
    ),
)

_CHARSETS = st.sampled_from([None, "utf-8", "iso-2022-jp"])


@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    people=st.lists(
        st.tuples(_LOCAL_PARTS, _TEXTS, _TEXTS, _CHARSETS), max_size=6, unique_by=lambda person: person[0]
    )
)
def test_export_then_import_gives_the_same_rows(
    db: Database, people: list[tuple[str, str, str, str | None]]
) -> None:
    """Any subscribers staff can add, exported and read back as a roster, are the same rows."""
    out = io.StringIO(newline="")
    with db.session(dry_run=True) as session:
        added = []
        for local_part, company, name, charset in people:
            subscriber = add_subscriber(session, f"{local_part}@example.jp", company=company, name=name)
            subscriber.charset = charset
            added.append(subscriber)
        expected = sorted((each.email, each.company, each.name, each.charset) for each in added)
        assert export_roster(session, out, organization=None) == len(people)

    rows = parse_roster(out.getvalue().encode("utf-8-sig"))

    assert sorted((row.email, row.company, row.name, row.charset) for row in rows) == expected
