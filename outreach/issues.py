"""Issues (号) of the mail magazine, composed from meeting outcomes and active promotions.

An issue is edited and deleted only while it is a draft; its status is moved by the lifecycle module alone.
"""

from __future__ import annotations

__all__ = [
    "CHARSETS",
    "charset_substitutions",
    "check_issue_charset",
    "compose_issue",
    "delete_draft",
    "edit_draft",
    "get_issue",
    "in_charset",
    "issue_for_meeting",
    "issue_texts",
    "issue_topics",
    "issues_carrying",
    "jst_today",
    "meeting_texts",
    "next_issue_number",
    "rendition_charsets",
    "substituted_texts",
    "uncarried_texts",
]

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from outreach import jis
from outreach.content import MEETING_KINDS, promotions_active_on
from outreach.errors import InvalidInput, NotFound
from outreach.models import (
    Issue,
    IssueItem,
    IssueStatus,
    Meeting,
    Organization,
    Promotion,
    Subscriber,
    SubscriberStatus,
    Topic,
)
from outreach.network import NETWORK_SLUG
from outreach.render import Uncarried, charset_refusal, uncarried

CHARSETS = ("utf-8", "iso-2022-jp")
_MAX_SUBJECT = 200

# (where, text): a text that goes into renditions, and how a person would name its place.
Text = tuple[str, str]


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
    """The number the next issue takes: one past the highest, so deleting an older draft leaves a gap."""
    return (session.scalar(select(func.max(Issue.number))) or 0) + 1


def subject_heads(number: int) -> tuple[str, str]:
    """What every subject of issue `number` starts with, in Japanese and English."""
    japanese = f"【海外安全メールマガジン 第{number}号】"
    return japanese, f"[SME Overseas Safety Network Newsletter No. {number}] "


def _derived_subjects(number: int, meetings: Sequence[Meeting]) -> tuple[str, str]:
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
    if not cleaned or len(cleaned) > _MAX_SUBJECT:
        raise InvalidInput(f"a subject must have 1 to {_MAX_SUBJECT} characters")
    return cleaned


def _check_charset_name(charset: str) -> None:
    if charset not in CHARSETS:
        raise InvalidInput(f"the charset must be one of {', '.join(CHARSETS)}; got {charset!r}")


def _items(session: Session, meetings: Sequence[Meeting], issue_date: date) -> list[IssueItem]:
    """The meetings' outcomes in date order (each once), then every promotion active on the date."""
    ordered = sorted(dict.fromkeys(meetings), key=lambda meeting: meeting.held_on)
    items = [IssueItem(meeting=meeting) for meeting in ordered]
    items += [IssueItem(promotion=promotion) for promotion in promotions_active_on(session, issue_date)]
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
    charset: str = "utf-8",
) -> Issue:
    """A new draft issue: the meetings' outcomes first, then every promotion active on the issue's date.

    Every text of its renditions is checked against the charset first (see `check_issue_charset`).
    """
    _check_charset_name(charset)
    issue_date = issue_date or jst_today()
    number = next_issue_number(session)
    default_ja, default_en = _derived_subjects(number, meetings)
    issue = Issue(
        number=number,
        issue_date=issue_date,
        subject_ja=_checked_subject(subject_ja, default_ja),
        subject_en=_checked_subject(subject_en, default_en),
        charset=charset,
    )
    issue.items = _items(session, meetings, issue_date)
    check_issue_charset(session, issue)
    session.add(issue)
    session.flush()
    return issue


def _require_draft(issue: Issue, done: str) -> None:
    if issue.status != IssueStatus.DRAFT:
        raise InvalidInput(f"issue No. {issue.number} is {issue.status}: only a draft can be {done}")


def _meetings_of(issue: Issue) -> list[Meeting]:
    return [item.meeting for item in issue.items if item.meeting is not None]


def _follows_meetings(subject: str, number: int, meetings: Sequence[Meeting], language: int) -> bool:
    """Whether a subject is the one derived from (any of) the meetings, not one that staff wrote."""
    # Compose derives it from the first meeting given, which need not be the earliest one.
    candidates = [[meeting] for meeting in meetings] or [[]]
    return any(subject == _derived_subjects(number, chosen)[language] for chosen in candidates)


