"""`outreach alerts`: poll, list and rules, run in-process against real databases and a local HTTP feed;
the words they print and their exit codes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from outreach.alerts.models import AlertPoll
from outreach.db import Database
from tests.conftest import snapshot
from tests.feed_server import FIXTURES, FeedServer
from tests.test_cli import ready, run  # noqa: F401 (the fixture, by name below)

# The entries were published on 2026-11-30: polled more than OUTREACH_ALERTS_MAX_AGE later they are recorded
# only, so the tests that print them poll with OUTREACH_ALERTS=off, for the same words whatever the day.

ENTRY_HEADER = ["key", "published", "(JST)", "type", "places", "rule", "action", "state", "issue", "title"]


def _feed(state: int) -> str:
    return str(FIXTURES / f"newarrival_{state}.xml")


@pytest.mark.usefixtures("ready")
def test_poll_says_what_it_found_and_a_second_poll_finds_nothing_new(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_ALERTS", "off")
    first = run("alerts", "poll", "--feed", _feed(1))
    second = run("alerts", "poll", "--feed", _feed(1))

    assert first.exit_code == 0, first.output
    assert first.output.splitlines() == [
        f"polled {_feed(1)} (poll 1): 4 entries, 4 new (now 1, digest 3), 4 recorded only; "
        "1 without a key skipped",
        "  OUTREACH_ALERTS=off: nothing to send",
        "  `outreach alerts list` shows the entries and what became of them",
    ]
    assert second.exit_code == 0
    assert second.output.splitlines()[0] == (
        f"polled {_feed(1)} (poll 2): 4 entries, 0 new; 1 without a key skipped"
    )


def test_a_feed_that_cannot_be_used_exits_8_in_one_line_and_is_recorded(ready: Database) -> None:  # noqa: F811  # noqa: F811
    with FeedServer() as server:
        before = {name: rows for name, rows in snapshot(ready).items() if name != "alert_polls"}
        failed = run("alerts", "poll", "--feed", server.url("/500"))
        bomb = run("alerts", "poll", "--feed", str(FIXTURES / "bomb.xml"))
        after = {name: rows for name, rows in snapshot(ready).items() if name != "alert_polls"}

    assert (failed.exit_code, bomb.exit_code) == (8, 8)
    assert failed.output == f"error: {server.url('/500')}: HTTP 500 Internal Server Error\n"
    assert bomb.output.startswith(
        f"error: {FIXTURES / 'bomb.xml'}: refused unread: it declares a document type"
    )
    assert len(bomb.output.splitlines()) == 1
    assert after == before
    with ready.session() as session:
        polls = [(poll.result, poll.http_status) for poll in session.scalars(select(AlertPoll))]
    assert polls == [("error", 500), ("error", None)]


@pytest.mark.usefixtures("ready")
def test_list_shows_each_entry_and_what_became_of_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_ALERTS", "off")
    for state in (1, 2, 3):
        assert run("alerts", "poll", "--feed", _feed(state)).exit_code == 0

    listing = run("alerts", "list").output.splitlines()
    recorded = run("alerts", "list", "--state", "recorded", "--limit", "3").output.splitlines()
    [raised] = [row for row in json.loads(run("alerts", "list", "--json").output) if row["key"] == "2026T051"]

    assert listing[0].split() == ENTRY_HEADER
    assert [line.split()[0] for line in listing[1:]] == [
        "2026T052",
        "2026T051",
        "170002",
        "2026C102",
        "2026T050",
        "2026C101",
        "170001",
        "160900",
    ]  # fmt: skip newest first
    assert listing[2].split()[:10] == [
        "2026T051", "2026-11-30", "19:30:00", "T40", "ミャンマー", "risk-raised", "now", "recorded", "-",
        "ミャンマーの危険情報【一部地域の危険レベル引き上げ】",
    ]  # fmt: skip
    assert "フィリピン、インドネシア" in listing[3]
    assert [line.split()[0] for line in recorded[1:]] == ["2026T052", "2026T051", "170002"]
    assert run("alerts", "list", "--state", "waiting").output == "no entries in state waiting\n"
    assert raised["note"] == "OUTREACH_ALERTS=off"
    assert raised["change"] == "raised"
    assert raised["places"] == ["ミャンマー"]
    assert raised["published_at"] == "2026-11-30T10:30:00+00:00"
    assert raised["issue"] is None


@pytest.mark.usefixtures("ready")
def test_an_empty_list_says_so() -> None:
    assert run("alerts", "list").output == "no entries yet: `outreach alerts poll` reads the feed\n"
    assert run("alerts", "list", "--state", "issued").output == "no entries in state issued\n"


@pytest.mark.usefixtures("ready")
def test_rules_marks_what_the_setting_changed_and_names_the_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_ALERTS_RULES", "wide-area=now")
    monkeypatch.setenv("OUTREACH_ALERTS", "off")

    shown = run("alerts", "rules")

    assert shown.exit_code == 0
    lines = shown.output.splitlines()
    assert lines[0].split()[:3] == ["class", "action", "setting"]
    rows = {line.split()[0]: line.split() for line in lines[1:12]}
    assert rows["wide-area"][:4] == ["wide-area", "now", "changed", "広域情報"]
    assert rows["risk-raised"][:4] == ["risk-raised", "now", "-", "危険情報：危険レベルの引き上げ"]
    assert lines[12] == "OUTREACH_ALERTS=off: entries are recorded and listed; nothing is composed or sent"
    assert lines[13] == "  changed by OUTREACH_ALERTS_RULES; the defaults were wide-area=digest"


@pytest.mark.usefixtures("ready")
def test_a_bad_rules_setting_exits_2_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTREACH_ALERTS_RULES", "wide-area=soon")

    for args in (("alerts", "rules"), ("alerts", "poll", "--feed", _feed(1))):
        result = run(*args)
        assert result.exit_code == 2
        assert result.output == (
            "error: OUTREACH_ALERTS_RULES: 'soon' for wide-area is not now, digest or record\n"
        )


def _fresh_feed(path: Path) -> str:
    """One raised risk level for Thailand, published a minute ago (so within OUTREACH_ALERTS_MAX_AGE)."""
    published = (datetime.now(timezone(timedelta(hours=9))) - timedelta(minutes=1)).strftime(
        "%Y/%m/%d %H:%M:%S"
    )
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<opendata dataType="A" lastModified="{published}">\n'
        f"<mail><keyCd>cli-0001</keyCd><infoType>T40</infoType><leaveDate>{published}</leaveDate>"
        "<area><cd>10</cd><name>アジア</name></area>"
        '<country areaCd="10"><cd>0066</cd><name>タイ</name></country>'
        "<title>タイの危険情報【危険レベル引き上げ】</title><lead>試験用の文です。</lead>"
        "<riskLevel2>1</riskLevel2></mail>\n</opendata>\n",
        encoding="utf-8",
    )
    return str(path)


@pytest.mark.usefixtures("ready")
def test_poll_in_auto_mode_delivers_the_alert_once_to_the_subscribers_of_its_country(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_ALERTS", "auto")
    assert run("subscribers", "add", "thai@example.jp", "--countries", "タイ").exit_code == 0
    assert run("subscribers", "add", "france@example.jp", "--countries", "フランス").exit_code == 0
    feed = _fresh_feed(tmp_path / "feed.xml")

    first = run("alerts", "poll", "--feed", feed)
    again = run("alerts", "poll", "--feed", feed)

    assert first.exit_code == 0, first.output
    assert "alert issue No. 100001 composed with 1 entries, sending" in first.output
    assert "issue No. 100001: this run: 1 sent" in first.output
    assert "0 new" in again.output
    assert "this run" not in again.output
    sent = sorted(path.name for path in (tmp_path / "var" / "outbox").rglob("*.eml"))
    assert len(sent) == 1
    assert sent[0].endswith("thai@example.jp.eml")
