"""The monthly reach report by mail: each organization that asked for it (its profile's `monthly_report`, to
its `email`, in its `report_language`) gets the previous month's figures, sent by the scheduler on the first
business day of the month (outreach.jobs) or by hand (`outreach report monthly`).

The figures are those of the organizations' reach pages (outreach.members.reach_history): per issue sent in
the month, delivered, undelivered, opt-outs and the forwarding it reported; and the month's growth (the
subscriptions confirmed in it less those ended in it). A report sent is a MonthlyReport row, written with its
audit event (`report.monthly`) as soon as the relay took the mail: a second run for the month sends nothing
more, and one organization whose mail failed does not stop the others and is tried again at the next run.
"""

from __future__ import annotations

__all__ = [
    "MONTHLY_ACTION",
    "Addressee",
    "Month",
    "MonthlyFigures",
    "MonthlyReports",
    "MonthlyRun",
    "addressees",
    "monthly_figures",
]

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from outreach.calendar import JST
from outreach.composer import senders
from outreach.config import Settings
from outreach.dates import format_en, format_ja
from outreach.db import Database
from outreach.errors import InvalidInput
from outreach.mailer import ConnectionLost, Mailer, make_mailer
from outreach.members.models import MonthlyReport, OrganizationProfile
from outreach.members.reach_history import Point, issue_reach_of, left_by_organization
from outreach.message import clean_header_text
from outreach.models import Issue, Organization, utcnow
from outreach.network import NETWORK_SLUG
from outreach.reach import figures_by_organization, issue_before
from outreach.reach_period import Period
from outreach.render import Renderer
from outreach.staff import audit

