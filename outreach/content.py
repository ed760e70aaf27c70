"""Content that issues are made of: meeting outcomes and safety-tool promotions."""

from __future__ import annotations

__all__ = [
    "MEETING_FORMATS",
    "MEETING_KINDS",
    "MeetingKey",
    "PromotionFields",
    "add_meeting",
    "add_promotion",
    "find_meeting",
    "find_promotion",
    "is_link_url",
    "latest_meeting",
    "list_promotions",
    "meeting_exists",
    "promotion_active",
    "promotion_exists",
    "promotions_active_on",
    "update_meeting",
    "update_promotion",
]

import dataclasses
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.errors import InvalidInput, NotFound
from outreach.models import Meeting, Promotion

MEETING_KINDS = {"plenary": ("本会合", "Plenary"), "secretariat": ("幹事会", "Secretariat meeting")}
MEETING_FORMATS = {
    "in_person": ("対面", "in person"),
    "online": ("オンライン", "online"),
    "hybrid": ("ハイブリッド", "hybrid"),
}
_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class MeetingKey:
    """A meeting named as on the command line: `plenary:8`, `secretariat:5`."""

    kind: str
    number: int

    @classmethod
    def parse(cls, text: str) -> MeetingKey:
        kind, _, number = text.strip().partition(":")
        if kind not in MEETING_KINDS or not re.fullmatch(r"[0-9]{1,6}", number) or int(number) < 1:
            raise InvalidInput(
                f"a meeting is named kind:number, e.g. plenary:8 or secretariat:5; got {text!r}"
            )
        return cls(kind, int(number))

    def __str__(self) -> str:
        return f"{self.kind}:{self.number}"


def find_meeting(session: Session, key: MeetingKey) -> Meeting:
    meeting = session.scalar(select(Meeting).where(Meeting.kind == key.kind, Meeting.number == key.number))
    if meeting is None:
        raise NotFound(f"there is no meeting {key}: `outreach meeting list` shows the recorded ones")
    return meeting


def latest_meeting(session: Session, kind: str = "plenary") -> Meeting:
    meeting = session.scalar(
        select(Meeting).where(Meeting.kind == kind).order_by(Meeting.held_on.desc()).limit(1)
    )
    if meeting is None:
        raise NotFound(f"no {kind} meeting is recorded yet: run `outreach seed` or `outreach meeting add`")
    return meeting


def meeting_exists(session: Session, key: MeetingKey) -> bool:
    found = session.scalar(select(Meeting.id).where(Meeting.kind == key.kind, Meeting.number == key.number))
    return found is not None


def is_link_url(url: str) -> bool:
    """Whether a meeting's link may point there: an http(s) URL without spaces."""
    return _URL.fullmatch(url) is not None


def _check_links(links: list[dict[str, str]]) -> None:
    for link in links:
        if not _URL.fullmatch(link.get("url", "")):
            raise InvalidInput(f"a link must be an http(s) URL without spaces; got {link.get('url')!r}")


def _check_format(format: str | None) -> None:
    if format is not None and format not in MEETING_FORMATS:
        raise InvalidInput(f"the format must be one of {', '.join(MEETING_FORMATS)}; got {format!r}")


def _checked_summary(summary_ja: str) -> str:
    if not summary_ja.strip():
        raise InvalidInput("the Japanese summary is empty")
    return summary_ja.strip()


def add_meeting(
    session: Session,
    key: MeetingKey,
    *,
    held_on: date,
    format: str | None,
    summary_ja: str,
    summary_en: str,
    opened_by_ja: str = "",
    opened_by_en: str = "",
    links: list[dict[str, str]] | None = None,
) -> Meeting:
    """Record a meeting outcome; refuse a duplicate, an unknown format or an empty summary."""
    _check_format(format)
    summary_ja = _checked_summary(summary_ja)
    links = links or []
    _check_links(links)
    exists = session.scalar(select(Meeting.id).where(Meeting.kind == key.kind, Meeting.number == key.number))
    if exists is not None:
        raise InvalidInput(f"meeting {key} is already recorded")
    meeting = Meeting(
        kind=key.kind,
        number=key.number,
        held_on=held_on,
        format=format,
        opened_by_ja=opened_by_ja,
        opened_by_en=opened_by_en,
        summary_ja=summary_ja,
        summary_en=(summary_en or summary_ja).strip(),
        links=links,
    )
    session.add(meeting)
    session.flush()
    return meeting


