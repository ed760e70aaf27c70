"""Issues: numbered in order, the meeting outcome first, then the promotions; subjects checked."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.content import MeetingKey, find_meeting, promotions_active_on
from outreach.db import Database
from outreach.errors import InvalidInput, NotFound
from outreach.issues import (
    compose_issue,
    delete_draft,
    edit_draft,
    get_issue,
    issue_for_meeting,
    issues_carrying,
    next_issue_number,
)
from outreach.models import IssueItem, IssueStatus, Meeting
from tests.conftest import snapshot

ISSUE_DATE = date(2024, 2, 15)


def _meeting(session: Session, key: str) -> Meeting:
    return find_meeting(session, MeetingKey.parse(key))


def test_issues_are_numbered_one_two_three(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        first = compose_issue(session, meetings=[_meeting(session, "plenary:8")], issue_date=ISSUE_DATE)
        second = compose_issue(session, meetings=[], issue_date=ISSUE_DATE)
    with seeded_db.session() as session:
        third = compose_issue(session, meetings=[_meeting(session, "plenary:7")], issue_date=ISSUE_DATE)
    assert [first.number, second.number, third.number] == [1, 2, 3]
    assert first.status == IssueStatus.DRAFT
    assert first.charset == "utf-8"


def test_the_meeting_comes_first_then_promotions_in_position_order(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        issue = compose_issue(session, meetings=[_meeting(session, "plenary:8")], issue_date=ISSUE_DATE)
        number = issue.number
        expected_promotions = [promotion.slug for promotion in promotions_active_on(session, ISSUE_DATE)]
    with seeded_db.session() as session:
        stored = get_issue(session, number)
        items = stored.items
        assert items[0].meeting is not None
        assert items[0].meeting.key == "plenary:8"
        assert items[0].promotion is None
        promotions = [item.promotion for item in items[1:]]
        assert all(promotion is not None for promotion in promotions)
        slugs = [promotion.slug for promotion in promotions if promotion is not None]
        positions = [promotion.position for promotion in promotions if promotion is not None]
        item_positions = [item.position for item in items]
    assert slugs == expected_promotions
    assert "awareness-flyer" in slugs  # starts on 2024-01-31
    assert "summer-safety-month" not in slugs  # February
    assert positions == sorted(positions)
    assert item_positions == sorted(item_positions)
    assert len(set(item_positions)) == len(item_positions)


def test_several_meetings_come_in_date_order(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        meetings = [_meeting(session, "plenary:8"), _meeting(session, "secretariat:5")]
        issue = compose_issue(session, meetings=meetings, issue_date=ISSUE_DATE)
        keys = [item.meeting.key for item in issue.items if item.meeting is not None]
    assert keys == ["secretariat:5", "plenary:8"]


def test_a_summer_issue_carries_the_summer_month(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        issue = compose_issue(session, meetings=[], issue_date=date(2025, 7, 1))
        slugs = [item.promotion.slug for item in issue.items if item.promotion is not None]
    assert "summer-safety-month" in slugs


def test_derived_subjects_name_the_meeting(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        issue = compose_issue(session, meetings=[_meeting(session, "plenary:8")], issue_date=ISSUE_DATE)
        secretariat = compose_issue(
            session, meetings=[_meeting(session, "secretariat:5")], issue_date=ISSUE_DATE
        )
        news = compose_issue(session, meetings=[], issue_date=ISSUE_DATE)
    assert "第8回本会合" in issue.subject_ja
    assert "第1号" in issue.subject_ja
    assert issue.subject_en == "[SME Overseas Safety Network Newsletter No. 1] Outcome of Plenary 8"
    assert "第5回幹事会" in secretariat.subject_ja
    assert "第2号" in secretariat.subject_ja
    assert "第3号" in news.subject_ja
    assert "本会合" not in news.subject_ja


def test_subject_override_is_used_and_whitespace_collapsed(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        issue = compose_issue(
            session,
            meetings=[_meeting(session, "plenary:8")],
            issue_date=ISSUE_DATE,
            subject_ja="  【臨時号】\n夏の   海外安全強化月間 ",
            subject_en="Special issue",
        )
        number = issue.number
    with seeded_db.session() as session:
        stored = get_issue(session, number)
        assert stored.subject_ja == "【臨時号】 夏の 海外安全強化月間"
        assert stored.subject_en == "Special issue"
        assert stored.issue_date == ISSUE_DATE


@pytest.mark.parametrize("subject", ["", "   ", "\n\t", "あ" * 201, "x" * 201])
def test_an_empty_or_over_long_subject_is_refused(seeded_db: Database, subject: str) -> None:
    before = snapshot(seeded_db)
    with pytest.raises(InvalidInput, match="1 to 200 characters"), seeded_db.session() as session:
        compose_issue(session, meetings=[], issue_date=ISSUE_DATE, subject_ja=subject)
    assert snapshot(seeded_db) == before
    with pytest.raises(InvalidInput, match="1 to 200 characters"), seeded_db.session() as session:
        compose_issue(session, meetings=[], issue_date=ISSUE_DATE, subject_en=subject)
    assert snapshot(seeded_db) == before


def test_a_subject_of_exactly_200_characters_is_accepted(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        issue = compose_issue(session, meetings=[], issue_date=ISSUE_DATE, subject_ja="あ" * 200)
    assert issue.subject_ja == "あ" * 200


@pytest.mark.parametrize(("char", "code"), [("彅", "U+5F45"), ("鷗", "U+9DD7"), ("丂", "U+4E02")])
def test_iso_2022_jp_refuses_characters_it_cannot_carry(seeded_db: Database, char: str, code: str) -> None:
    before = snapshot(seeded_db)
    with pytest.raises(InvalidInput, match="iso-2022-jp") as caught, seeded_db.session() as session:
        compose_issue(
            session, meetings=[], issue_date=ISSUE_DATE, subject_ja=f"{char}のお知らせ", charset="iso-2022-jp"
        )
    assert char in str(caught.value)
    assert code in str(caught.value)
    assert snapshot(seeded_db) == before


def test_iso_2022_jp_accepts_what_it_can_carry(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        issue = compose_issue(
            session,
            meetings=[_meeting(session, "plenary:8")],
            issue_date=ISSUE_DATE,
            subject_ja="【第8回本会合】開催結果のお知らせ〒",
            charset="iso-2022-jp",
        )
    assert issue.charset == "iso-2022-jp"
    assert issue.subject_ja == "【第8回本会合】開催結果のお知らせ〒"


def test_utf8_accepts_any_character(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        issue = compose_issue(session, meetings=[], issue_date=ISSUE_DATE, subject_ja="彅鷗橋様丂")
    assert issue.subject_ja == "彅鷗橋様丂"


def test_iso_2022_jp_checks_the_english_subject_too(seeded_db: Database) -> None:
    with pytest.raises(InvalidInput, match="iso-2022-jp"), seeded_db.session() as session:
        compose_issue(
            session, meetings=[], issue_date=ISSUE_DATE, subject_en="Café news 彅", charset="iso-2022-jp"
        )


@pytest.mark.parametrize("charset", ["shift_jis", "UTF-8", "latin-1", ""])
def test_an_unknown_charset_is_refused(seeded_db: Database, charset: str) -> None:
    before = snapshot(seeded_db)
    with pytest.raises(InvalidInput, match="charset must be one of"), seeded_db.session() as session:
        compose_issue(session, meetings=[], issue_date=ISSUE_DATE, charset=charset)
    assert snapshot(seeded_db) == before


def test_get_issue_of_a_missing_number_raises_not_found(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        compose_issue(session, meetings=[], issue_date=ISSUE_DATE)
    with seeded_db.session() as session, pytest.raises(NotFound, match=r"No\. 2"):
        get_issue(session, 2)
    with seeded_db.session() as session:
        assert get_issue(session, 1).number == 1


def test_issue_for_meeting_is_the_newest_carrying_it(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        plenary = _meeting(session, "plenary:8")
        assert issue_for_meeting(session, plenary) is None
        compose_issue(session, meetings=[plenary], issue_date=ISSUE_DATE)
        compose_issue(session, meetings=[], issue_date=ISSUE_DATE)
        compose_issue(session, meetings=[plenary], issue_date=ISSUE_DATE)
        found = issue_for_meeting(session, plenary)
        assert found is not None
        assert found.number == 3


def test_compose_issue_checks_every_text_not_only_the_subjects(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        _meeting(session, "secretariat:5").opened_by_ja = "鷗橋幹事"
    before = snapshot(seeded_db)

    refused = r"鷗 \(U\+9DD7\) in who opened secretariat:5 \(ja\)"
    with pytest.raises(InvalidInput, match=refused), seeded_db.session() as session:
        compose_issue(session, meetings=[_meeting(session, "secretariat:5")], charset="iso-2022-jp")

    assert snapshot(seeded_db) == before


def test_issues_carrying_lists_each_issue_once_oldest_first(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        plenary = _meeting(session, "plenary:8")
        twice = compose_issue(session, meetings=[plenary, plenary], issue_date=ISSUE_DATE)
        assert [item.meeting for item in twice.items if item.meeting is not None] == [plenary]
        compose_issue(session, meetings=[_meeting(session, "plenary:7")], issue_date=ISSUE_DATE)
        compose_issue(session, meetings=[plenary], issue_date=ISSUE_DATE)
        assert [issue.number for issue in issues_carrying(session, plenary)] == [1, 3]


def test_edit_draft_is_checked_before_anything_is_written(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        compose_issue(session, meetings=[_meeting(session, "plenary:8")], issue_date=ISSUE_DATE)
    before = snapshot(seeded_db)

    with pytest.raises(InvalidInput, match="1 to 200 characters"), seeded_db.session() as session:
        edit_draft(session, get_issue(session, 1), issue_date=date(2025, 7, 1), subject_ja=" ")
    with pytest.raises(InvalidInput, match="charset must be one of"), seeded_db.session() as session:
        edit_draft(session, get_issue(session, 1), charset="shift_jis")

    assert snapshot(seeded_db) == before


def test_delete_draft_takes_its_sections_and_frees_only_the_newest_number(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        for _ in range(3):
            compose_issue(session, meetings=[_meeting(session, "plenary:8")], issue_date=ISSUE_DATE)
        delete_draft(session, get_issue(session, 3))
        assert next_issue_number(session) == 3
        delete_draft(session, get_issue(session, 1))
        assert next_issue_number(session) == 3
        assert session.scalar(select(func.count()).select_from(IssueItem)) == len(get_issue(session, 2).items)
