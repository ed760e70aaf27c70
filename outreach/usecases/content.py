"""What staff do with meeting outcomes: record one after a meeting, edit one later."""

from __future__ import annotations

__all__ = [
    "Carrier",
    "CharsetRefused",
    "FieldRefused",
    "Link",
    "MeetingChanges",
    "MeetingEdit",
    "MeetingRecord",
    "Uncarriable",
    "carriers",
    "check_meeting",
    "edit_meeting",
    "edit_meeting_as",
    "list_meetings",
    "meeting_target",
    "record_meeting",
    "record_meeting_as",
]

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach import content, issues
from outreach.errors import InvalidInput
from outreach.models import Issue, IssueStatus, Meeting
from outreach.network import Link
from outreach.render import charset_refusal, uncarried
from outreach.staff import audit

# What a sent or cancelled issue carries no longer matters to its charset: nothing more is rendered for it.
_FINISHED = (IssueStatus.SENT, IssueStatus.CANCELLED)


@dataclass(frozen=True)
class MeetingRecord:
    """A meeting outcome as staff give it: `key` is e.g. "plenary:9", the summaries are Markdown."""

    key: str
    held_on: date
    summary_ja: str
    summary_en: str = ""  # empty: the English renditions show the Japanese summary
    format: str | None = None
    opened_by_ja: str = ""
    opened_by_en: str = ""
    links: Sequence[Link] = ()


@dataclass(frozen=True)
class MeetingChanges:
    """What to change of a recorded meeting; None keeps a field, empty `links` removes them all."""

    held_on: date | None = None
    format: str | None = None
    summary_ja: str | None = None
    summary_en: str | None = None
    opened_by_ja: str | None = None
    opened_by_en: str | None = None
    links: Sequence[Link] | None = None


@dataclass(frozen=True)
class MeetingEdit:
    """An edited meeting, and what staff should know about the issues that carry it."""

    meeting: Meeting
    warnings: list[str] = field(default_factory=list)


def _link_rows(links: Sequence[Link]) -> list[dict[str, str]]:
    return [dataclasses.asdict(link) for link in links]


def record_meeting(session: Session, record: MeetingRecord) -> Meeting:
    """Record a meeting outcome; InvalidInput for a bad key, format, summary or link, or a duplicate."""
    return content.add_meeting(
        session,
        content.MeetingKey.parse(record.key),
        held_on=record.held_on,
        format=record.format,
        summary_ja=record.summary_ja,
        summary_en=record.summary_en,
        opened_by_ja=record.opened_by_ja,
        opened_by_en=record.opened_by_en,
        links=_link_rows(record.links),
    )


def edit_meeting(session: Session, key: str, changes: MeetingChanges) -> MeetingEdit:
    """Change a recorded meeting; NotFound for an unknown one.

    Refused (InvalidInput) when an unsent issue that carries the meeting has a charset that cannot carry
    the new text: otherwise that issue would fail to build every message when it is sent.
    """
    meeting = content.find_meeting(session, content.MeetingKey.parse(key))
    content.update_meeting(
        session,
        meeting,
        held_on=changes.held_on,
        format=changes.format,
        summary_ja=changes.summary_ja,
        summary_en=changes.summary_en,
        opened_by_ja=changes.opened_by_ja,
        opened_by_en=changes.opened_by_en,
        links=None if changes.links is None else _link_rows(changes.links),
    )
    carriers = issues.issues_carrying(session, meeting)
    _check_unsent_charsets(meeting, [issue for issue in carriers if issue.status not in _FINISHED])
    warnings = [_warning(meeting, issue) for issue in carriers if issue.status != IssueStatus.CANCELLED]
    return MeetingEdit(meeting, warnings)


def list_meetings(session: Session) -> list[Meeting]:
    """The recorded meetings, oldest first."""
    return list(session.scalars(select(Meeting).order_by(Meeting.held_on)))


