"""What the console's pages show, read without writing: the issues, one issue, an organization's names."""

from __future__ import annotations

__all__ = ["IssueDetail", "IssueRow", "Section", "issue_detail", "issue_rows", "organization_names"]

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.content import MEETING_KINDS
from outreach.issues import get_issue
from outreach.models import Delivery, Issue, IssueStatus, Organization
from outreach.reports import OrganizationReach, reach_by_organization
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases.approval import NotApproved, Refusal, require_approval
from outreach.usecases.sends import Audience, audience


@dataclass(frozen=True)
class IssueRow:
    number: int
    issue_date: date
    subject_ja: str
    subject_en: str
    status: IssueStatus
    recipients: int | None  # rows in the ledger; None before a send has made them
    kind: str = "magazine"  # IssueKind: "alert" for a safety alert (速報)

    def subject(self, language: str) -> str:
        return self.subject_ja if language == "ja" else self.subject_en


def issue_rows(session: Session) -> list[IssueRow]:
    """Every issue, newest first, with its number of recipients in the ledger."""
    recipients = select(Delivery.issue_id, func.count().label("count")).group_by(Delivery.issue_id).subquery()
    rows = session.execute(
        select(
            Issue.number,
            Issue.issue_date,
            Issue.subject_ja,
            Issue.subject_en,
            Issue.status,
            recipients.c.count,
            Issue.kind,
        )
        .join(recipients, recipients.c.issue_id == Issue.id, isouter=True)
        .order_by(Issue.number.desc())
    )
    return [
        IssueRow(
            number,
            issue_date,
            subject_ja,
            subject_en,
            status,
            None if count is None else int(count),
            str(kind),
        )
        for number, issue_date, subject_ja, subject_en, status, count, kind in rows
    ]


def organization_names(session: Session, slug: str) -> tuple[str, str]:
    """The organization's Japanese and English names; the slug for both when it has gone."""
    found = session.execute(
        select(Organization.name_ja, Organization.name_en).where(Organization.slug == slug)
    ).first()
    return (found[0], found[1]) if found is not None else (slug, slug)


@dataclass(frozen=True)
class Section:
    """A section of an issue: a meeting's outcome (its kind in both languages, its number and day) or a
    promotion (its titles)."""

    title_ja: str
    title_en: str
    number: int | None = None  # a meeting's: 第N回
    held_on: date | None = None

    def title(self, language: str) -> str:
        return self.title_ja if language == "ja" else self.title_en


@dataclass(frozen=True)
class IssueDetail:
    """Everything the issue page shows. Before a send starts, `audience` is who it would reach now;
    after, `reach` is the ledger's recipients by state."""

    number: int
    issue_date: date
    subject_ja: str
    subject_en: str
    status: IssueStatus
    charset: str
    composed_by: str | None
    approved_by: str | None
    approved_at: datetime | None
    scheduled_at: datetime | None
    pause_reason: str | None
    sections: list[Section]
    audience: list[Audience]
    reach: list[OrganizationReach]
    unapproved: Refusal | None  # why the approval rule holds back a send, or None: it may go
    kind: str = "magazine"  # IssueKind: "alert" for a safety alert, whose items are feed entries

    @property
    def unstarted(self) -> bool:
        return self.status in (IssueStatus.DRAFT, IssueStatus.SCHEDULED)

    def subject(self, language: str) -> str:
        return self.subject_ja if language == "ja" else self.subject_en


def _sections(issue: Issue) -> list[Section]:
    found = []
    for item in issue.items:
        if item.meeting is not None:
            kind_ja, kind_en = MEETING_KINDS.get(item.meeting.kind, (item.meeting.kind, item.meeting.kind))
            found.append(Section(kind_ja, kind_en, item.meeting.number, item.meeting.held_on))
        elif item.promotion is not None:
            found.append(Section(item.promotion.title_ja, item.promotion.title_en))
    return found


def _unapproved(issue: Issue, policy: ApprovalPolicy) -> Refusal | None:
    try:
        require_approval(issue, policy)
    except NotApproved as refusal:
        return refusal.reason
    return None


def issue_detail(session: Session, number: int, policy: ApprovalPolicy) -> IssueDetail:
    """The issue with this number (NotFound when there is none), for its page."""
    issue = get_issue(session, number)
    unstarted = issue.status in (IssueStatus.DRAFT, IssueStatus.SCHEDULED)
    return IssueDetail(
        number=issue.number,
        issue_date=issue.issue_date,
        subject_ja=issue.subject_ja,
        subject_en=issue.subject_en,
        status=issue.status,
        charset=issue.charset,
        composed_by=issue.composed_by,
        approved_by=issue.approved_by,
        approved_at=issue.approved_at,
        scheduled_at=issue.scheduled_at,
        pause_reason=issue.pause_reason,
        sections=_sections(issue),
        audience=audience(session, issue) if unstarted else [],
        reach=[] if unstarted else reach_by_organization(session, issue.id),
        unapproved=_unapproved(issue, policy),
        kind=str(issue.kind),
    )