def update_meeting(
    session: Session,
    meeting: Meeting,
    *,
    held_on: date | None = None,
    format: str | None = None,
    summary_ja: str | None = None,
    summary_en: str | None = None,
    opened_by_ja: str | None = None,
    opened_by_en: str | None = None,
    links: list[dict[str, str]] | None = None,
) -> Meeting:
    """Change what is given (None keeps a field), with the checks of `add_meeting`.

    An empty English summary falls back to the Japanese one, as when the meeting was recorded, and an
    English summary that was such a fallback follows a new Japanese one.
    """
    _check_format(format)
    if links is not None:
        _check_links(links)
    if summary_ja is not None:
        # An English summary that was the Japanese one (none was given) keeps following it.
        follows = meeting.summary_en == meeting.summary_ja and summary_en is None
        meeting.summary_ja = _checked_summary(summary_ja)
        if follows:
            meeting.summary_en = meeting.summary_ja
    if summary_en is not None:
        meeting.summary_en = (summary_en or meeting.summary_ja).strip()
    if held_on is not None:
        meeting.held_on = held_on
    if format is not None:
        meeting.format = format
    if opened_by_ja is not None:
        meeting.opened_by_ja = opened_by_ja
    if opened_by_en is not None:
        meeting.opened_by_en = opened_by_en
    if links is not None:
        meeting.links = links
    session.flush()
    return meeting


def promotion_active(promotion: Promotion, on: date) -> bool:
    """Whether an issue dated `on` carries the promotion; yearly windows compare month and day only."""
    if promotion.yearly and promotion.starts_on and promotion.ends_on:
        start = (promotion.starts_on.month, promotion.starts_on.day)
        end = (promotion.ends_on.month, promotion.ends_on.day)
        today = (on.month, on.day)
        return start <= today <= end if start <= end else (today >= start or today <= end)
    if promotion.starts_on and on < promotion.starts_on:
        return False
    return not (promotion.ends_on and on > promotion.ends_on)


def promotions_active_on(session: Session, on: date) -> list[Promotion]:
    promotions = session.scalars(select(Promotion).order_by(Promotion.position, Promotion.id))
    return [promotion for promotion in promotions if promotion_active(promotion, on)]


@dataclass(frozen=True)
class PromotionFields:
    """What staff give of a promotion, checked by the caller (outreach.usecases.promotions)."""

    title_ja: str
    title_en: str
    body_ja: str
    body_en: str
    url: str
    starts_on: date | None
    ends_on: date | None
    yearly: bool
    position: int


def list_promotions(session: Session) -> list[Promotion]:
    """Every promotion, in the order issues carry them."""
    return list(session.scalars(select(Promotion).order_by(Promotion.position, Promotion.id)))


def promotion_exists(session: Session, slug: str) -> bool:
    return session.scalar(select(Promotion.id).where(Promotion.slug == slug)) is not None


def find_promotion(session: Session, slug: str) -> Promotion:
    promotion = session.scalar(select(Promotion).where(Promotion.slug == slug))
    if promotion is None:
        raise NotFound(f"there is no promotion {slug!r}")
    return promotion


def add_promotion(session: Session, slug: str, fields: PromotionFields) -> Promotion:
    promotion = Promotion(slug=slug, **dataclasses.asdict(fields))
    session.add(promotion)
    session.flush()
    return promotion


def update_promotion(session: Session, promotion: Promotion, fields: PromotionFields) -> Promotion:
    for name, value in dataclasses.asdict(fields).items():
        setattr(promotion, name, value)
    session.flush()
    return promotion
