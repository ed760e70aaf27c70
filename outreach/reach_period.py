"""The reach report over a plenary's period: the issues whose send started in it, their figures summed.

A period is given in whole days, Japan time, both ends included. Its messages are those of its issues;
its opt-outs those of their subscribers until OPT_OUT_WINDOW after its last day; its new subscribers those
confirmed within it. The change is against the period of the same length just before it.
"""

from __future__ import annotations

__all__ = ["Period", "period_reach"]

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.calendar import JST
from outreach.errors import InvalidInput
from outreach.models import Issue
from outreach.reach import (
    OPT_OUT_WINDOW,
    Figures,
    ReachReport,
    Scope,
    Window,
    assemble,
    figures_by_organization,
    forwarded_by_organization,
)


@dataclass(frozen=True)
class Period:
    """Whole days in Japan time, `first` to `last`, both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def before(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def window(self) -> Window:
        """From midnight JST of the first day to midnight JST after the last."""
        return Window(_midnight(self.first), _midnight(self.last + timedelta(days=1)))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=JST)


def period_reach(session: Session, first: date, last: date) -> ReachReport:
    """The figures of the issues sent from `first` to `last` (JST, inclusive), per organization, and their
    change against the period of the same length before."""
    if first > last:
        raise InvalidInput(f"the period's first day ({first}) is after its last day ({last})")
    period = Period(first, last)
    try:
        scope, figures = _period_figures(session, period)
        before, earlier = _period_figures(session, period.before())
    except OverflowError:
        raise InvalidInput(f"{first} to {last} is beyond the dates that can be reported on") from None
    forwarded = forwarded_by_organization(session, _issue_ids(session, period))
    return assemble(session, scope, figures, previous=(before, earlier), forwarded=forwarded)


def _issue_ids(session: Session, period: Period) -> list[int]:
    return [issue_id for issue_id, _ in _issues(session, period)]


def _issues(session: Session, period: Period) -> list[tuple[int, int]]:
    """(id, number) of the issues whose send started in the period, by number."""
    window = period.window()
    assert window.start is not None  # a period has a first day
    rows = session.execute(
        select(Issue.id, Issue.number)
        .where(Issue.send_started_at >= window.start, Issue.send_started_at < window.end)
        .order_by(Issue.number)
    )
    return [(issue_id, number) for issue_id, number in rows]


def _period_figures(session: Session, period: Period) -> tuple[Scope, dict[str, Figures]]:
    window = period.window()
    assert window.start is not None  # a period has a first day
    issues = _issues(session, period)
    figures = figures_by_organization(
        session,
        [issue_id for issue_id, _ in issues],
        opt_outs=Window(window.start, window.end + OPT_OUT_WINDOW),
        joined=window,
    )
    return Scope(tuple(number for _, number in issues), first=period.first, last=period.last), figures
