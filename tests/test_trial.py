"""`outreach issue test-send`: one rendition to one address through the real relay, its subject marked as a
test; no ledger row."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from outreach.cli import cli
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue
from outreach.models import Issue
from tests.conftest import snapshot
from tests.smtp_server import SmtpServer


@pytest.fixture
def draft(
    seeded_db: Database, env: dict[str, str], smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> int:
    monkeypatch.setenv("OUTREACH_SMTP_URL", smtp_server.url)
    with seeded_db.session() as session:
        return compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 8))]).number


def test_a_test_send_reaches_one_address_in_the_organizations_rendition_and_writes_no_ledger(
    seeded_db: Database, draft: int, smtp_server: SmtpServer
) -> None:
    before = snapshot(seeded_db)
    for _ in range(2):
        result = CliRunner().invoke(
            cli, ["issue", "test-send", str(draft), "--to", "Kouhou@Example.JP", "--org", "JETRO"]
        )
        assert result.exit_code == 0, result.output
        assert "(jetro, ja) to Kouhou@example.jp: 250" in result.output

    received = smtp_server.handler.to("Kouhou@example.jp")
    assert len(received) == 2
    first, second = (message.parsed() for message in received)
    assert first["Message-ID"] != second["Message-ID"]  # a mail service drops a Message-ID it has seen
    assert str(first["Subject"]).startswith("【テスト】")  # nobody takes a test for the issue itself
    assert "第1号" in str(first["Subject"])
    body = first.get_body(("html",))
    assert body is not None
    assert "日本貿易振興機構より" in body.get_content()  # JETRO's own greeting
    assert snapshot(seeded_db) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--to", "not-an-address"], "not an address"),
        (["--to", "a@example.jp", "--org", "nowhere"], "no organization 'nowhere'"),
        (["--to", "a@example.jp", "--lang", "fr"], "Invalid value"),
    ],
)
def test_a_test_send_with_bad_input_exits_2_and_sends_nothing(
    draft: int, smtp_server: SmtpServer, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(cli, ["issue", "test-send", str(draft), *args])

    assert result.exit_code == 2
    assert message in result.output
    assert smtp_server.handler.messages == []


def test_an_english_test_says_so_in_its_subject_and_an_iso_2022_jp_one_too(
    seeded_db: Database, draft: int, smtp_server: SmtpServer
) -> None:
    with seeded_db.session() as session:
        session.get_one(Issue, 1).charset = "iso-2022-jp"
    for lang in ("en", "ja"):
        result = CliRunner().invoke(
            cli, ["issue", "test-send", str(draft), "--to", "a@example.jp", "--lang", lang]
        )
        assert result.exit_code == 0, result.output

    english, japanese = (message.parsed() for message in smtp_server.handler.to("a@example.jp"))
    assert str(english["Subject"]).startswith("[TEST] [SME Overseas Safety Network Newsletter No. 1]")
    assert str(japanese["Subject"]).startswith("【テスト】")
    assert japanese.get_body(("html",)).get_content_charset() == "iso-2022-jp"  # type: ignore[union-attr]
