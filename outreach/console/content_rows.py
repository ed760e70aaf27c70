"""What the meeting and promotion lists show, read in one transaction each: the console never writes here."""

from __future__ import annotations

__all__ = ["MeetingRow", "PromotionRow", "meeting_rows", "promotion_rows"]

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.content import list_promotions, promotion_active
from outreach.models import Issue, IssueItem, Meeting
from outreach.usecases.content import Carrier


@dataclass(frozen=True)
class MeetingRow:
    kind: str
    number: int
    held_on: date
    format: str | None
    carriers: list[Carrier]  # every issue that carries it, cancelled ones too, oldest first


@dataclass(frozen=True)
class PromotionRow:
    slug: str
    title_ja: str
    title_en: str
    starts_on: date | None
    ends_on: date | None
    yearly: bool
    position: int
    active: bool  # an issue dated today would carry it

    def title(self, language: str) -> str:
        return self.title_ja if language == "ja" else self.title_en


def _meeting_carriers(session: Session) -> dict[int, list[Carrier]]:
    """Per meeting id, the issues that carry it: one query for the whole list."""
    found: dict[int, list[Carrier]] = defaultdict(list)
    rows = session.execute(
        select(IssueItem.meeting_id, Issue.number, Issue.status)
        .join(Issue, Issue.id == IssueItem.issue_id)
        .where(IssueItem.meeting_id.is_not(None))
        .order_by(Issue.number)
    )
    for meeting_id, number, status in rows:
        if meeting_id is not None:
            found[meeting_id].append(Carrier(number, status))
    return found


def meeting_rows(session: Session) -> list[MeetingRow]:
    """Every recorded meeting, newest first, with the issues that carry it."""
    carried = _meeting_carriers(session)
    meetings = session.scalars(
        select(Meeting).order_by(Meeting.held_on.desc(), Meeting.kind, Meeting.number.desc())
    )
    return [
        MeetingRow(meeting.kind, meeting.number, meeting.held_on, meeting.format, carried.get(meeting.id, []))
        for meeting in meetings
    ]


def promotion_rows(session: Session, today: date) -> list[PromotionRow]:
    """Every promotion in the order issues carry them, and whether an issue dated `today` would."""
    return [
        PromotionRow(
            promotion.slug,
            promotion.title_ja,
            promotion.title_en,
            promotion.starts_on,
            promotion.ends_on,
            promotion.yearly,
            promotion.position,
            promotion_active(promotion, today),
        )
        for promotion in list_promotions(session)
    ]