def _check_unsent_charsets(meeting: Meeting, unsent: list[Issue]) -> None:
    for charset in sorted({issue.charset for issue in unsent} - {"utf-8"}):
        problems = issues.uncarried_texts(issues.meeting_texts(meeting), charset)
        if problems:
            numbers = " and ".join(f"No. {issue.number}" for issue in unsent if issue.charset == charset)
            plural = "s" if " and " in numbers else ""
            raise charset_refusal(problems, charset, carrier=f"issue{plural} {numbers} ({charset})")


def _warning(meeting: Meeting, issue: Issue) -> str:
    if issue.status == IssueStatus.SENT:
        return f"{meeting.key} went out in issue No. {issue.number}: its recipients keep the text they got"
    if issue.status in (IssueStatus.SENDING, IssueStatus.PAUSED):
        return (
            f"issue No. {issue.number} is {issue.status}: recipients it has not reached yet "
            "may get the edited text"
        )
    return f"issue No. {issue.number} ({issue.status}) carries {meeting.key}: preview it again"


# What the console does: the same use cases, each checked field by field and audited.

_TEXT_LIMITS = {"opened_by_ja": 200, "opened_by_en": 200, "summary_ja": 20_000, "summary_en": 20_000}
_LINK_LIMITS = {"title_ja": 300, "title_en": 300, "url": 500}


