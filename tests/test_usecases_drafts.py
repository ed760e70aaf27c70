"""Drafts: compose, edit, delete and preview; the charset is checked over every text of every rendition."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from outreach import states
from outreach.cli import cli
from outreach.content import MeetingKey, add_meeting, find_meeting
from outreach.db import Database
from outreach.errors import InvalidInput, NotFound
from outreach.issues import get_issue
from outreach.models import IssueStatus, Organization, Promotion
from outreach.render import Renderer, Sender
from outreach.usecases import drafts
from tests.conftest import snapshot

FEBRUARY = date(2024, 2, 15)
JULY = date(2025, 7, 1)
NOW = datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
ISO = "iso-2022-jp"
SENDER = {
    language: Sender("ネットワーク事務局", "mailmag@example.jp", "東京都千代田区")
    for language in ("ja", "en")
}


def _compose(database: Database, *keys: str, **options: Any) -> drafts.Drafted:
    with database.session() as session:
        return drafts.compose(session, drafts.NewDraft(meetings=keys, **options))


def _add_meeting(database: Database, key: str, summary_ja: str, **options: Any) -> None:
    with database.session() as session:
        add_meeting(
            session, MeetingKey.parse(key), held_on=date(2026, 11, 20), format=None, summary_ja=summary_ja,
            summary_en=options.pop("summary_en", ""), **options,
        )  # fmt: skip


def _send(database: Database, number: int) -> None:
    """Take an issue to `sent` along the lifecycle's own moves."""
    with database.session() as session:
        issue = get_issue(session, number)
        states.start(issue, now=NOW)
        states.finish(issue, now=NOW)


def _numbers_and_statuses(database: Database) -> list[tuple[int, str]]:
    with database.session() as session:
        return [(issue.number, str(issue.status)) for issue in drafts.list_issues(session)]


# --- compose --------------------------------------------------------------------------------------------


def test_compose_makes_a_draft_with_no_warning_for_a_new_meeting(seeded_db: Database) -> None:
    composed = _compose(seeded_db, "plenary:8", issue_date=FEBRUARY)

    assert composed.warnings == []
    assert composed.issue.number == 1
    assert composed.issue.status == IssueStatus.DRAFT
    assert "第8回本会合" in composed.issue.subject_ja
    assert _numbers_and_statuses(seeded_db) == [(1, "draft")]


def test_compose_warns_of_a_meeting_that_went_out_or_is_in_another_issue(seeded_db: Database) -> None:
    _compose(seeded_db, "plenary:8", issue_date=FEBRUARY)
    _send(seeded_db, 1)

    second = _compose(seeded_db, "plenary:8", "secretariat:5", issue_date=FEBRUARY)
    third = _compose(seeded_db, "plenary:8", issue_date=FEBRUARY)

    assert second.warnings == ["plenary:8 already went out in issue No. 1"]
    assert third.warnings == [
        "plenary:8 already went out in issue No. 1",
        "plenary:8 is also in issue No. 2 (draft)",
    ]


@pytest.mark.parametrize(
    ("keys", "error", "message"),
    [
        (("plenary:99",), NotFound, "no meeting plenary:99"),
        (("plenary:8", "plenary-8"), InvalidInput, "kind:number"),
    ],
)
def test_compose_refuses_unknown_or_malformed_meetings_and_changes_nothing(
    seeded_db: Database, keys: tuple[str, ...], error: type[Exception], message: str
) -> None:
    before = snapshot(seeded_db)
    with pytest.raises(error, match=message):
        _compose(seeded_db, *keys)
    assert snapshot(seeded_db) == before


# --- edit -----------------------------------------------------------------------------------------------


def test_a_new_date_recomputes_the_promotions(seeded_db: Database) -> None:
    _compose(seeded_db, "plenary:8", issue_date=FEBRUARY)

    with seeded_db.session() as session:
        edited = drafts.edit(session, 1, drafts.DraftChanges(issue_date=JULY))
    with seeded_db.session() as session:
        stored = get_issue(session, 1)
        slugs = [item.promotion.slug for item in stored.items if item.promotion is not None]
        meetings = [item.meeting.key for item in stored.items if item.meeting is not None]
        positions = [item.position for item in stored.items]

    assert edited.issue.issue_date == JULY
    assert "summer-safety-month" in slugs
    assert meetings == ["plenary:8"]
    assert positions == sorted(set(positions))


