"""Issues (号) of the mail magazine, composed from meeting outcomes and active promotions."""

from __future__ import annotations

__all__ = ["CHARSETS", "compose_issue", "get_issue", "issue_for_meeting", "issue_topics", "jst_today"]

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from outreach.content import MEETING_KINDS, promotions_active_on
from outreach.errors import InvalidInput, NotFound
from outreach.models import Issue, IssueItem, Meeting, Topic
from outreach.render import check_charset

CHARSETS = ("utf-8", "iso-2022-jp")
_MAX_SUBJECT = 200


def jst_today() -> date:
    return datetime.now(ZoneInfo("Asia/Tokyo")).date()


def get_issue(session: Session, number: int) -> Issue:
    issue = session.scalar(
        select(Issue)
        .where(Issue.number == number)
        .options(selectinload(Issue.items).selectinload(IssueItem.meeting))
        .options(selectinload(Issue.items).selectinload(IssueItem.promotion))
    )
    if issue is None:
        raise NotFound(f"there is no issue No. {number}: `outreach issue list` shows them")
    return issue


def _derived_subjects(number: int, meetings: list[Meeting]) -> tuple[str, str]:
    head_ja = f"【海外安全メールマガジン 第{number}号】"
    head_en = f"[Overseas Safety Mail Magazine No. {number}] "
    if not meetings:
        return head_ja + "海外安全対策のお知らせ", head_en + "Overseas safety news"
    first = meetings[0]
    kind_ja, kind_en = MEETING_KINDS[first.kind]
    return (
        f"{head_ja}第{first.number}回{kind_ja}の開催結果",
        f"{head_en}Outcome of {kind_en} {first.number}",
    )


def _checked_subject(subject: str | None, fallback: str, charset: str) -> str:
    if subject is None:
        return fallback
    cleaned = " ".join(subject.split())
    if not cleaned or len(cleaned) > _MAX_SUBJECT:
        raise InvalidInput(f"a subject must have 1 to {_MAX_SUBJECT} characters")
    check_charset(cleaned, charset, where="the subject")
    return cleaned


def compose_issue(
    session: Session,
    *,
    meetings: list[Meeting],
    issue_date: date | None = None,
    subject_ja: str | None = None,
    subject_en: str | None = None,
    charset: str = "utf-8",
) -> Issue:
    """A new draft issue: the meetings' outcomes first, then every promotion active on the issue's date."""
    if charset not in CHARSETS:
        raise InvalidInput(f"the charset must be one of {', '.join(CHARSETS)}; got {charset!r}")
    issue_date = issue_date or jst_today()
    number = (session.scalar(select(func.max(Issue.number))) or 0) + 1
    default_ja, default_en = _derived_subjects(number, meetings)
    issue = Issue(
        number=number,
        issue_date=issue_date,
        subject_ja=_checked_subject(subject_ja, default_ja, charset),
        subject_en=_checked_subject(subject_en, default_en, charset),
        charset=charset,
    )
    ordered = sorted(meetings, key=lambda meeting: meeting.held_on)
    items = [IssueItem(meeting=meeting) for meeting in ordered]
    items += [IssueItem(promotion=promotion) for promotion in promotions_active_on(session, issue_date)]
    for position, item in enumerate(items, start=1):
        item.position = position * 10
    issue.items = items
    session.add(issue)
    session.flush()
    return issue


def issue_for_meeting(session: Session, meeting: Meeting) -> Issue | None:
    """The newest issue that carries this meeting's outcome, if any."""
    return session.scalar(
        select(Issue)
        .join(IssueItem, IssueItem.issue_id == Issue.id)
        .where(IssueItem.meeting_id == meeting.id)
        .order_by(Issue.number.desc())
        .limit(1)
    )


SEMINAR_PROMOTIONS = frozenset({"safety-seminars"})


def issue_topics(issue: Issue) -> set[Topic]:
    """The topics an issue is about: meeting outcomes, safety tools, seminars."""
    topics: set[Topic] = set()
    for item in issue.items:
        if item.meeting is not None:
            topics.add(Topic.MEETINGS)
        elif item.promotion is not None:
            topics.add(Topic.SEMINARS if item.promotion.slug in SEMINAR_PROMOTIONS else Topic.TOOLS)
    return topics