def edit_draft(
    session: Session,
    issue: Issue,
    *,
    meetings: Sequence[Meeting] | None = None,
    issue_date: date | None = None,
    subject_ja: str | None = None,
    subject_en: str | None = None,
    charset: str | None = None,
) -> Issue:
    """Change what is given of a draft (None keeps it); every text is checked again against its charset.

    A new date or new meetings recompute the promotions; a derived subject follows new meetings,
    a subject that staff wrote stays.
    """
    _require_draft(issue, "edited")
    if charset is not None:
        _check_charset_name(charset)
    old_meetings = _meetings_of(issue)
    new_meetings = old_meetings if meetings is None else list(meetings)
    new_ja, new_en = _derived_subjects(issue.number, new_meetings)
    if not _follows_meetings(issue.subject_ja, issue.number, old_meetings, 0):
        new_ja = issue.subject_ja
    if not _follows_meetings(issue.subject_en, issue.number, old_meetings, 1):
        new_en = issue.subject_en
    subjects = (_checked_subject(subject_ja, new_ja), _checked_subject(subject_en, new_en))
    new_date = issue_date or issue.issue_date
    if meetings is not None or new_date != issue.issue_date:
        issue.items = _items(session, new_meetings, new_date)
    issue.issue_date = new_date
    issue.subject_ja, issue.subject_en = subjects
    issue.charset = charset or issue.charset
    check_issue_charset(session, issue)
    session.flush()
    return issue


def delete_draft(session: Session, issue: Issue) -> None:
    """Delete a draft and its sections; only the newest number is ever freed (see `next_issue_number`)."""
    _require_draft(issue, "deleted")
    session.delete(issue)
    session.flush()


def meeting_texts(meeting: Meeting) -> list[Text]:
    """Every text of a meeting that renditions show, in both languages."""
    key = meeting.key
    texts = [
        (f"the Japanese summary of {key}", meeting.summary_ja),
        (f"the English summary of {key}", meeting.summary_en),
        (f"who opened {key} (ja)", meeting.opened_by_ja),
        (f"who opened {key} (en)", meeting.opened_by_en),
    ]
    for number, link in enumerate(meeting.links, start=1):
        texts += [
            (f"the title of link {number} of {key} (ja)", link.get("title_ja", "")),
            (f"the title of link {number} of {key} (en)", link.get("title_en", "")),
            (f"the URL of link {number} of {key}", link.get("url", "")),
        ]
    return texts


def _promotion_texts(promotion: Promotion) -> list[Text]:
    slug = promotion.slug
    return [
        (f"the title of promotion {slug} (ja)", promotion.title_ja),
        (f"the title of promotion {slug} (en)", promotion.title_en),
        (f"the body of promotion {slug} (ja)", promotion.body_ja),
        (f"the body of promotion {slug} (en)", promotion.body_en),
        (f"the URL of promotion {slug}", promotion.url),
    ]


def _organization_texts(organization: Organization) -> list[Text]:
    slug = organization.slug
    return [
        (f"the name of {slug} (ja)", organization.name_ja),
        (f"the name of {slug} (en)", organization.name_en),
        (f"the greeting of {slug} (ja)", organization.greeting_ja),
        (f"the greeting of {slug} (en)", organization.greeting_en),
        (f"the contact of {slug} (ja)", organization.contact_ja),
        (f"the contact of {slug} (en)", organization.contact_en),
        (f"the URL of {slug}", organization.url),
    ]


def issue_texts(issue: Issue, organizations: Iterable[Organization]) -> list[Text]:
    """Every text that goes into the issue's renditions for these organizations, but the templates' own.

    It mirrors the views in `outreach.render`; rendering every rendition is the check that also covers
    the templates (see `outreach.usecases.drafts`).
    """
    texts = [("the Japanese subject", issue.subject_ja), ("the English subject", issue.subject_en)]
    for item in issue.items:
        if item.meeting is not None:
            texts += meeting_texts(item.meeting)
        elif item.promotion is not None:
            texts += _promotion_texts(item.promotion)
    for organization in organizations:
        texts += _organization_texts(organization)
    return texts


def uncarried_texts(texts: Iterable[Text], charset: str) -> list[Uncarried]:
    """Each text that the charset cannot carry, with its characters."""
    return [
        problem for where, text in texts if (problem := uncarried(text, charset, where=where)) is not None
    ]


