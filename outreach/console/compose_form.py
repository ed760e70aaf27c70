"""The composer's form: what it posted (each field cut to its limit), what is wrong with it before the
engine sees it, and what it offers (the meetings, newest first, with the issues that carry them; the
promotions active on the date, marked new or carried by the previous issue).
"""

from __future__ import annotations

__all__ = [
    "LEAD_LIMIT",
    "Choices",
    "ComposeFields",
    "FieldProblem",
    "MeetingChoice",
    "PromotionChoice",
    "charset_problems",
    "checked",
    "choices",
    "read_compose",
]

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from outreach import digest, issues
from outreach.content import MEETING_KINDS, promotions_active_on
from outreach.issue_charsets import CHARSETS, CharsetRefused
from outreach.models import Issue, IssueItem, IssueStatus, Meeting

# The engine's own limit; the guard reads a console form's field up to 256 KiB (9 bytes a Japanese character
# once percent-encoded), so a lead of the whole length always arrives.
LEAD_LIMIT = issues.MAX_LEAD
_LIMITS = {"issue_date": 10, "charset": 20, "subject_ja": 200, "subject_en": 200, "lead_ja": LEAD_LIMIT}
_LIMITS |= {"lead_en": LEAD_LIMIT, "meeting": 20, "promotion": 60}
_MAX_CHOSEN = 100
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class FieldProblem:
    """Why the form was refused: `code` names the message (templates/admin/compose.html), `field` the field it
    is about (its id on the page), `detail` the engine's own words."""

    code: str
    field: str
    detail: str = ""


@dataclass(frozen=True)
class ComposeFields:
    """The form as posted (or as an issue fills it); `promotions` None: every one active on the date."""

    meetings: tuple[str, ...] = ()
    issue_date: str = ""
    subject_ja: str = ""
    subject_en: str = ""
    lead_ja: str = ""
    lead_en: str = ""
    charset: str = "utf-8"
    promotions: tuple[str, ...] | None = None
    refresh: bool = False  # "show the promotions of this date": compose nothing yet

    @property
    def day(self) -> date | None:
        if not _DATE.fullmatch(self.issue_date):
            return None
        try:
            return date.fromisoformat(self.issue_date)
        except ValueError:
            return None