MONTHLY_ACTION = "report.monthly"
_TEMPLATE = "email/monthly_report"
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """`2026-11`; InvalidInput for anything else."""
        year, dash, month = text.strip().partition("-")
        digits = len(year) == 4 and len(month) == 2 and year.isdigit() and month.isdigit()
        if dash and digits and 1 <= int(month) <= 12 and int(year) >= 2000:
            return cls(int(year), int(month))
        raise InvalidInput(f"{text!r} is not a month written YYYY-MM, e.g. 2026-11")

    @classmethod
    def before(cls, moment: datetime) -> Month:
        """The month before `moment`'s (in Japan time): the month a report sent then is about."""
        first = moment.astimezone(JST).date().replace(day=1)
        last_month = first - timedelta(days=1)
        return cls(last_month.year, last_month.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def period(self) -> Period:
        first = date(self.year, self.month, 1)
        following = date(self.year + self.month // 12, self.month % 12 + 1, 1)
        return Period(first, following - timedelta(days=1))

    def label(self, language: str) -> str:
        """`2026年11月` / `November 2026`."""
        if language == "ja":
            return f"{self.year}年{self.month}月"
        return f"{_MONTH_NAMES[self.month - 1]} {self.year}"


@dataclass(frozen=True)
class IssueLine:
    number: int
    started: date  # JST
    point: Point


@dataclass(frozen=True)
class MonthlyFigures:
    """One organization's month: the issues sent in it and its subscribers joined and left."""

    issues: list[IssueLine] = field(default_factory=list)
    new_subscribers: int = 0
    left: int = 0

    @property
    def growth(self) -> int:
        return self.new_subscribers - self.left


@dataclass(frozen=True)
class Addressee:
    organization_id: int
    slug: str
    name_ja: str
    name_en: str
    email: str
    language: str

    @property
    def name(self) -> str:
        return self.name_ja if self.language == "ja" else self.name_en


@dataclass
class MonthlyRun:
    """What a run did: to whom it sent the month's report, who failed (and why), what it would send."""

    month: Month
    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    due: list[Addressee] = field(default_factory=list)
    dry_run: bool = False

    def describe(self) -> str:
        if self.dry_run:
            names = ", ".join(f"{a.slug} <{a.email}> ({a.language})" for a in self.due) or "nobody"
            return f"the report of {self.month} would go to {names}"
        if not self.due:
            return f"the report of {self.month}: nobody is due (opted in, with an address, not sent yet)"
        told = f"the report of {self.month} sent to {len(self.sent)} organization(s)"
        told += f": {', '.join(self.sent)}" if self.sent else ""
        if self.failed:
            reasons = "; ".join(f"{slug}: {why}" for slug, why in self.failed.items())
            told += f"; {len(self.failed)} failed, tried again at the next run ({reasons})"
        return told


def addressees(session: Session, month: Month) -> list[Addressee]:
    """The organizations due the month's report: opted in, with an address, not sent it yet; by position."""
    sent = select(MonthlyReport.organization_id).where(MonthlyReport.month == str(month))
    rows = session.execute(
        select(Organization, OrganizationProfile)
        .join(OrganizationProfile, OrganizationProfile.organization_id == Organization.id)
        .where(
            OrganizationProfile.monthly_report.is_(True),
            OrganizationProfile.email != "",
            Organization.id.not_in(sent),
        )
        .order_by(Organization.position, Organization.slug)
    )
    return [
        Addressee(
            organization.id,
            organization.slug,
            organization.name_ja,
            organization.name_en,
            profile.email,
            profile.report_language if profile.report_language in ("ja", "en") else "ja",
        )
        for organization, profile in rows
    ]


def monthly_figures(session: Session, month: Month) -> dict[str, MonthlyFigures]:
    """Every organization's month, by slug: its issues' points and its subscribers joined and left."""
    window = month.period.window()
    assert window.start is not None  # a month has a first day
    issues = session.scalars(
        select(Issue)
        .where(Issue.send_started_at >= window.start, Issue.send_started_at < window.end)
        .order_by(Issue.number)
    ).all()
    reaches = [issue_reach_of(session, issue, issue_before(session, issue)) for issue in issues]
    joined = figures_by_organization(session, [], opt_outs=window, joined=window)
    left = left_by_organization(session, window)
    slugs = {slug for reach in reaches for slug in reach.points} | joined.keys() | left.keys()
    return {
        slug: MonthlyFigures(
            [IssueLine(r.number, r.started_at.astimezone(JST).date(), r.of(slug)) for r in reaches],
            joined[slug].new_subscribers if slug in joined else 0,
            left[slug],
        )
        for slug in slugs
    }


class MonthlyReports:
    """Composes each organization's report and sends the due ones over one connection to the relay."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        mailer_factory: Callable[[Settings], Mailer] = make_mailer,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self._settings = settings
        self._renderer = Renderer(sender=senders(settings))
        self._mailer_factory = mailer_factory
        self._clock = clock

    def compose(self, addressee: Addressee, month: Month, figures: MonthlyFigures) -> EmailMessage:
        language = addressee.language
        env = self._renderer.environment(NETWORK_SLUG, language)
        sender = self._renderer.sender[language]
        base = "/admin" if language == "ja" else "/en/admin"
        context = {
            "lang": language,
            "sender": sender,
            "organization": addressee.name,
            "month": month.label(language),
            "figures": figures,
            "issues": [(line, _day(line.started, language)) for line in figures.issues],
            "reach_url": f"{self._settings.base_url}{base}/organizations/{addressee.slug}/reach",
        }
        subject = " ".join(env.get_template(f"{_TEMPLATE}.subject.txt").render(context).split())
        message = EmailMessage(policy=SMTP)
        message["From"] = Address(display_name=clean_header_text(sender.name), addr_spec=sender.address)
        message["To"] = addressee.email
        message["Subject"] = subject
        message["Date"] = format_datetime(self._clock().astimezone(JST))
        message["Message-ID"] = make_msgid(domain=self._settings.sender_address.rpartition("@")[2])
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
        message.set_content(env.get_template(f"{_TEMPLATE}.txt").render(context))
        message.add_alternative(env.get_template(f"{_TEMPLATE}.html").render(context), subtype="html")
        return message

    def _due(self, month: Month) -> tuple[list[Addressee], dict[str, MonthlyFigures]]:
        with self._db.session() as session:
            due = addressees(session, month)
            return due, (monthly_figures(session, month) if due else {})

    async def send(self, month: Month, *, actor: str, dry_run: bool = False) -> MonthlyRun:
        """Send the month's report to every organization due it. An unreachable relay raises
        RelayUnavailable before anything goes; a refused or dropped mail is one organization's failure."""
        due, figures = self._due(month)
        run = MonthlyRun(month, due=due, dry_run=dry_run)
        if dry_run or not due:
            return run
        mailer = self._mailer_factory(self._settings)
        await mailer.open()
        try:
            for addressee in due:
                await self._send_one(
                    mailer, run, addressee, figures.get(addressee.slug, MonthlyFigures()), actor
                )
        finally:
            await mailer.close()
        return run

    async def _send_one(
        self, mailer: Mailer, run: MonthlyRun, addressee: Addressee, figures: MonthlyFigures, actor: str
    ) -> None:
        message = self.compose(addressee, run.month, figures).as_bytes()
        label = f"reports/{run.month}-{addressee.slug}-{addressee.email}"
        try:
            reply = await mailer.send(
                sender=self._settings.sender_address, recipient=addressee.email, message=message, label=label
            )
        except ConnectionLost as error:
            run.failed[addressee.slug] = f"the connection dropped: {error}"
            return
        if not 200 <= reply.code < 300:
            log.warning("the relay refused the monthly report to %s: %s", addressee.email, reply)
            run.failed[addressee.slug] = f"refused: {reply}"
            return
        self._record(run.month, addressee, actor)
        run.sent.append(addressee.slug)

    def _record(self, month: Month, addressee: Addressee, actor: str) -> None:
        now = self._clock()
        try:
            with self._db.session() as session:
                session.add(
                    MonthlyReport(
                        organization_id=addressee.organization_id,
                        month=str(month),
                        sent_to=addressee.email,
                        sent_at=now,
                    )
                )
                audit.record(
                    session,
                    actor=actor,
                    action=MONTHLY_ACTION,
                    target=f"organization {addressee.slug}",
                    detail=f"the reach report of {month} to {addressee.email} ({addressee.language})",
                    now=now,
                )
        except IntegrityError:  # another run recorded it meanwhile: it is sent, which is what counts
            log.warning("the report of %s to %s was recorded by another run", month, addressee.slug)


def _day(day: date, language: str) -> str:
    return format_ja(day) if language == "ja" else format_en(day)
