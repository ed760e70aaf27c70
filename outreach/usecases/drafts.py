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
    "Overlap",
    "Preview",
    "PreviewParts",
    "compose",
    "delete",
    "delete_as",
    "edit",
    "list_issues",
    "preview",
    "preview_parts",
    "review",
]

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach import content, digest, issue_charsets, issues
from outreach.errors import InvalidInput, NotFound
from outreach.i18n import LANGUAGES
from outreach.issue_charsets import CharsetRefused
from outreach.members.models import OrganizationProfile
from outreach.models import Issue, IssueStatus, Meeting, Organization, Promotion
from outreach.preview import filled, write_preview
from outreach.render import Renderer, Rendition
from outreach.staff import audit


@dataclass(frozen=True)
class NewDraft:
    """A draft to compose: meetings named "plenary:8"; no date means today (JST), no subject a derived one.

    `lead_ja`/`lead_en`: the editorial lead above the sections, Markdown ("": none). `promotions`: the slugs
    of the promotions it carries, each active on its date; None: every one active on it.
    """

    meetings: Sequence[str]
    issue_date: date | None = None
    subject_ja: str | None = None
    subject_en: str | None = None
    charset: str = "utf-8"
    lead_ja: str = ""
    lead_en: str = ""
    promotions: Sequence[str] | None = None


@dataclass(frozen=True)
class DraftChanges:
    """What to change of a draft; None keeps a field. `meetings` replaces the meetings it carries."""

    meetings: Sequence[str] | None = None
    issue_date: date | None = None
    subject_ja: str | None = None
    subject_en: str | None = None
    charset: str | None = None
    lead_ja: str | None = None
    lead_en: str | None = None
    promotions: Sequence[str] | None = None  # replaces the promotions it carries


@dataclass(frozen=True)
class Overlap:
    """A meeting of a draft that another issue carries too: one that went out already, or is about to."""

    meeting: str  # its key, "plenary:8"
    kind: str
    meeting_number: int
    issue_number: int
    status: IssueStatus

    def __str__(self) -> str:
        if self.status == IssueStatus.SENT:
            return f"{self.meeting} already went out in issue No. {self.issue_number}"
        return f"{self.meeting} is also in issue No. {self.issue_number} ({self.status})"


@dataclass(frozen=True)
class Drafted:
    """A composed or edited draft, and what staff should know before sending it: `warnings` are the
    `overlaps` in words."""

    issue: Issue
    warnings: list[str] = field(default_factory=list)
    substitutions: list[str] = field(default_factory=list)  # ISO-2022-JP: what was replaced, and where
    overlaps: list[Overlap] = field(default_factory=list)


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


def _promotions(session: Session, slugs: Sequence[str] | None) -> list[Promotion] | None:
    """The promotions with these slugs (None for None); NotFound naming every slug that names none."""
    if slugs is None:
        return None
    found = {row.slug: row for row in session.scalars(select(Promotion).where(Promotion.slug.in_(slugs)))}
    unknown = [slug for slug in dict.fromkeys(slugs) if slug not in found]
    if unknown:
        raise NotFound(
            f"there is no promotion {', '.join(map(repr, unknown))}: the seed's promotions.toml names them"
        )
    return [found[slug] for slug in dict.fromkeys(slugs)]


def compose(session: Session, draft: NewDraft, *, renderer: Renderer | None = None) -> Drafted:
    """A new draft from meeting outcomes, its lead and the promotions active on its date (or those chosen).

    Every text is checked against the charset, and against ISO-2022-JP where readers prefer it; with a
    renderer, each rendition in ISO-2022-JP is also rendered, which checks the templates' own text (about
    1 s for 62 renditions).
    """
    meetings = _meetings(session, draft.meetings)
    issue = issues.compose_issue(
        session,
        meetings=meetings,
        issue_date=draft.issue_date,
        subject_ja=_written(draft.subject_ja),
        subject_en=_written(draft.subject_en),
        lead_ja=draft.lead_ja,
        lead_en=draft.lead_en,
        charset=draft.charset,
        promotions=_promotions(session, draft.promotions),
    )
    _check_renditions(session, issue, renderer)
    return _drafted(session, issue)


def edit(
    session: Session, number: int, changes: DraftChanges, *, renderer: Renderer | None = None
) -> Drafted:
    """Change a draft (InvalidInput for an issue that is not one); checked as at compose. An empty subject
    goes back to the one derived from its meetings."""
    issue = issues.get_issue(session, number)
    meetings = None if changes.meetings is None else _meetings(session, changes.meetings)
    derived = issues.derived_subjects(number, _meetings_of(issue) if meetings is None else meetings)
    issues.edit_draft(
        session,
        issue,
        meetings=meetings,
        issue_date=changes.issue_date,
        subject_ja=_written(changes.subject_ja, derived[0]),
        subject_en=_written(changes.subject_en, derived[1]),
        lead_ja=changes.lead_ja,
        lead_en=changes.lead_en,
        charset=changes.charset,
        promotions=_promotions(session, changes.promotions),
    )
    _check_renditions(session, issue, renderer)
    return _drafted(session, issue)