def _one(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[: _LIMITS[name] + 1] if isinstance(value, str) else ""  # one more: "too long" is seen


def _many(form: FormData, name: str) -> tuple[str, ...]:
    values = [value[: _LIMITS[name]] for value in form.getlist(name) if isinstance(value, str)]
    return tuple(dict.fromkeys(values))[:_MAX_CHOSEN]


def read_compose(form: FormData) -> ComposeFields:
    """What the composer's form sent; texts kept as typed (the engine tidies them), the rest trimmed."""
    return ComposeFields(
        meetings=_many(form, "meeting"),
        issue_date=_one(form, "issue_date").strip(),
        subject_ja=_one(form, "subject_ja"),
        subject_en=_one(form, "subject_en"),
        lead_ja=_one(form, "lead_ja"),
        lead_en=_one(form, "lead_en"),
        charset=_one(form, "charset").strip(),
        promotions=_many(form, "promotion"),
        refresh=form.get("refresh") is not None,
    )


@dataclass(frozen=True)
class MeetingChoice:
    key: str
    kind: tuple[str, str]  # Japanese, English
    number: int
    held_on: date
    sent_in: tuple[int, ...]  # issues that carried it out already
    also_in: tuple[tuple[int, str], ...]  # other issues that carry it and have not gone out: (number, status)

    def title(self, language: str) -> str:
        return self.kind[0] if language == "ja" else self.kind[1]


@dataclass(frozen=True)
class PromotionChoice:
    slug: str
    title_ja: str
    title_en: str
    url: str
    compact: bool  # the previous issue carried it: a link in the compact list, not in full (outreach.digest)

    def title(self, language: str) -> str:
        return self.title_ja if language == "ja" else self.title_en


@dataclass(frozen=True)
class Choices:
    """What the form offers for issue No. `number` on a date, and its derived subjects for the meetings."""

    number: int
    meetings: list[MeetingChoice]
    promotions: list[PromotionChoice]
    derived: tuple[str, str]
    known_meetings: frozenset[str] = field(default_factory=frozenset)


def _carrying(session: Session, number: int) -> dict[int, list[tuple[int, IssueStatus]]]:
    """Per meeting id, the other issues (not cancelled) that carry it: (number, status)."""
    rows = session.execute(
        select(IssueItem.meeting_id, Issue.number, Issue.status)
        .join(Issue, Issue.id == IssueItem.issue_id)
        .where(IssueItem.meeting_id.is_not(None), Issue.number != number)
        .where(Issue.status != IssueStatus.CANCELLED)
        .order_by(Issue.number)
    )
    found: dict[int, list[tuple[int, IssueStatus]]] = {}
    for meeting_id, issue_number, status in rows:
        if meeting_id is not None:
            found.setdefault(meeting_id, []).append((issue_number, status))
    return found


def choices(session: Session, *, number: int, on: date, chosen: Sequence[str]) -> Choices:
    """The meetings (newest first) and the promotions active on `on`, for issue No. `number`."""
    meetings = list(session.scalars(select(Meeting).order_by(Meeting.held_on.desc(), Meeting.id.desc())))
    carrying = _carrying(session, number)
    offered = [
        MeetingChoice(
            key=meeting.key,
            kind=MEETING_KINDS.get(meeting.kind, (meeting.kind, meeting.kind)),
            number=meeting.number,
            held_on=meeting.held_on,
            sent_in=tuple(n for n, status in carrying.get(meeting.id, []) if status == IssueStatus.SENT),
            also_in=tuple((n, s.value) for n, s in carrying.get(meeting.id, []) if s != IssueStatus.SENT),
        )
        for meeting in meetings
    ]
    carried = digest.carried_before_number(session, number)
    promotions = [
        PromotionChoice(p.slug, p.title_ja, p.title_en, p.url, compact=not digest.in_full(p, carried))
        for p in promotions_active_on(session, on)
    ]
    by_key = {meeting.key: meeting for meeting in meetings}
    first = [by_key[key] for key in chosen if key in by_key][:1]
    derived = issues.derived_subjects(number, first)
    return Choices(number, offered, promotions, derived, frozenset(by_key))


def checked(fields: ComposeFields, offered: Choices) -> list[FieldProblem]:
    """What is wrong with the form that the engine would refuse without saying which field it is about."""
    problems = []
    if not fields.meetings:
        problems.append(FieldProblem("no-meeting", "meetings"))
    elif not set(fields.meetings) <= offered.known_meetings:
        problems.append(FieldProblem("unknown-meeting", "meetings"))
    if fields.day is None:
        problems.append(FieldProblem("bad-date", "issue_date"))
    for name in ("subject_ja", "subject_en"):
        if len(" ".join(getattr(fields, name).split())) > issues.MAX_SUBJECT:
            problems.append(FieldProblem("long-subject", name))
    for name in ("lead_ja", "lead_en"):
        if len(getattr(fields, name).replace("\r\n", "\n").strip()) > LEAD_LIMIT:
            problems.append(FieldProblem("long-lead", name))
    if fields.charset not in CHARSETS:
        problems.append(FieldProblem("bad-charset", "charset"))
    active = {promotion.slug for promotion in offered.promotions}
    if fields.day is not None and not set(fields.promotions or ()) <= active:
        problems.append(FieldProblem("inactive-promotion", "promotions"))
    return problems


def _field_of(part: str) -> str:
    """The form's field that a part of the issue (outreach.issue_charsets.Text.part) is typed in."""
    if part in ("subject_ja", "subject_en", "lead_ja", "lead_en"):
        return part
    if part.startswith("meeting:"):
        return "meetings"
    if part.startswith("promotion:"):
        return "promotions"
    return "charset"  # an organization's texts, the templates', the sender's: only the charset can change


def charset_problems(refusal: CharsetRefused) -> list[FieldProblem]:
    """A charset refusal as one problem per field, each with the engine's words for its own characters."""
    by_field: dict[str, list[str]] = {}
    for part, problem in refusal.problems:
        by_field.setdefault(_field_of(part), []).append(str(problem) if problem else str(refusal))
    order = ("subject_ja", "subject_en", "lead_ja", "lead_en", "meetings", "promotions", "charset")
    return [
        FieldProblem("charset", name, "; ".join(dict.fromkeys(by_field[name])))
        for name in order
        if name in by_field
    ]