def test_a_derived_subject_follows_new_meetings_and_a_written_one_stays(seeded_db: Database) -> None:
    _compose(seeded_db, "plenary:8", issue_date=FEBRUARY, subject_en="Special issue")

    with seeded_db.session() as session:
        edited = drafts.edit(session, 1, drafts.DraftChanges(meetings=["secretariat:5"]))
        subject_ja, subject_en = edited.issue.subject_ja, edited.issue.subject_en
        keys = [item.meeting.key for item in edited.issue.items if item.meeting is not None]

    assert subject_ja == "【海外安全メールマガジン 第1号】第5回幹事会の開催結果"
    assert subject_en == "Special issue"
    assert keys == ["secretariat:5"]


def test_edit_changes_subjects_and_charset_and_keeps_the_rest(seeded_db: Database) -> None:
    composed = _compose(seeded_db, "plenary:8", issue_date=FEBRUARY)
    sections = [(item.meeting_id, item.promotion_id) for item in composed.issue.items]

    with seeded_db.session() as session:
        drafts.edit(
            session,
            1,
            drafts.DraftChanges(subject_ja="  臨時号\nのお知らせ ", subject_en="Extra", charset=ISO),
        )
    with seeded_db.session() as session:
        stored = get_issue(session, 1)
        assert (stored.subject_ja, stored.subject_en, stored.charset) == ("臨時号 のお知らせ", "Extra", ISO)
        assert stored.issue_date == FEBRUARY
        assert [(item.meeting_id, item.promotion_id) for item in stored.items] == sections


def test_only_a_draft_can_be_edited_or_deleted(seeded_db: Database) -> None:
    _compose(seeded_db, "plenary:8", issue_date=FEBRUARY)
    with seeded_db.session() as session:
        states.schedule(get_issue(session, 1), at=NOW)
    before = snapshot(seeded_db)

    refused = r"issue No\. 1 is scheduled: only a draft can be edited"
    with pytest.raises(InvalidInput, match=refused), seeded_db.session() as session:
        drafts.edit(session, 1, drafts.DraftChanges(subject_ja="x"))
    with pytest.raises(InvalidInput, match="only a draft can be deleted"), seeded_db.session() as session:
        drafts.delete(session, 1)
    assert snapshot(seeded_db) == before


def test_editing_or_deleting_a_missing_issue_is_not_found(seeded_db: Database) -> None:
    with pytest.raises(NotFound, match=r"no issue No\. 7"), seeded_db.session() as session:
        drafts.edit(session, 7, drafts.DraftChanges())
    with pytest.raises(NotFound, match=r"no issue No\. 7"), seeded_db.session() as session:
        drafts.delete(session, 7)


# --- delete ---------------------------------------------------------------------------------------------


def test_deleting_the_newest_draft_frees_its_number(seeded_db: Database) -> None:
    _compose(seeded_db, "plenary:8")
    _compose(seeded_db, "plenary:7")

    with seeded_db.session() as session:
        deleted = drafts.delete(session, 2)
    again = _compose(seeded_db, "secretariat:5")

    assert str(deleted) == "deleted draft No. 2; the next issue composed is No. 2 again"
    assert again.issue.number == 2
    assert "第2号" in again.issue.subject_ja
    assert _numbers_and_statuses(seeded_db) == [(1, "draft"), (2, "draft")]


def test_deleting_an_older_draft_leaves_a_gap_that_it_names(seeded_db: Database) -> None:
    for key in ("plenary:6", "plenary:7", "plenary:8"):
        _compose(seeded_db, key)

    with seeded_db.session() as session:
        deleted = drafts.delete(session, 2)
    later = _compose(seeded_db, "secretariat:5")

    assert str(deleted) == (
        "deleted draft No. 2; No. 2 stays unused, as later issues keep their numbers: "
        "the next issue composed is No. 4"
    )
    assert later.issue.number == 4
    assert [number for number, _ in _numbers_and_statuses(seeded_db)] == [1, 3, 4]
    with seeded_db.session() as session:
        assert "第3号" in get_issue(session, 3).subject_ja  # not renumbered


# --- the charset ----------------------------------------------------------------------------------------


