"""Issues (号) of the mail magazine, composed from meeting outcomes, an editorial lead and active promotions.

An issue is edited and deleted only while it is a draft; its status is moved by the lifecycle module alone.
Whether its texts fit its charsets is `outreach.issue_charsets` (its names are also importable from here).
"""

from __future__ import annotations

__all__ = [
    "ALERT_NUMBERS",
    "CHARSETS",
    "MAX_LEAD",
    "MAX_SUBJECT",
    "charset_substitutions",
    "check_issue_charset",
    "compose_issue",
    "delete_draft",
    "derived_subjects",
    "edit_draft",
    "get_issue",
    "in_charset",
    "issue_for_meeting",
    "issue_texts",
    "issue_topics",
    "issues_carrying",
    "jst_today",
    "meeting_texts",
    "next_alert_number",
    "next_issue_number",
    "rendition_charsets",
    "substituted_texts",
    "uncarried_texts",
    "waiting_digest",
]

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from outreach.alerts.models import AlertAction, AlertState, SafetyAlert
from outreach.content import MEETING_KINDS, promotions_active_on
from outreach.errors import InvalidInput, NotFound
from outreach.issue_charsets import (
    CHARSETS,
    charset_substitutions,
    check_issue_charset,
    in_charset,
    issue_texts,
    meeting_texts,
    rendition_charsets,
    substituted_texts,
    uncarried_texts,
)
from outreach.models import Issue, IssueItem, IssueKind, IssueStatus, Meeting, Promotion, Topic

MAX_SUBJECT = 200
MAX_LEAD = 4000  # characters: a few paragraphs above the sections, not an article
# Safety alert issues are numbered from here, so that the magazine's own numbers (第N号) have no gaps.
ALERT_NUMBERS = 100_001


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


def next_issue_number(session: Session) -> int:
    """The number the next magazine issue takes: one past the highest below the alerts' band, so deleting an
    older draft leaves a gap (and an alert issue none)."""
    highest = session.scalar(select(func.max(Issue.number)).where(Issue.number < ALERT_NUMBERS))
    return (highest or 0) + 1


def next_alert_number(session: Session) -> int:
    """The number the next safety alert issue takes: one past the highest in their band (from 100001)."""
    highest = session.scalar(select(func.max(Issue.number)).where(Issue.number >= ALERT_NUMBERS))
    return (highest or ALERT_NUMBERS - 1) + 1


def subject_heads(number: int) -> tuple[str, str]:
    """What every subject of issue `number` starts with, in Japanese and English."""
    japanese = f"【海外安全メールマガジン 第{number}号】"
    return japanese, f"[SME Overseas Safety Network Newsletter No. {number}] "


def derived_subjects(number: int, meetings: Sequence[Meeting]) -> tuple[str, str]:
    """The subjects an issue takes when staff write none: from its first meeting, or a general one."""
    head_ja, head_en = subject_heads(number)
    if not meetings:
        return head_ja + "海外安全対策のお知らせ", head_en + "Overseas safety news"
    first = meetings[0]
    kind_ja, kind_en = MEETING_KINDS[first.kind]
    return (
        f"{head_ja}第{first.number}回{kind_ja}の開催結果",
        f"{head_en}Outcome of {kind_en} {first.number}",
    )


def _checked_subject(subject: str | None, fallback: str) -> str:
    if subject is None:
        return fallback
    cleaned = " ".join(subject.split())
    if not cleaned or len(cleaned) > MAX_SUBJECT:
        raise InvalidInput(f"a subject must have 1 to {MAX_SUBJECT} characters")
    return cleaned


def _check_charset_name(charset: str) -> None:
    if charset not in CHARSETS:
        raise InvalidInput(f"the charset must be one of {', '.join(CHARSETS)}; got {charset!r}")


