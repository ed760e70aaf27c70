"""Business days in Japan: weekends, public holidays and their substitutes, Golden Week, the year end."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from outreach.calendar import (
    JST,
    MonthlyMorning,
    first_business_day,
    format_jst,
    holiday_name,
    is_business_day,
    next_business_day,
    next_business_morning,
)


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2026, 11, 21), "土曜日"),
        (date(2026, 11, 22), "日曜日"),
        (date(2026, 11, 23), "勤労感謝の日"),
        (date(2026, 11, 3), "文化の日"),
        (date(2027, 3, 22), "振替休日"),  # 春分の日 falls on Sunday 21 March 2027
        (date(2026, 5, 6), "振替休日"),  # 憲法記念日 on Sunday 3 May 2026
        (date(2026, 9, 22), "国民の休日"),  # between 敬老の日 and 秋分の日
        (date(2026, 12, 29), "年末年始"),
        (date(2026, 12, 31), "年末年始"),
        (date(2027, 1, 1), "元日"),
        (date(2027, 1, 2), "年末年始"),
        (date(2027, 1, 3), "年末年始"),
    ],
)
def test_days_that_are_not_business_days_say_why(day: date, reason: str) -> None:
    assert not is_business_day(day)
    assert holiday_name(day) == reason


@pytest.mark.parametrize(
    "day",
    [date(2026, 11, 24), date(2026, 11, 20), date(2026, 12, 28), date(2027, 1, 4), date(2026, 5, 7)],
)
def test_ordinary_weekdays_are_business_days(day: date) -> None:
    assert is_business_day(day)
    assert holiday_name(day) is None


def test_golden_week_2026_has_no_business_day_from_may_2_to_6() -> None:
    days = [date(2026, 5, d) for d in range(1, 8)]

    assert [is_business_day(d) for d in days] == [True, False, False, False, False, False, True]
    assert next_business_day(date(2026, 5, 1)) == date(2026, 5, 7)


def test_first_business_day_of_a_month() -> None:
    assert first_business_day(2027, 1) == date(2027, 1, 4)  # closure to the 3rd, then a Monday
    assert first_business_day(2026, 11) == date(2026, 11, 2)  # the 1st is a Sunday
    assert first_business_day(2026, 12) == date(2026, 12, 1)
    assert first_business_day(2028, 1) == date(2028, 1, 4)  # Tuesday the 4th: the closure ends on the 3rd
    assert first_business_day(2026, 5) == date(2026, 5, 1)


def test_next_business_morning_across_a_long_weekend() -> None:
    friday_evening = jst(2026, 11, 20, 18, 30)  # then Saturday, Sunday and 勤労感謝の日 on Monday

    assert next_business_morning(friday_evening) == jst(2026, 11, 24, 10, 0)


def test_next_business_morning_is_never_the_same_day() -> None:
    early = jst(2026, 11, 24, 7, 0)

    assert next_business_morning(early) == jst(2026, 11, 25, 10, 0)
    assert next_business_morning(early, at=time(9, 30)) == jst(2026, 11, 25, 9, 30)


def test_next_business_morning_across_the_year_end() -> None:
    assert next_business_morning(jst(2026, 12, 28, 15, 0)) == jst(2027, 1, 4, 10, 0)
    assert next_business_morning(jst(2027, 12, 27, 15, 0)) == jst(2027, 12, 28, 10, 0)


def test_next_business_morning_takes_the_date_in_japan_not_in_utc() -> None:
    # 23:30 UTC on Thursday 19 November is already Friday morning in Tokyo.
    moment = datetime(2026, 11, 19, 23, 30, tzinfo=UTC)

    assert next_business_morning(moment) == jst(2026, 11, 24, 10, 0)
    with pytest.raises(ValueError, match="time zone"):
        next_business_morning(datetime(2026, 11, 19, 23, 30))


def test_monthly_morning_finds_the_next_and_the_latest_moment() -> None:
    rule = MonthlyMorning()

    assert rule.next_after(jst(2026, 11, 25, 12, 0)) == jst(2026, 12, 1, 10, 0)
    assert rule.next_after(jst(2026, 12, 1, 10, 0)) == jst(2027, 1, 4, 10, 0)
    assert rule.next_after(jst(2026, 12, 1, 10, 0), inclusive=True) == jst(2026, 12, 1, 10, 0)
    assert rule.latest_at_or_before(jst(2026, 11, 25, 12, 0)) == jst(2026, 11, 2, 10, 0)
    assert rule.latest_at_or_before(jst(2027, 1, 4, 9, 59)) == jst(2026, 12, 1, 10, 0)
    assert rule.describe() == "first business day of each month, 10:00 JST"


def test_monthly_morning_for_some_months_only() -> None:
    july = MonthlyMorning(months=(7,))
    but_july = MonthlyMorning(months=(1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12), at=time(9))

    assert july.next_after(jst(2026, 11, 25, 12, 0)) == jst(2027, 7, 1, 10, 0)
    assert july.latest_at_or_before(jst(2026, 11, 25, 12, 0)) == jst(2026, 7, 1, 10, 0)
    assert but_july.next_after(jst(2027, 6, 1, 9, 0)) == jst(2027, 8, 2, 9, 0)  # 1 August 2027 is a Sunday
    assert but_july.describe() == "first business day of each month except July, 09:00 JST"
    with pytest.raises(ValueError, match="months"):
        MonthlyMorning(months=(13,))


def test_times_are_shown_in_japan_time() -> None:
    assert format_jst(datetime(2026, 12, 1, 1, 0, tzinfo=UTC)) == "2026-12-01 10:00 JST"