def test_a_circled_digit_in_a_summary_is_refused_at_compose_naming_it_and_where(seeded_db: Database) -> None:
    _add_meeting(seeded_db, "plenary:9", "議題彅：安全対策の共有")
    before = snapshot(seeded_db)

    with pytest.raises(InvalidInput) as caught:
        _compose(seeded_db, "plenary:9", charset=ISO)

    message = str(caught.value)
    assert "彅 (U+5F45) in the Japanese summary of plenary:9" in message
    assert "彅 (U+5F45) in the English summary of plenary:9" in message  # it fell back to the Japanese
    assert message.endswith("iso-2022-jp cannot carry them; use utf-8 or replace them")
    assert "\n" not in message
    assert snapshot(seeded_db) == before


def test_the_same_issue_in_utf8_is_accepted(seeded_db: Database) -> None:
    _add_meeting(seeded_db, "plenary:9", "議題彅：安全対策の共有")

    composed = _compose(seeded_db, "plenary:9")

    assert composed.issue.charset == "utf-8"
    assert _numbers_and_statuses(seeded_db) == [(1, "draft")]


def test_one_message_lists_every_place_meetings_promotions_and_organizations(seeded_db: Database) -> None:
    _add_meeting(seeded_db, "plenary:9", "議題彅")
    with seeded_db.session() as session:
        jetro = session.scalar(select(Organization).where(Organization.slug == "jetro"))
        assert jetro is not None
        jetro.greeting_ja = "𥔎各社の皆様へ"
        tabireg = session.scalar(select(Promotion).where(Promotion.slug == "tabireg"))
        assert tabireg is not None
        tabireg.body_en = "Register 丂 before you go"
    before = snapshot(seeded_db)

    with pytest.raises(InvalidInput) as caught:
        _compose(seeded_db, "plenary:9", charset=ISO, issue_date=FEBRUARY, subject_en="Café news")

    message = str(caught.value)
    for place in (
        "é (U+00E9) in the English subject",
        "彅 (U+5F45) in the Japanese summary of plenary:9",
        "丂 (U+4E02) in the body of promotion tabireg (en)",
        "𥔎 (U+2550E) in the greeting of jetro (ja)",
    ):
        assert place in message
    assert snapshot(seeded_db) == before


def test_a_link_title_is_checked_in_both_languages(seeded_db: Database) -> None:
    links = [{"title_ja": "資料", "title_en": "Slides 丂", "url": "https://example.jp/"}]
    _add_meeting(seeded_db, "plenary:9", "本文", summary_en="text", links=links)

    with pytest.raises(InvalidInput, match=r"丂 \(U\+4E02\) in the title of link 1 of plenary:9 \(en\)"):
        _compose(seeded_db, "plenary:9", charset=ISO)


def test_changing_a_draft_to_iso_2022_jp_checks_every_text(seeded_db: Database) -> None:
    _add_meeting(seeded_db, "plenary:9", "議題彅")
    _compose(seeded_db, "plenary:9")
    before = snapshot(seeded_db)

    refused = r"彅 \(U\+5F45\) in the Japanese summary of plenary:9"
    with pytest.raises(InvalidInput, match=refused), seeded_db.session() as session:
        drafts.edit(session, 1, drafts.DraftChanges(charset=ISO, subject_en="New subject"))

    assert snapshot(seeded_db) == before


def test_adding_a_meeting_to_an_iso_2022_jp_draft_checks_it(seeded_db: Database) -> None:
    _add_meeting(seeded_db, "plenary:9", "鷗橋委員が報告")
    _compose(seeded_db, "plenary:8", charset=ISO)
    before = snapshot(seeded_db)

    refused = r"鷗 \(U\+9DD7\) in the Japanese summary of plenary:9"
    with pytest.raises(InvalidInput, match=refused), seeded_db.session() as session:
        drafts.edit(session, 1, drafts.DraftChanges(meetings=["plenary:8", "plenary:9"]))

    assert snapshot(seeded_db) == before


def test_rendering_every_rendition_catches_what_is_outside_the_issue(seeded_db: Database) -> None:
    odd_sender = {**SENDER, "ja": Sender("鷗橋事務局", "mailmag@example.jp", "東京都千代田区")}
    before = snapshot(seeded_db)

    with pytest.raises(InvalidInput) as caught, seeded_db.session() as session:
        drafts.compose(
            session, drafts.NewDraft(["plenary:8"], charset=ISO), renderer=Renderer(sender=odd_sender)
        )

    message = str(caught.value)
    assert "鷗 (U+9DD7) in the rendition of issue No. 1 for network (ja)" in message
    assert "templates or the sender" in message
    assert snapshot(seeded_db) == before


