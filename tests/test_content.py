"""Meeting outcomes and promotions: naming, recording with checks, and the windows promotions run in."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from outreach.content import (
    MeetingKey,
    add_meeting,
    find_meeting,
    latest_meeting,
    promotion_active,
    promotions_active_on,
    update_meeting,
)
from outreach.db import Database
from outreach.errors import InvalidInput, NotFound
from outreach.models import Meeting, Promotion
from tests.conftest import snapshot

SUMMARY_JA = "第9回本会合を開催し、参加組織が取組を報告しました。"
SUMMARY_EN = "The 9th plenary meeting was held and the members reported on their work."


@pytest.mark.parametrize(
    ("text", "kind", "number"),
    [
        ("plenary:8", "plenary", 8),
        ("secretariat:5", "secretariat", 5),
        ("  plenary:12 ", "plenary", 12),
        ("plenary:007", "plenary", 7),
    ],
)
def test_meeting_key_parses(text: str, kind: str, number: int) -> None:
    key = MeetingKey.parse(text)
    assert key == MeetingKey(kind, number)
    assert str(key) == f"{kind}:{number}"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plenary",
        "plenary:",
        "plenary:0",
        "plenary:-1",
        "plenary:x",
        "plenary:1.5",
        "plenary: 8",
        "Plenary:8",
        "board:3",
        ":8",
        "8",
        "plenary:8:9",
    ],
)
def test_meeting_key_refuses_bad_names(text: str) -> None:
    with pytest.raises(InvalidInput, match="kind:number"):
        MeetingKey.parse(text)


def test_meeting_key_refuses_superscript_digits() -> None:
    try:
        MeetingKey.parse("plenary:²")
    except InvalidInput:
        return
    except ValueError as exc:
        raise AssertionError(f"a bare ValueError escaped: {exc}") from exc
    raise AssertionError("plenary:² was accepted")


def _link(url: str) -> dict[str, str]:
    return {"title_ja": "リンク", "title_en": "Link", "url": url}


def _add(session: Any, key: str = "plenary:9", **overrides: Any) -> Meeting:
    options: dict[str, Any] = {
        "held_on": date(2025, 2, 20),
        "format": "hybrid",
        "summary_ja": SUMMARY_JA,
        "summary_en": SUMMARY_EN,
        "links": [{"title_ja": "ネットワーク", "title_en": "Network", "url": "https://example.jp/network"}],
    }
    options.update(overrides)
    return add_meeting(session, MeetingKey.parse(key), **options)


def _add_good_then(database: Database, key: str, overrides: dict[str, Any]) -> None:
    """In one session, record plenary:9 (good), then `key`: a refusal must roll back both."""
    with database.session() as session:
        _add(session, "plenary:9")
        _add(session, key, **overrides)


def test_add_meeting_records_it(db: Database) -> None:
    with db.session() as session:
        _add(session, summary_ja=f"  {SUMMARY_JA}\n", summary_en="")
    with db.session() as session:
        meeting = find_meeting(session, MeetingKey("plenary", 9))
        assert meeting.key == "plenary:9"
        assert meeting.held_on == date(2025, 2, 20)
        assert meeting.format == "hybrid"
        assert meeting.summary_ja == SUMMARY_JA  # stripped
        assert meeting.summary_en == SUMMARY_JA  # falls back to the Japanese summary
        assert meeting.links == [
            {"title_ja": "ネットワーク", "title_en": "Network", "url": "https://example.jp/network"}
        ]
        assert latest_meeting(session).key == "plenary:9"


def test_find_meeting_of_a_missing_one_raises_not_found(db: Database) -> None:
    with db.session() as session, pytest.raises(NotFound, match="plenary:3"):
        find_meeting(session, MeetingKey("plenary", 3))
    with db.session() as session, pytest.raises(NotFound):
        latest_meeting(session, "secretariat")


def test_latest_meeting_is_the_newest_of_its_kind(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        assert latest_meeting(session).key == "plenary:8"
        assert latest_meeting(session, "secretariat").key == "secretariat:5"


@pytest.mark.parametrize(
    ("key", "overrides", "message"),
    [
        ("plenary:8", {}, "already recorded"),
        ("secretariat:5", {"format": None}, "already recorded"),
        ("plenary:10", {"format": "zoom"}, "format must be one of"),
        ("plenary:10", {"summary_ja": ""}, "summary is empty"),
        ("plenary:10", {"summary_ja": " \n\t "}, "summary is empty"),
        ("plenary:10", {"links": [_link("https://example.jp/a b")]}, "without spaces"),
        ("plenary:10", {"links": [_link("https://example.jp/\ta")]}, "without spaces"),
        ("plenary:10", {"links": [_link("javascript:alert(1)")]}, "without spaces"),
        ("plenary:10", {"links": [_link("ftp://example.jp/")]}, "without spaces"),
        ("plenary:10", {"links": [_link('https://example.jp/"x')]}, "without spaces"),
        ("plenary:10", {"links": [{"title_ja": "x", "title_en": "x"}]}, "without spaces"),
    ],
)
def test_add_meeting_refusals_change_nothing(
    seeded_db: Database, key: str, overrides: dict[str, Any], message: str
) -> None:
    before = snapshot(seeded_db)
    with pytest.raises(InvalidInput, match=message):
        _add_good_then(seeded_db, key, overrides)
    assert snapshot(seeded_db) == before


def test_add_meeting_duplicate_in_the_same_session_is_refused(db: Database) -> None:
    with pytest.raises(InvalidInput, match="plenary:9 is already recorded"):
        _add_good_then(db, "plenary:9", {})
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Meeting)) == 0


def test_add_meeting_refuses_a_link_with_a_trailing_newline(db: Database) -> None:
    with pytest.raises(InvalidInput), db.session() as session:
        _add(session, links=[_link("https://example.jp/\n")])


def _promotion(
    starts_on: date | None, ends_on: date | None, *, yearly: bool = False, slug: str = "p"
) -> Promotion:
    return Promotion(
        slug=slug,
        title_ja="t",
        title_en="t",
        body_ja="b",
        body_en="b",
        url="https://example.jp/",
        starts_on=starts_on,
        ends_on=ends_on,
        yearly=yearly,
        position=10,
    )


SUMMER = _promotion(date(2000, 7, 1), date(2000, 8, 31), yearly=True, slug="summer")


@pytest.mark.parametrize("year", [2024, 2025, 2030])
@pytest.mark.parametrize(
    ("month", "day", "active"),
    [
        (6, 30, False),
        (7, 1, True),
        (7, 31, True),
        (8, 1, True),
        (8, 31, True),
        (9, 1, False),
        (1, 1, False),
        (12, 31, False),
    ],
)
def test_yearly_summer_window(year: int, month: int, day: int, active: bool) -> None:
    assert promotion_active(SUMMER, date(year, month, day)) is active


@pytest.mark.parametrize(
    ("on", "active"),
    [
        (date(2025, 11, 30), False),
        (date(2025, 12, 1), True),
        (date(2025, 12, 31), True),
        (date(2026, 1, 1), True),
        (date(2026, 1, 31), True),
        (date(2026, 2, 1), False),
        (date(2026, 7, 1), False),
    ],
)
def test_yearly_window_across_new_year(on: date, active: bool) -> None:
    winter = _promotion(date(2000, 12, 1), date(2000, 1, 31), yearly=True)
    assert promotion_active(winter, on) is active


@pytest.mark.parametrize(
    ("starts_on", "ends_on", "on", "active"),
    [
        (None, None, date(1990, 1, 1), True),
        (None, None, date(2100, 1, 1), True),
        (date(2024, 1, 31), None, date(2024, 1, 30), False),
        (date(2024, 1, 31), None, date(2024, 1, 31), True),
        (date(2024, 1, 31), None, date(2040, 1, 1), True),
        (None, date(2024, 3, 31), date(2024, 3, 31), True),
        (None, date(2024, 3, 31), date(2024, 4, 1), False),
        (date(2024, 4, 1), date(2024, 6, 30), date(2024, 3, 31), False),
        (date(2024, 4, 1), date(2024, 6, 30), date(2024, 4, 1), True),
        (date(2024, 4, 1), date(2024, 6, 30), date(2024, 6, 30), True),
        (date(2024, 4, 1), date(2024, 6, 30), date(2024, 7, 1), False),
        (date(2024, 4, 1), date(2024, 6, 30), date(2025, 5, 1), False),  # not yearly: the year counts
    ],
)
def test_dated_windows(starts_on: date | None, ends_on: date | None, on: date, active: bool) -> None:
    assert promotion_active(_promotion(starts_on, ends_on), on) is active


def test_promotions_active_on_a_july_date_include_the_summer_month(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        july = promotions_active_on(session, date(2025, 7, 15))
        november = promotions_active_on(session, date(2025, 11, 15))
    july_slugs = [promotion.slug for promotion in july]
    november_slugs = [promotion.slug for promotion in november]
    assert "summer-safety-month" in july_slugs
    assert "summer-safety-month" not in november_slugs
    assert set(july_slugs) - set(november_slugs) == {"summer-safety-month"}
    positions = [promotion.position for promotion in july]
    assert positions == sorted(positions)


def test_promotions_active_on_respects_start_dates(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        early = {promotion.slug for promotion in promotions_active_on(session, date(2017, 1, 10))}
        later = {promotion.slug for promotion in promotions_active_on(session, date(2024, 1, 31))}
    assert "golgo13-manual" not in early  # starts 2017-06-30
    assert "safety-quiz" not in early  # starts 2019-04-01
    assert "tabireg" in early
    assert {"golgo13-manual", "safety-quiz", "awareness-flyer"} <= later


def test_update_meeting_changes_only_what_is_given(seeded_db: Database) -> None:
    with seeded_db.session() as session:
        meeting = find_meeting(session, MeetingKey("plenary", 8))
        summary_en, links = meeting.summary_en, meeting.links
        update_meeting(session, meeting, held_on=date(2024, 2, 1), opened_by_en="the State Minister")
    with seeded_db.session() as session:
        stored = find_meeting(session, MeetingKey("plenary", 8))
        assert (stored.held_on, stored.opened_by_en) == (date(2024, 2, 1), "the State Minister")
        assert (stored.summary_en, stored.links) == (summary_en, links)


def test_update_meeting_an_empty_english_summary_falls_back_to_the_japanese(db: Database) -> None:
    with db.session() as session:
        meeting = _add(session)
        update_meeting(session, meeting, summary_en="")
        assert meeting.summary_en == SUMMARY_JA


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "zoom"}, "format must be one of"),
        ({"summary_ja": "\n"}, "summary is empty"),
        ({"links": [_link("ftp://example.jp/")]}, "without spaces"),
    ],
)
def test_update_meeting_refusals_change_nothing(
    seeded_db: Database, changes: dict[str, Any], message: str
) -> None:
    before = snapshot(seeded_db)
    with seeded_db.session() as session:
        meeting = find_meeting(session, MeetingKey("plenary", 8))
        with pytest.raises(InvalidInput, match=message):
            update_meeting(session, meeting, held_on=date(2030, 1, 1), **changes)
    # The session committed: the checks come before any change, so nothing half-done was written.
    assert snapshot(seeded_db) == before
