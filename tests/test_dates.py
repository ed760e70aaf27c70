"""Tests for outreach.dates: Gregorian, imperial-era, the two together, and English dates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outreach.dates import format_en, format_ja, format_ja_with_era, format_wareki

ERA_START_YEARS = {"令和": 2019, "平成": 1989, "昭和": 1926}
WAREKI = re.compile(r"(令和|平成|昭和)(元|[1-9][0-9]*)年([1-9][0-9]?)月([1-9][0-9]?)日")


def test_format_ja_has_no_zero_padding() -> None:
    assert format_ja(date(2024, 1, 31)) == "2024年1月31日"
    assert format_ja(date(2024, 12, 5)) == "2024年12月5日"


def test_format_en() -> None:
    assert format_en(date(2024, 1, 31)) == "31 January 2024"
    assert format_en(date(2024, 12, 5)) == "5 December 2024"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2024, 1, 31), "令和6年1月31日"),
        (date(2019, 8, 30), "令和元年8月30日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
        (date(1926, 12, 25), "昭和元年12月25日"),
    ],
)
def test_format_wareki(day: date, expected: str) -> None:
    assert format_wareki(day) == expected


def test_format_wareki_refuses_dates_before_showa() -> None:
    with pytest.raises(ValueError, match="before"):
        format_wareki(date(1926, 12, 24))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 12, 1), "2026年（令和8年）12月1日"),
        (date(2024, 1, 31), "2024年（令和6年）1月31日"),
        (date(2019, 5, 1), "2019年（令和元年）5月1日"),
        (date(2019, 4, 30), "2019年（平成31年）4月30日"),
        (date(1989, 1, 7), "1989年（昭和64年）1月7日"),
    ],
)
def test_format_ja_with_era_says_the_month_and_day_once(day: date, expected: str) -> None:
    assert format_ja_with_era(day) == expected


def test_format_ja_with_era_keeps_a_day_before_showa_gregorian() -> None:
    assert format_ja_with_era(date(1926, 12, 24)) == "1926年12月24日"


def test_datetimes_use_their_date() -> None:
    moment = datetime(2019, 5, 1, 23, 59, tzinfo=UTC)
    assert format_wareki(moment) == "令和元年5月1日"
    assert format_ja(moment) == "2019年5月1日"
    assert format_ja_with_era(moment) == "2019年（令和元年）5月1日"
    assert format_en(moment) == "1 May 2019"


@given(st.dates(min_value=date(1926, 12, 25)))
def test_wareki_year_counts_from_era_start(day: date) -> None:
    match = WAREKI.fullmatch(format_wareki(day))
    assert match is not None
    era, year_text, month, day_of_month = match.groups()
    year = 1 if year_text == "元" else int(year_text)
    assert year + ERA_START_YEARS[era] - 1 == day.year
    assert (int(month), int(day_of_month)) == (day.month, day.day)


@given(st.dates(min_value=date(1926, 12, 25)))
def test_format_ja_with_era_is_the_gregorian_year_beside_the_wareki(day: date) -> None:
    match = re.fullmatch(r"([0-9]+)年（(.+年)）([0-9]+月[0-9]+日)", format_ja_with_era(day))
    assert match is not None
    year, era_year, month_day = match.groups()
    assert int(year) == day.year
    assert f"{era_year}{month_day}" == format_wareki(day)
    assert f"{year}年{month_day}" == format_ja(day)