def _written(subject: str | None, derived: str | None = None) -> str | None:
    """A subject staff wrote; an empty one is the derived one (None at compose: derived there)."""
    return derived if subject is not None and not subject.strip() else subject


def _meetings_of(issue: Issue) -> list[Meeting]:
    return [item.meeting for item in issue.items if item.meeting is not None]


def delete(session: Session, number: int) -> Deleted:
    """Delete a draft (InvalidInput for an issue that is not one)."""
    issues.delete_draft(session, issues.get_issue(session, number))
    return Deleted(number, issues.next_issue_number(session))


def delete_as(session: Session, number: int, actor: str, *, now: datetime, ip: str | None = None) -> Deleted:
    """Delete a draft as `actor`, audited (`issue.delete`, with the number the next issue takes)."""
    subject = issues.get_issue(session, number).subject_ja
    deleted = delete(session, number)
    target = audit.issue_target(number)
    detail = f"{subject}; {deleted}"
    audit.record(session, actor=actor, action="issue.delete", target=target, detail=detail, ip=ip, now=now)
    return deleted


def review(session: Session, number: int) -> Drafted:
    """What staff should know of an issue as it stands (its overlaps, its charset's replacements): as compose
    and edit say, for a page to show again later. Writes nothing."""
    return _drafted(session, issues.get_issue(session, number))


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
    rendition = _preview_rendition(session, number, organization, language, renderer)
    path = write_preview(rendition, out, base_url=base_url, text=text)
    changed = tuple(str(substitution) for substitution in rendition.substitutions)
    return Preview(path, organization, language, rendition.subject, changed)


@dataclass(frozen=True)
class PreviewParts:
    """What `preview` writes, both parts, for a page to show (the console's side-by-side preview)."""

    organization: str
    language: str
    subject: str
    charset: str
    html: str
    text: str
    substitutions: tuple[str, ...] = ()


def preview_parts(
    session: Session, number: int, *, organization: str, language: str, renderer: Renderer, base_url: str
) -> PreviewParts:
    """The HTML and the plain text `preview` would write, with the subject, charset and substitutions."""
    rendition = _preview_rendition(session, number, organization, language, renderer)
    return PreviewParts(
        organization,
        language,
        rendition.subject,
        rendition.charset,
        filled(rendition, base_url=base_url),
        filled(rendition, base_url=base_url, text=True),
        tuple(str(substitution) for substitution in rendition.substitutions),
    )


def _preview_rendition(
    session: Session, number: int, organization: str, language: str, renderer: Renderer
) -> Rendition:
    issue = issues.get_issue(session, number)
    carried = digest.carried_before(session, issue)
    member = _organization(session, organization)
    profile = session.get(OrganizationProfile, member.id)
    with session.no_autoflush, issue_charsets.in_charset(issue, member.charset or issue.charset):
        return renderer.render(issue, member, language, carried=carried, profile=profile)


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
    profiles = issue_charsets.organization_profiles(session)
    for charset, organizations in issue_charsets.rendition_charsets(session, issue):
        # Lent for rendering only: nothing may flush the draft meanwhile.
        with session.no_autoflush, issue_charsets.in_charset(issue, charset):
            for organization in organizations:
                for language in LANGUAGES:
                    _render_checked(renderer, issue, organization, language, profiles.get(organization.id))


def _render_checked(
    renderer: Renderer,
    issue: Issue,
    organization: Organization,
    language: str,
    profile: OrganizationProfile | None,
) -> None:
    try:
        renderer.render(issue, organization, language, profile=profile)
    except InvalidInput as error:
        raise CharsetRefused(
            f"{error} (the issue's own texts fit: it is in the templates or the sender's details)",
            [("templates", None)],
        ) from None


def _drafted(session: Session, issue: Issue) -> Drafted:
    substitutions = [str(change) for change in issue_charsets.charset_substitutions(session, issue)]
    overlaps = _overlaps(session, issue)
    return Drafted(issue, [str(overlap) for overlap in overlaps], substitutions, overlaps)


def _overlaps(session: Session, issue: Issue) -> list[Overlap]:
    """Other issues that carry the same meetings: an outcome that went out already, or is about to."""
    found = []
    for meeting in _meetings_of(issue):
        for other in issues.issues_carrying(session, meeting):
            if other.id != issue.id and other.status != IssueStatus.CANCELLED:
                found.append(Overlap(meeting.key, meeting.kind, meeting.number, other.number, other.status))
    return found