def test_an_iso_2022_jp_draft_that_fits_renders_for_every_organization(seeded_db: Database) -> None:
    started = time.perf_counter()
    with seeded_db.session() as session:
        composed = drafts.compose(
            session, drafts.NewDraft(["plenary:8"], charset=ISO), renderer=Renderer(sender=SENDER)
        )
        edited = drafts.edit(
            session, 1, drafts.DraftChanges(issue_date=JULY), renderer=Renderer(sender=SENDER)
        )
    elapsed = time.perf_counter() - started

    assert composed.issue.charset == edited.issue.charset == ISO
    assert elapsed < 30  # 2 x 62 renditions: about 2 s here; the bound only catches a runaway


# --- preview --------------------------------------------------------------------------------------------


def test_preview_writes_one_organizations_rendition(seeded_db: Database, tmp_path: Path) -> None:
    _compose(seeded_db, "plenary:8", issue_date=FEBRUARY)

    with seeded_db.session() as session:
        written = drafts.preview(
            session, 1, organization="jetro", language="en", out=tmp_path / "p" / "jetro.txt",
            renderer=Renderer(sender=SENDER), base_url="https://mailmag.example.jp", text=True,
        )  # fmt: skip

    body = written.path.read_text(encoding="utf-8")
    assert written.subject.startswith("[SME Overseas Safety Network Newsletter No. 1]")
    assert "Japan External Trade Organization" in body
    assert "https://mailmag.example.jp/unsubscribe/PREVIEW" in body


def test_preview_of_an_unknown_organization_is_not_found(seeded_db: Database, tmp_path: Path) -> None:
    _compose(seeded_db, "plenary:8")
    with pytest.raises(NotFound, match="no organization 'nosuch'"), seeded_db.session() as session:
        drafts.preview(
            session, 1, organization="nosuch", language="ja", out=tmp_path / "x.html",
            renderer=Renderer(sender=SENDER), base_url="https://mailmag.example.jp",
        )  # fmt: skip
    assert not (tmp_path / "x.html").exists()


# --- the command line -----------------------------------------------------------------------------------


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def ready(env: dict[str, str], db: Database) -> Database:
    assert _run("seed").exit_code == 0
    return db


def test_cli_compose_in_iso_2022_jp_with_a_circled_digit_exits_2_with_one_line(
    ready: Database, tmp_path: Path
) -> None:
    (tmp_path / "p9.md").write_text("第9回本会合では議題彅を話し合いました。", encoding="utf-8")
    added = _run("meeting", "add", "plenary:9", "--date", "2026-11-20", "--summary", "p9.md")
    assert added.exit_code == 0, added.output
    before = snapshot(ready)

    result = _run("issue", "compose", "--meeting", "plenary:9", "--charset", "iso-2022-jp")

    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: 彅 (U+5F45) in the Japanese summary of plenary:9")
    assert snapshot(ready) == before
    assert _run("issue", "compose", "--meeting", "plenary:9").exit_code == 0


def test_cli_edit_and_delete_a_draft(ready: Database) -> None:
    assert _run("issue", "compose", "--meeting", "plenary:8", "--date", "2024-02-15").exit_code == 0
    assert _run("issue", "compose", "--meeting", "plenary:8", "--date", "2024-02-15").exit_code == 0

    edited = _run("issue", "edit", "1", "--date", "2025-07-01", "--subject-en", "Summer issue")
    assert edited.exit_code == 0, edited.output
    assert "issue No. 1 (draft, 2025-07-01, utf-8)" in edited.output
    assert "subject (en): Summer issue" in edited.output
    assert "promotion summer-safety-month" in edited.output
    assert "warning: plenary:8 is also in issue No. 2 (draft)" in edited.output

    deleted = _run("issue", "delete", "1")
    assert deleted.exit_code == 0, deleted.output
    assert "No. 1 stays unused" in deleted.output
    assert "No. 2 " in _run("issue", "list").output
    assert _run("issue", "delete", "1").exit_code == 2
    with ready.session() as session:
        assert find_meeting(session, MeetingKey.parse("plenary:8")).key == "plenary:8"  # content stays
