"""Business days in Japan: weekends, public holidays and the government's year-end closure, in JST."""

from __future__ import annotations

__all__ = [
    "JST",
    "MonthlyMorning",
    "first_business_day",
    "format_jst",
    "holiday_name",
    "is_business_day",
    "next_business_day",
    "next_business_morning",
]

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

JST = ZoneInfo("Asia/Tokyo")
_ALL_MONTHS = tuple(range(1, 13))
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


@cache
def _public_holidays() -> holidays.HolidayBase:
    # One table for the process; it fills in each year the first time a date of that year is asked about.
    return holidays.country_holidays("JP", language="ja")


def _in_year_end_closure(day: date) -> bool:
    """December 29 to January 3: the government offices' year-end holidays (行政機関の休日に関する法律)."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def holiday_name(day: date) -> str | None:
    """Why `day` is no business day, in Japanese (日曜日, 勤労感謝の日, 年末年始 …); None if it is one."""
    name = _public_holidays().get(day)
    if name:
        return str(name)
    if _in_year_end_closure(day):
        return "年末年始"
    if day.weekday() >= 5:
        return "土曜日" if day.weekday() == 5 else "日曜日"
    return None


def is_business_day(day: date) -> bool:
    """A weekday that is neither a public holiday nor in the year-end closure."""
    return holiday_name(day) is None


def next_business_day(day: date) -> date:
    """The first business day strictly after `day`."""
    day += timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def first_business_day(year: int, month: int) -> date:
    """The first business day of a month: January's is never before the 4th."""
    day = date(year, month, 1)
    return day if is_business_day(day) else next_business_day(day)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("a moment must carry its time zone")
    return moment


def next_business_morning(after: datetime, *, at: time = time(10)) -> datetime:
    """`at` (JST) on the first business day after the JST date of `after`: never the same day.

    A plenary's issue composed in the afternoon, or at 8:00, goes out the next business morning, so staff
    always have time to check the previews.
    """
    day = next_business_day(_aware(after).astimezone(JST).date())
    return datetime.combine(day, at, tzinfo=JST)


def format_jst(moment: datetime) -> str:
    """`2026-12-01 10:00 JST`: how times are shown to staff."""
    return f"{_aware(moment).astimezone(JST):%Y-%m-%d %H:%M} JST"


@dataclass(frozen=True)
class MonthlyMorning:
    """A time of day (JST) on the first business day of each of some months: the rule of a regular issue."""

    months: tuple[int, ...] = _ALL_MONTHS
    at: time = time(10)

    def __post_init__(self) -> None:
        if not self.months or any(not 1 <= month <= 12 for month in self.months):
            raise ValueError(f"months must be 1 to 12; got {self.months}")

    def on(self, year: int, month: int) -> datetime:
        return datetime.combine(first_business_day(year, month), self.at, tzinfo=JST)

    def _around(self, moment: datetime) -> list[datetime]:
        """This rule's moments from a year before `moment`'s month to a year after, in order."""
        local = _aware(moment).astimezone(JST)
        months = [(local.year + offset // 12, offset % 12 + 1) for offset in range(-12, 24)]
        return [self.on(year, month) for year, month in months if month in self.months]

    def next_after(self, moment: datetime, *, inclusive: bool = False) -> datetime:
        """The first of this rule's moments after `moment` (or at it, with `inclusive`)."""
        return next(
            candidate
            for candidate in self._around(moment)
            if candidate > moment or (inclusive and candidate == moment)
        )

    def latest_at_or_before(self, moment: datetime) -> datetime:
        """The last of this rule's moments at or before `moment`: when a late run was due."""
        return [candidate for candidate in self._around(moment) if candidate <= moment][-1]

    def describe(self) -> str:
        """`first business day of each month except July, 10:00 JST`."""
        missing = [month for month in _ALL_MONTHS if month not in self.months]
        if not missing:
            which = "each month"
        elif len(missing) <= 3:
            which = "each month except " + ", ".join(_MONTH_NAMES[month - 1] for month in missing)
        else:
            which = ", ".join(_MONTH_NAMES[month - 1] for month in self.months)
        return f"first business day of {which}, {self.at:%H:%M} JST"
