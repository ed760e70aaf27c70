"""What member organizations do with their forward kits (`outreach.members.kit`): each download, recorded and
audited, and how many companies an organization says it forwarded an issue to; the only writer of
`kit_downloads` and `forward_reports`. The reach report shows the forwarding beside outreach's own figures.
"""

from __future__ import annotations

__all__ = ["MAX_COMPANIES", "MAX_NOTE", "KitIssue", "download", "kit_issues", "report_forwarding"]

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from outreach.errors import InvalidInput
from outreach.links import PersonalLinks
from outreach.members.kit import KIT_STATUSES, KitFile, build_file, kit_issue, kit_organization
from outreach.members.models import ForwardReport, KitDownload, KitFormat
from outreach.models import Issue, IssueStatus
from outreach.render import Renderer
from outreach.staff import audit

MAX_COMPANIES = 1_000_000
MAX_NOTE = 500


def download(
    session: Session,
    *,
    renderer: Renderer,
    links: PersonalLinks,
    number: int,
    slug: str,
    language: str,
    kit_format: KitFormat,
    by: str,
    actor: str,
    ip: str | None,
    now: datetime,
    recorded: bool = True,
) -> KitFile:
    """The file, its download recorded and audited (`kit.download`) in the caller's transaction; not
    `recorded`, only the file (a look at its headers downloads nothing)."""
    found = build_file(
        session,
        renderer=renderer,
        links=links,
        number=number,
        slug=slug,
        language=language,
        kit_format=kit_format,
        now=now,
    )
    if not recorded:
        return found
    issue, organization = kit_issue(session, number), kit_organization(session, slug)
    session.add(
        KitDownload(
            issue_id=issue.id,
            organization_id=organization.id,
            format=kit_format,
            language=language,
            downloaded_by=by[:200],
            downloaded_at=now,
        )
    )
    detail = f"{slug}: {language} {kit_format.value}"
    audit.record(
        session,
        actor=actor,
        action="kit.download",
        target=audit.issue_target(number),
        detail=detail,
        ip=ip,
        now=now,
    )
    return found


# What the organization did with its kits


@dataclass(frozen=True)
class KitIssue:
    """An issue with a kit, as the kit page lists it for one organization."""

    number: int
    issue_date: date
    subject_ja: str
    subject_en: str
    status: IssueStatus
    downloads: int
    last_download: datetime | None
    companies: int | None  # the organization's report; None before it reports
    note: str
    reported_by: str
    reported_at: datetime | None

    def subject(self, language: str) -> str:
        return self.subject_ja if language == "ja" else self.subject_en


def kit_issues(session: Session, slug: str) -> list[KitIssue]:
    """The issues that have kits, newest first, with the organization's downloads and report of each."""
    organization = kit_organization(session, slug)
    downloads = {
        issue_id: (count, last)
        for issue_id, count, last in session.execute(
            select(KitDownload.issue_id, func.count(), func.max(KitDownload.downloaded_at))
            .where(KitDownload.organization_id == organization.id)
            .group_by(KitDownload.issue_id)
        )
    }
    reports = {
        report.issue_id: report
        for report in session.scalars(
            select(ForwardReport).where(ForwardReport.organization_id == organization.id)
        )
    }
    issues = session.scalars(
        select(Issue).where(Issue.status.in_(KIT_STATUSES)).order_by(Issue.number.desc())
    )
    return [_listed(issue, downloads.get(issue.id, (0, None)), reports.get(issue.id)) for issue in issues]


def _listed(issue: Issue, downloaded: tuple[int, datetime | None], report: ForwardReport | None) -> KitIssue:
    return KitIssue(
        number=issue.number,
        issue_date=issue.issue_date,
        subject_ja=issue.subject_ja,
        subject_en=issue.subject_en,
        status=issue.status,
        downloads=downloaded[0],
        last_download=downloaded[1],
        companies=report.companies if report is not None else None,
        note=report.note if report is not None else "",
        reported_by=report.reported_by if report is not None else "",
        reported_at=report.reported_at if report is not None else None,
    )


def report_forwarding(
    session: Session,
    *,
    number: int,
    slug: str,
    companies: int,
    note: str,
    by: str,
    actor: str,
    ip: str | None,
    now: datetime,
) -> None:
    """Record how many companies the organization forwarded issue No. `number` to, replacing an earlier
    report of the same issue in one statement (two editors reporting at once leave one row), audited
    (`kit.forwarded`)."""
    if not 0 <= companies <= MAX_COMPANIES:
        raise InvalidInput(f"the number of companies must be from 0 to {MAX_COMPANIES:,}")
    note = note.replace("\r\n", "\n").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"the note must be at most {MAX_NOTE} characters")
    issue, organization = kit_issue(session, number), kit_organization(session, slug)
    values = {"companies": companies, "note": note, "reported_by": by[:200], "reported_at": now}
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(ForwardReport)
        .values(issue_id=issue.id, organization_id=organization.id, **values)
        .on_conflict_do_update(index_elements=["issue_id", "organization_id"], set_=values)
    )
    detail = f"{slug}: {companies} companies" + (f" ({note})" if note else "")
    audit.record(
        session,
        actor=actor,
        action="kit.forwarded",
        target=audit.issue_target(number),
        detail=detail,
        ip=ip,
        now=now,
    )