def substituted_texts(texts: Iterable[Text], charset: str) -> list[jis.Substituted]:
    """Each text in which the charset's substitutions replace characters (～ → 〜), with what they replace."""
    found = []
    for where, text in texts:
        _, substitutions = jis.substitute(text, charset)
        if substitutions:
            found.append(jis.Substituted(where, substitutions))
    return found


def _organizations(session: Session) -> list[Organization]:
    return list(session.scalars(select(Organization).order_by(Organization.position)))


def _preferring(session: Session, charset: str) -> list[Organization]:
    """The organizations whose renditions go out in `charset` as a preference: those that prefer it, and
    those of the active subscribers who do (the network's own for a subscriber of no organization)."""
    readers = select(Subscriber.organization_id).where(
        Subscriber.status == SubscriberStatus.ACTIVE, Subscriber.charset == charset
    )
    of_readers = set(session.scalars(readers.distinct()))
    chosen = or_(Organization.charset == charset, Organization.id.in_(of_readers - {None}))
    if None in of_readers:
        chosen = or_(chosen, Organization.slug == NETWORK_SLUG)
    return list(session.scalars(select(Organization).where(chosen).order_by(Organization.position)))


def rendition_charsets(session: Session, issue: Issue) -> list[tuple[str, list[Organization]]]:
    """Each charset but UTF-8 that the issue's renditions go out in, with the organizations whose do: the
    issue's own for every organization, and ISO-2022-JP wherever a reader prefers it (even in a UTF-8 issue).
    """
    # No autoflush: an edited draft must not be written before it has passed the check.
    with session.no_autoflush:
        found = [(issue.charset, _organizations(session))] if issue.charset != "utf-8" else []
        for charset in CHARSETS:
            if charset not in ("utf-8", issue.charset) and (organizations := _preferring(session, charset)):
                found.append((charset, organizations))
    return found


def _preferred(issue: Issue, charset: str, organizations: Sequence[Organization]) -> str:
    """How a refusal names a charset: the issue's own plainly, a preferred one with whose preference it is."""
    if charset == issue.charset:
        return ""
    slugs = ", ".join(organization.slug for organization in organizations[:5])
    return f"{charset} (which readers of {slugs}{', …' if len(organizations) > 5 else ''} prefer)"


def check_issue_charset(session: Session, issue: Issue) -> None:
    """Refuse an issue any text of which a charset its renditions go out in cannot carry, even after its
    substitutions (see `outreach.jis`), naming every character and where it is.

    Without this an ISO-2022-JP issue, or one with readers who prefer ISO-2022-JP, would be accepted and then
    fail to build their messages at send time.
    """
    for charset, organizations in rendition_charsets(session, issue):
        problems = uncarried_texts(issue_texts(issue, organizations), charset)
        if problems:
            raise charset_refusal(problems, charset, carrier=_preferred(issue, charset, organizations))


def charset_substitutions(session: Session, issue: Issue) -> list[jis.Substituted]:
    """What the charsets of the issue's renditions replace in its texts, and where: for staff to read after
    compose or edit. Empty when they all go in UTF-8. The templates' own text and the sender's details are
    the project's and need none.
    """
    found = []
    for charset, organizations in rendition_charsets(session, issue):
        whose = "" if charset == issue.charset else f", for readers who prefer {charset}"
        changed = substituted_texts(issue_texts(issue, organizations), charset)
        found += [jis.Substituted(each.where + whose, each.substitutions) for each in changed]
    return found


@contextmanager
def in_charset(issue: Issue, charset: str) -> Iterator[Issue]:
    """The issue lent another charset while it is rendered for the readers who prefer that one, then given
    its own back. Never written: the caller lets nothing flush meanwhile (a detached issue, or no_autoflush).
    """
    # `Renderer.render` renders in the issue's charset; a charset argument of its own would make this moot.
    own = issue.charset
    issue.charset = charset
    try:
        yield issue
    finally:
        issue.charset = own


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
    """The topics an issue is about: meeting outcomes, safety tools, seminars."""
    topics: set[Topic] = set()
    for item in issue.items:
        if item.meeting is not None:
            topics.add(Topic.MEETINGS)
        elif item.promotion is not None:
            topics.add(Topic.SEMINARS if item.promotion.slug in SEMINAR_PROMOTIONS else Topic.TOOLS)
    return topics
