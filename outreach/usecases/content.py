"""What staff do with meeting outcomes: record one after a meeting, edit one later."""

from __future__ import annotations

__all__ = [
    "Link",
    "MeetingChanges",
    "MeetingEdit",
    "MeetingRecord",
    "edit_meeting",
    "list_meetings",
    "record_meeting",
]

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach import content, issues
from outreach.models import Issue, IssueStatus, Meeting
from outreach.network import Link
from outreach.render import charset_refusal

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
