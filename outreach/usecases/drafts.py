"""What staff do with an issue before it goes out: compose a draft, edit it, delete it, preview it.

Numbering: an issue's number is in its subject (第N号) and the next one is one past the highest. Deleting the
newest draft frees its number for the next issue; deleting an older one leaves a gap, which `Deleted` names.
Later issues are never renumbered, since staff may already have previewed, shared or scheduled them.
"""

from __future__ import annotations

__all__ = [
    "Deleted",
    "DraftChanges",
    "Drafted",
    "NewDraft",
    "Preview",
    "compose",
    "delete",
    "edit",
    "list_issues",
    "preview",
]

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach import content, digest, issues
from outreach.errors import InvalidInput, NotFound
from outreach.i18n import LANGUAGES
from outreach.models import Issue, IssueStatus, Meeting, Organization
from outreach.preview import write_preview
from outreach.render import Renderer


@dataclass(frozen=True)
class NewDraft:
    """A draft to compose: meetings named "plenary:8"; no date means today (JST), no subject a derived one."""

    meetings: Sequence[str]
    issue_date: date | None = None
    subject_ja: str | None = None
    subject_en: str | None = None
    charset: str = "utf-8"


@dataclass(frozen=True)
class DraftChanges:
    """What to change of a draft; None keeps a field. `meetings` replaces the meetings it carries."""

    meetings: Sequence[str] | None = None
    issue_date: date | None = None
    subject_ja: str | None = None
    subject_en: str | None = None
    charset: str | None = None


@dataclass(frozen=True)
class Drafted:
    """A composed or edited draft, and what staff should know before sending it."""

    issue: Issue
    warnings: list[str] = field(default_factory=list)
    substitutions: list[str] = field(default_factory=list)  # ISO-2022-JP: what was replaced, and where


@dataclass(frozen=True)
class Deleted:
    """A deleted draft's number and the number the next composed issue takes."""

    number: int
    next_number: int

    def __str__(self) -> str:
        if self.next_number == self.number:
            return f"deleted draft No. {self.number}; the next issue composed is No. {self.number} again"
        return (
            f"deleted draft No. {self.number}; No. {self.number} stays unused, as later issues keep their "
            f"numbers: the next issue composed is No. {self.next_number}"
        )


@dataclass(frozen=True)
class Preview:
    """A preview written to a file."""

    path: Path
    organization: str
    language: str
    subject: str
    substitutions: tuple[str, ...] = ()


def _meetings(session: Session, keys: Sequence[str]) -> list[Meeting]:
    parsed = [content.MeetingKey.parse(key) for key in keys]  # every key is checked before any lookup
    return [content.find_meeting(session, key) for key in parsed]


def compose(session: Session, draft: NewDraft, *, renderer: Renderer | None = None) -> Drafted:
    """A new draft from meeting outcomes and the promotions active on its date.

    Every text is checked against the charset, and against ISO-2022-JP where readers prefer it; with a
    renderer, each rendition in ISO-2022-JP is also rendered, which checks the templates' own text (about
    1 s for 62 renditions).
    """
    meetings = _meetings(session, draft.meetings)
    issue = issues.compose_issue(
        session,
        meetings=meetings,
        issue_date=draft.issue_date,
        subject_ja=draft.subject_ja,
        subject_en=draft.subject_en,
        charset=draft.charset,
    )
    _check_renditions(session, issue, renderer)
    return _drafted(session, issue)


def edit(
    session: Session, number: int, changes: DraftChanges, *, renderer: Renderer | None = None
) -> Drafted:
    """Change a draft (InvalidInput for an issue that is not one); checked as at compose."""
    issue = issues.get_issue(session, number)
    issues.edit_draft(
        session,
        issue,
        meetings=None if changes.meetings is None else _meetings(session, changes.meetings),
        issue_date=changes.issue_date,
        subject_ja=changes.subject_ja,
        subject_en=changes.subject_en,
        charset=changes.charset,
    )
    _check_renditions(session, issue, renderer)
    return _drafted(session, issue)


def delete(session: Session, number: int) -> Deleted:
    """Delete a draft (InvalidInput for an issue that is not one)."""
    issues.delete_draft(session, issues.get_issue(session, number))
    return Deleted(number, issues.next_issue_number(session))


def list_issues(session: Session) -> list[Issue]:
    return list(session.scalars(select(Issue).order_by(Issue.number)))


def preview(
    session: Session,
    number: int,
    *,
    organization: str,
    language: str,
    out: Path,
    renderer: Renderer,
    base_url: str,
    text: bool = False,
) -> Preview:
    """Write what a recipient of the organization sees in the language, with sample personal parts: in the
    organization's charset where it prefers one."""
    issue = issues.get_issue(session, number)
    carried = digest.carried_before(session, issue)
    member = _organization(session, organization)
    with session.no_autoflush, issues.in_charset(issue, member.charset or issue.charset):
        rendition = renderer.render(issue, member, language, carried=carried)
    path = write_preview(rendition, out, base_url=base_url, text=text)
    changed = tuple(str(substitution) for substitution in rendition.substitutions)
    return Preview(path, organization, language, rendition.subject, changed)


def _organization(session: Session, slug: str) -> Organization:
    found = session.scalar(select(Organization).where(Organization.slug == slug))
    if found is None:
        raise NotFound(f"there is no organization {slug!r}: `outreach org list` shows the slugs")
    return found


def _check_renditions(session: Session, issue: Issue, renderer: Renderer | None) -> None:
    """Render every rendition that goes out in a charset other than UTF-8 (the issue's own, or one its readers
    prefer), which also checks what is not in the issue's texts: templates, the sender."""
    if renderer is None:
        return
    for charset, organizations in issues.rendition_charsets(session, issue):
        # Lent for rendering only: nothing may flush the draft meanwhile.
        with session.no_autoflush, issues.in_charset(issue, charset):
            for organization in organizations:
                for language in LANGUAGES:
                    _render_checked(renderer, issue, organization, language)


def _render_checked(renderer: Renderer, issue: Issue, organization: Organization, language: str) -> None:
    try:
        renderer.render(issue, organization, language)
    except InvalidInput as error:
        raise InvalidInput(
            f"{error} (the issue's own texts fit: it is in the templates or the sender's details)"
        ) from None


def _drafted(session: Session, issue: Issue) -> Drafted:
    substitutions = [str(change) for change in issues.charset_substitutions(session, issue)]
    return Drafted(issue, _warnings(session, issue), substitutions)


def _warnings(session: Session, issue: Issue) -> list[str]:
    """Other issues that carry the same meetings: an outcome that went out already, or is about to."""
    warnings = []
    for item in issue.items:
        if item.meeting is None:
            continue
        for other in issues.issues_carrying(session, item.meeting):
            if other.id == issue.id or other.status == IssueStatus.CANCELLED:
                continue
            if other.status == IssueStatus.SENT:
                warnings.append(f"{item.meeting.key} already went out in issue No. {other.number}")
            else:
                warnings.append(f"{item.meeting.key} is also in issue No. {other.number} ({other.status})")
    return warnings