def _checked_lead(lead: str | None, fallback: str) -> str:
    """A lead as typed, its line ends made plain (a browser sends CRLF) and the blank edges dropped."""
    if lead is None:
        return fallback
    cleaned = lead.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(cleaned) > MAX_LEAD:
        raise InvalidInput(f"a lead must have at most {MAX_LEAD} characters; it has {len(cleaned)}")
    return cleaned


def _chosen_promotions(
    session: Session, issue_date: date, chosen: Sequence[Promotion] | None
) -> list[Promotion]:
    """Every promotion active on the date (None chosen), or the chosen ones, each of which must be active."""
    active = promotions_active_on(session, issue_date)
    if chosen is None:
        return active
    inactive = sorted({promotion.slug for promotion in chosen} - {promotion.slug for promotion in active})
    if inactive:
        raise InvalidInput(
            f"promotion {', '.join(inactive)} is not active on {issue_date}: an issue carries only "
            "promotions active on its date"
        )
    wanted = {promotion.slug for promotion in chosen}
    return [promotion for promotion in active if promotion.slug in wanted]


def _items(
    session: Session,
    meetings: Sequence[Meeting],
    issue_date: date,
    promotions: Sequence[Promotion] | None = None,
    alerts: Sequence[int] = (),
) -> list[IssueItem]:
    """The meetings' outcomes in date order (each once), then the promotions in their order: every one
    active on the date, or those chosen of them; then the safety alerts' entries (`alerts`, their ids)."""
    ordered = sorted(dict.fromkeys(meetings), key=lambda meeting: meeting.held_on)
    items = [IssueItem(meeting=meeting) for meeting in ordered]
    items += [IssueItem(promotion=each) for each in _chosen_promotions(session, issue_date, promotions)]
    items += [IssueItem(alert_id=each) for each in alerts]
    for position, item in enumerate(items, start=1):
        item.position = position * 10
    return items


def compose_issue(
    session: Session,
    *,
    meetings: Sequence[Meeting],
    issue_date: date | None = None,
    subject_ja: str | None = None,
    subject_en: str | None = None,
    lead_ja: str = "",
    lead_en: str = "",
    charset: str = "utf-8",
    promotions: Sequence[Promotion] | None = None,
) -> Issue:
    """A new draft issue: its lead, the meetings' outcomes, then the promotions active on the issue's date
    (every one, or those chosen: `promotions`).

    Every text of its renditions is checked against the charset first (see `check_issue_charset`).
    """
    _check_charset_name(charset)
    issue_date = issue_date or jst_today()
    number = next_issue_number(session)
    default_ja, default_en = derived_subjects(number, meetings)
    issue = Issue(
        number=number,
        issue_date=issue_date,
        subject_ja=_checked_subject(subject_ja, default_ja),
        subject_en=_checked_subject(subject_en, default_en),
        lead_ja=_checked_lead(lead_ja, ""),
        lead_en=_checked_lead(lead_en, ""),
        charset=charset,
    )
    issue.items = _items(session, meetings, issue_date, promotions, waiting_digest(session))
    check_issue_charset(session, issue)
    session.add(issue)
    session.flush()
    return issue


def waiting_digest(session: Session) -> list[int]:
    """The safety alerts' entries waiting for the next regular issue, oldest first: a new issue carries them
    as its section "your countries' safety information", each reader's copy those of their places. They stay
    waiting until its send starts (outreach.alerts.compose.mark_digested): a draft deleted loses none."""
    return list(
        session.scalars(
            select(SafetyAlert.id)
            .where(SafetyAlert.action == AlertAction.DIGEST, SafetyAlert.state == AlertState.WAITING)
            .order_by(SafetyAlert.published_at, SafetyAlert.id)
        )
    )


def _require_draft(issue: Issue, done: str) -> None:
    if issue.status != IssueStatus.DRAFT:
        raise InvalidInput(f"issue No. {issue.number} is {issue.status}: only a draft can be {done}")


def _meetings_of(issue: Issue) -> list[Meeting]:
    return [item.meeting for item in issue.items if item.meeting is not None]


