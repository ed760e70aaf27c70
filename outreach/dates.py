"""Dates written the Japanese way (Gregorian and imperial era) and the English way, for templates."""

from __future__ import annotations

__all__ = ["format_en", "format_ja", "format_ja_with_era", "format_wareki"]

from datetime import date, datetime

# Newest first, so the first era whose start is not after a date is that date's era.
_ERAS: tuple[tuple[date, str], ...] = (
    (date(2019, 5, 1), "令和"),
    (date(1989, 1, 8), "平成"),
    (date(1926, 12, 25), "昭和"),
)

_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _as_date(d: date) -> date:
    # A datetime is a date, but comparing one with a date raises TypeError, so keep only its date.
    return d.date() if isinstance(d, datetime) else d


def format_ja(d: date) -> str:
    """Return `2024年1月31日` for 31 January 2024."""
    d = _as_date(d)
    return f"{d.year}年{d.month}月{d.day}日"


def _era_year(d: date) -> str | None:
    """`令和6年` for a day of 2024, `令和元年` for the first year of an era; None before the Shōwa era."""
    for start, era in _ERAS:
        if d >= start:
            year = d.year - start.year + 1
            return f"{era}{'元' if year == 1 else year}年"
    return None


def format_wareki(d: date) -> str:
    """Return the imperial-era form, `令和6年1月31日`; the first year of an era is `元年`."""
    d = _as_date(d)
    era_year = _era_year(d)
    if era_year is None:
        raise ValueError(f"{d.isoformat()} is before the Shōwa era (1926-12-25); its era is not supported")
    return f"{era_year}{d.month}月{d.day}日"


def format_ja_with_era(d: date) -> str:
    """Return `2024年（令和6年）1月31日`: the era year beside the Gregorian one, the month and day said once.

    How the magazine and the subscriber pages print a date in Japanese. A day before the Shōwa era (only a
    typo would give one) keeps the Gregorian form alone rather than failing a whole rendition.
    """
    d = _as_date(d)
    era_year = _era_year(d)
    if era_year is None:
        return format_ja(d)
    return f"{d.year}年（{era_year}）{d.month}月{d.day}日"


def format_en(d: date) -> str:
    """Return `31 January 2024`, whatever the process locale."""
    d = _as_date(d)
    return f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}"
