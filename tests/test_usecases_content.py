"""Meeting outcomes as staff record and edit them; an edit that an unsent issue cannot carry is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from outreach import states
from outreach.cli import cli
from outreach.db import Database
from outreach.errors import InvalidInput, NotFound
from outreach.issues import compose_issue, get_issue
from outreach.models import Meeting
from outreach.usecases.content import (
    Link,
    MeetingChanges,
    MeetingRecord,
    edit_meeting,
    list_meetings,
    record_meeting,
)
from outreach.usecases.drafts import NewDraft, compose
from tests.conftest import snapshot

NOW = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
RECORD = MeetingRecord(
    key="plenary:9",
    held_on=date(2026, 11, 20),
    summary_ja="第9回本会合を開催しました。",
    format="hybrid",
    opened_by_ja="外務副大臣",
    links=[Link("開催結果", "Outcome", "https://www.anzen.mofa.go.jp/anzen_info/network.html")],
)


def _edit(database: Database, key: str, **changes: Any) -> list[str]:
    with database.session() as session:
        return edit_meeting(session, key, MeetingChanges(**changes)).warnings


def _stored(database: Database, key: str) -> Meeting:
    with database.session() as session:
        [meeting] = [meeting for meeting in list_meetings(session) if meeting.key == key]
        return meeting


def _compose_with(database: Database, key: str, charset: str) -> int:
    with database.session() as session:
        return compose(session, NewDraft([key], charset=charset)).issue.number


# --- record ---------------------------------------------------------------------------------------------


def test_record_meeting_returns_the_meeting_with_its_links(db: Database) -> None:
    with db.session() as session:
        recorded = record_meeting(session, RECORD)
        assert recorded.key == "plenary:9"

    stored = _stored(db, "plenary:9")
    assert stored.summary_en == "第9回本会合を開催しました。"  # no English summary: the Japanese one
    assert stored.format == "hybrid"
    assert stored.opened_by_ja == "外務副大臣"
    assert stored.links == [
        {
            "title_ja": "開催結果",
            "title_en": "Outcome",
            "url": "https://www.anzen.mofa.go.jp/anzen_info/network.html",
        }
    ]


@pytest.mark.parametrize(
    ("key", "message"), [("plenary-9", "kind:number"), ("plenary:8", "plenary:8 is already recorded")]
)
def test_record_meeting_refuses_a_bad_key_or_a_duplicate(seeded_db: Database, key: str, message: str) -> None:
    before = snapshot(seeded_db)
    with pytest.raises(InvalidInput, match=message), seeded_db.session() as session:
        record_meeting(session, MeetingRecord(key=key, held_on=date(2026, 1, 1), summary_ja="本文"))
    assert snapshot(seeded_db) == before


# --- edit -----------------------------------------------------------------------------------------------


def test_edit_changes_what_is_given_and_keeps_the_rest(db: Database) -> None:
    with db.session() as session:
        record_meeting(session, RECORD)

    warnings = _edit(
        db, "plenary:9", held_on=date(2026, 11, 21), format="online", summary_en="The 9th plenary.", links=[]
    )

    stored = _stored(db, "plenary:9")
    assert warnings == []
    assert (stored.held_on, stored.format, stored.summary_en) == (
        date(2026, 11, 21),
        "online",
        "The 9th plenary.",
    )
    assert stored.links == []
    assert stored.summary_ja == RECORD.summary_ja
    assert stored.opened_by_ja == "外務副大臣"


def test_an_english_summary_that_was_the_japanese_one_follows_it(db: Database) -> None:
    with db.session() as session:
        record_meeting(session, RECORD)

    _edit(db, "plenary:9", summary_ja="  改訂した要旨\n")

    stored = _stored(db, "plenary:9")
    assert (stored.summary_ja, stored.summary_en) == ("改訂した要旨", "改訂した要旨")


@pytest.mark.parametrize(
    ("key", "changes", "error", "message"),
    [
        ("plenary:99", {}, NotFound, "no meeting plenary:99"),
        ("plenary:8", {"format": "zoom"}, InvalidInput, "format must be one of"),
        ("plenary:8", {"summary_ja": " \n"}, InvalidInput, "summary is empty"),
        ("plenary:8", {"links": [Link("x", "x", "javascript:alert(1)")]}, InvalidInput, "http"),
    ],
)
def test_edit_refusals_change_nothing(
    seeded_db: Database, key: str, changes: dict[str, object], error: type[Exception], message: str
) -> None:
    before = snapshot(seeded_db)
    with pytest.raises(error, match=message):
        _edit(seeded_db, key, held_on=date(2030, 1, 1), **changes)
    assert snapshot(seeded_db) == before


def test_an_edit_that_an_unsent_iso_2022_jp_draft_cannot_carry_is_refused(seeded_db: Database) -> None:
    _compose_with(seeded_db, "plenary:8", "iso-2022-jp")
    before = snapshot(seeded_db)

    with pytest.raises(InvalidInput) as caught:
        _edit(seeded_db, "plenary:8", summary_ja="参加企業（𥔎を含む）が報告しました。")

    assert str(caught.value) == (
        "𥔎 (U+2550E) in the Japanese summary of plenary:8: "
        "issue No. 1 (iso-2022-jp) cannot carry them; use utf-8 or replace them"
    )
    assert snapshot(seeded_db) == before


def test_a_link_title_is_checked_too_and_every_unsent_issue_is_named(seeded_db: Database) -> None:
    _compose_with(seeded_db, "plenary:8", "iso-2022-jp")
    _compose_with(seeded_db, "plenary:8", "utf-8")
    _compose_with(seeded_db, "plenary:8", "iso-2022-jp")

    with pytest.raises(InvalidInput) as caught:
        _edit(seeded_db, "plenary:8", links=[Link("資料彅", "Slides", "https://example.jp/")])

    assert "彅 (U+5F45) in the title of link 1 of plenary:8 (ja)" in str(caught.value)
    assert "issues No. 1 and No. 3 (iso-2022-jp) cannot carry them" in str(caught.value)


def test_the_same_edit_is_accepted_when_the_draft_is_utf8(seeded_db: Database) -> None:
    _compose_with(seeded_db, "plenary:8", "utf-8")

    warnings = _edit(seeded_db, "plenary:8", summary_ja="参加企業（𥔎を含む）が報告しました。")

    assert warnings == ["issue No. 1 (draft) carries plenary:8: preview it again"]
    assert "𥔎" in _stored(seeded_db, "plenary:8").summary_ja


def test_a_sent_iso_2022_jp_issue_does_not_stop_an_edit_but_is_named(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        [meeting] = [meeting for meeting in list_meetings(session) if meeting.key == "plenary:8"]
        issue = compose_issue(session, meetings=[meeting], charset="iso-2022-jp")
        states.start(issue, now=NOW)
        states.finish(issue, now=NOW)

    warnings = _edit(seeded_db, "plenary:8", summary_ja="𥔎の報告")

    assert warnings == ["plenary:8 went out in issue No. 1: its recipients keep the text they got"]
    with seeded_db.session() as session:
        assert get_issue(session, 1).charset == "iso-2022-jp"


# --- the command line -----------------------------------------------------------------------------------


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_cli_meeting_edit_reads_files_and_refuses_what_an_iso_draft_cannot_carry(
    env: dict[str, str], db: Database, tmp_path: Path
) -> None:
    assert _run("seed").exit_code == 0
    (tmp_path / "en.md").write_text("The 8th plenary, edited.", encoding="utf-8")
    (tmp_path / "ja.md").write_text("第8回本会合彅", encoding="utf-8")

    edited = _run(
        "meeting", "edit", "plenary:8", "--date", "2024-01-31", "--summary-en", "en.md", "--no-links"
    )
    assert edited.exit_code == 0, edited.output
    assert "edited plenary:8 held on 2024-01-31" in edited.output
    stored = _stored(db, "plenary:8")
    assert (stored.summary_en, stored.links) == ("The 8th plenary, edited.", [])

    assert _run("issue", "compose", "--meeting", "plenary:8", "--charset", "iso-2022-jp").exit_code == 0
    before = snapshot(db)
    refused = _run("meeting", "edit", "plenary:8", "--summary", "ja.md")
    assert refused.exit_code == 2
    assert "彅 (U+5F45) in the Japanese summary of plenary:8" in refused.output
    assert snapshot(db) == before
    assert _run("meeting", "edit", "plenary:8", "--link", "x|https://a.example", "--no-links").exit_code == 2