def _follows_meetings(subject: str, number: int, meetings: Sequence[Meeting], language: int) -> bool:
    """Whether a subject is the one derived from (any of) the meetings, not one that staff wrote."""
    # Compose derives it from the first meeting given, which need not be the earliest one.
    candidates = [[meeting] for meeting in meetings] or [[]]
    return any(subject == derived_subjects(number, chosen)[language] for chosen in candidates)


def edit_draft(
    session: Session,
    issue: Issue,
    *,
    meetings: Sequence[Meeting] | None = None,
    issue_date: date | None = None,
    subject_ja: str | None = None,
    subject_en: str | None = None,
    lead_ja: str | None = None,
    lead_en: str | None = None,
    charset: str | None = None,
    promotions: Sequence[Promotion] | None = None,
) -> Issue:
    """Change what is given of a draft (None keeps it); every text is checked again against its charset.

    Chosen promotions replace those it carries; none chosen, a new date recomputes them (every one active
    on it) and otherwise they stay. A derived subject follows new meetings, a subject that staff wrote stays.
    """
    _require_draft(issue, "edited")
    if issue.kind == IssueKind.ALERT and (meetings is not None or promotions is not None):
        raise InvalidInput(
            f"issue No. {issue.number} is a safety alert: it carries the ministry's entries, not meetings "
            "or promotions"
        )
    if charset is not None:
        _check_charset_name(charset)
    old_meetings = _meetings_of(issue)
    new_meetings = old_meetings if meetings is None else list(meetings)
    new_ja, new_en = derived_subjects(issue.number, new_meetings)
    if not _follows_meetings(issue.subject_ja, issue.number, old_meetings, 0):
        new_ja = issue.subject_ja
    if not _follows_meetings(issue.subject_en, issue.number, old_meetings, 1):
        new_en = issue.subject_en
    subjects = (_checked_subject(subject_ja, new_ja), _checked_subject(subject_en, new_en))
    leads = (_checked_lead(lead_ja, issue.lead_ja), _checked_lead(lead_en, issue.lead_en))
    new_date = issue_date or issue.issue_date
    if meetings is not None or promotions is not None or new_date != issue.issue_date:
        if promotions is None and new_date == issue.issue_date:
            promotions = [item.promotion for item in issue.items if item.promotion is not None]
        kept = [item.alert_id for item in issue.items if item.alert_id is not None]
        issue.items = _items(session, new_meetings, new_date, promotions, kept)
    issue.issue_date = new_date
    issue.subject_ja, issue.subject_en = subjects
    issue.lead_ja, issue.lead_en = leads
    issue.charset = charset or issue.charset
    check_issue_charset(session, issue)
    session.flush()
    return issue


def delete_draft(session: Session, issue: Issue) -> None:
    """Delete a draft and its sections; only the newest number is ever freed (see `next_issue_number`)."""
    _require_draft(issue, "deleted")
    if issue.kind == IssueKind.ALERT:
        from outreach.alerts.compose import drop_alert_draft  # it imports this module

        drop_alert_draft(session, issue)
    session.delete(issue)
    session.flush()


def issues_carrying(session: Session, meeting: Meeting) -> list[Issue]:
    """Every issue that carries the meeting's outcome, oldest first."""
    carrying = select(IssueItem.issue_id).where(IssueItem.meeting_id == meeting.id)
    return list(session.scalars(select(Issue).where(Issue.id.in_(carrying)).order_by(Issue.number)))


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
    """The topics an issue is about: meeting outcomes, safety tools, seminars; safety alerts for an alert
    issue (a regular issue's safety section goes to its readers, it is no topic of its own)."""
    if issue.kind == IssueKind.ALERT:
        return {Topic.ALERTS}
    topics: set[Topic] = set()
    for item in issue.items:
        if item.meeting is not None:
            topics.add(Topic.MEETINGS)
        elif item.promotion is not None:
            topics.add(Topic.SEMINARS if item.promotion.slug in SEMINAR_PROMOTIONS else Topic.TOOLS)
    return topics