class FieldRefused(InvalidInput):
    """A refused field: `field` names it as the form does (`summary_ja`, `link_url_2`), `reason` is a short
    code an edge words in its own language (`required`, `too-long`, `bad-url`, `duplicate`, …)."""

    def __init__(self, field: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Uncarriable:
    """A field whose text the charset of unsent issues carrying the meeting cannot carry."""

    field: str
    chars: str
    charset: str
    issues: tuple[int, ...]


class CharsetRefused(InvalidInput):
    """An edit refused because unsent issues could not carry it, field by field (`found`)."""

    def __init__(self, found: Sequence[Uncarriable]) -> None:
        self.found = tuple(found)
        super().__init__(
            "; ".join(
                f"{item.chars} in {item.field}: issue No. {', '.join(map(str, item.issues))} "
                f"({item.charset}) cannot carry them"
                for item in self.found
            )
        )


@dataclass(frozen=True)
class Carrier:
    """An issue that carries a meeting or a promotion, and its state."""

    number: int
    status: IssueStatus


def meeting_target(key: str) -> str:
    """How the audit log names a meeting: `meeting plenary:9`."""
    return f"meeting {key}"


def carriers(found: Iterable[Issue]) -> list[Carrier]:
    """The issues that carry a text and still matter to it: every one but the cancelled."""
    return [Carrier(issue.number, issue.status) for issue in found if issue.status != IssueStatus.CANCELLED]


def _link_refusals(links: Sequence[Link]) -> list[FieldRefused]:
    found = []
    for number, link in enumerate(links, start=1):
        for name, limit in _LINK_LIMITS.items():
            if len(getattr(link, name)) > limit:
                found.append(
                    FieldRefused(f"link_{name}_{number}", "too-long", f"link {number}: {name} is long")
                )
        if not content.is_link_url(link.url):
            found.append(
                FieldRefused(
                    f"link_url_{number}", "bad-url", f"link {number} is no http(s) URL: {link.url!r}"
                )
            )
    return found


def _change_refusals(changes: MeetingChanges) -> list[FieldRefused]:
    found = []
    if changes.format is not None and changes.format not in content.MEETING_FORMATS:
        found.append(FieldRefused("format", "unknown", f"unknown format {changes.format!r}"))
    if changes.summary_ja is not None and not changes.summary_ja.strip():
        found.append(FieldRefused("summary_ja", "required", "the Japanese summary is empty"))
    for name, limit in _TEXT_LIMITS.items():
        text = getattr(changes, name)
        if text is not None and len(text) > limit:
            found.append(FieldRefused(name, "too-long", f"{name} is longer than {limit} characters"))
    return found + _link_refusals(changes.links or ())


def check_meeting(record: MeetingRecord) -> list[FieldRefused]:
    """Everything wrong with a new meeting's fields, all at once (a duplicate needs the database)."""
    found = []
    kind, _, _ = record.key.partition(":")
    try:
        content.MeetingKey.parse(record.key)
    except InvalidInput as error:
        found.append(
            FieldRefused("kind" if kind not in content.MEETING_KINDS else "number", "bad", str(error))
        )
    changes = MeetingChanges(
        format=record.format,
        summary_ja=record.summary_ja,
        summary_en=record.summary_en,
        opened_by_ja=record.opened_by_ja,
        opened_by_en=record.opened_by_en,
        links=record.links,
    )
    return found + _change_refusals(changes)


def record_meeting_as(
    session: Session, record: MeetingRecord, *, actor: str, now: datetime, ip: str | None = None
) -> Meeting:
    """`record_meeting`, refusing the first bad field (FieldRefused; a duplicate names `number`), audited."""
    refusals = check_meeting(record)
    if refusals:
        raise refusals[0]
    key = content.MeetingKey.parse(record.key)
    if content.meeting_exists(session, key):
        raise FieldRefused("number", "duplicate", f"meeting {key} is already recorded")
    meeting = record_meeting(session, record)
    detail = f"held on {meeting.held_on}"
    audit.record(
        session,
        actor=actor,
        action="meeting.add",
        target=meeting_target(meeting.key),
        detail=detail,
        now=now,
        ip=ip,
    )
    return meeting


def _field_texts(changes: MeetingChanges) -> dict[str, str]:
    texts = {name: getattr(changes, name) for name in _TEXT_LIMITS if getattr(changes, name) is not None}
    for number, link in enumerate(changes.links or (), start=1):
        texts.update({f"link_{name}_{number}": getattr(link, name) for name in _LINK_LIMITS})
    return texts


def _uncarriable(session: Session, meeting: Meeting, changes: MeetingChanges) -> list[Uncarriable]:
    """The changed texts that a non-UTF-8 unsent issue carrying the meeting cannot carry."""
    unsent = [issue for issue in issues.issues_carrying(session, meeting) if issue.status not in _FINISHED]
    found = []
    for charset in sorted({issue.charset for issue in unsent} - {"utf-8"}):
        numbers = tuple(issue.number for issue in unsent if issue.charset == charset)
        for name, text in _field_texts(changes).items():
            problem = uncarried(text, charset, where=name)
            if problem is not None:
                found.append(Uncarriable(name, problem.chars, charset, numbers))
    return found


def _shown_fields(meeting: Meeting) -> dict[str, object]:
    names = ("held_on", "format", *_TEXT_LIMITS)
    return {
        **{name: getattr(meeting, name) for name in names},
        "links": [dict(link) for link in meeting.links],
    }


def edit_meeting_as(
    session: Session, key: str, changes: MeetingChanges, *, actor: str, now: datetime, ip: str | None = None
) -> MeetingEdit:
    """`edit_meeting`, refusing the first bad field (FieldRefused) or every text an unsent issue cannot carry
    (CharsetRefused, field by field); audited with the fields it changed."""
    refusals = _change_refusals(changes)
    if refusals:
        raise refusals[0]
    meeting = content.find_meeting(session, content.MeetingKey.parse(key))
    found = _uncarriable(session, meeting, changes)
    if found:
        raise CharsetRefused(found)
    before = _shown_fields(meeting)
    edited = edit_meeting(session, key, changes)
    after = _shown_fields(edited.meeting)
    changed = [name for name, value in after.items() if before[name] != value]
    detail = f"changed {', '.join(changed)}" if changed else "nothing changed"
    target = meeting_target(edited.meeting.key)
    audit.record(session, actor=actor, action="meeting.edit", target=target, detail=detail, now=now, ip=ip)
    return edited
