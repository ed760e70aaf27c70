"""Watching a send, read from the ledger without writing: its progress (counts by state per organization, the
rate, the time left) and its delivery log (filtered, a page at a time, or every matching row in batches).

Every query names the issue first, so the ledger's index on (issue_id, status, id) narrows it before anything
else; the log is read a page at a time (LIMIT/OFFSET in id order) or in batches (yield_per), never whole.
"""

from __future__ import annotations

__all__ = [
    "ACTIVE_STATES",
    "RATE_WINDOW",
    "STATES",
    "WAITING_STATES",
    "CodeFilter",
    "LogFilters",
    "LogPage",
    "LogRow",
    "OrganizationName",
    "OrganizationRow",
    "Progress",
    "log_page",
    "log_rows",
    "organizations",
    "progress",
]

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Row, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from outreach.issues import get_issue
from outreach.models import Delivery, DeliveryStatus, IssueStatus, Organization
from outreach.network import NETWORK_SLUG

RATE_WINDOW = timedelta(minutes=5)  # the rate is what the relay accepted over the last few minutes
STATES: tuple[DeliveryStatus, ...] = tuple(DeliveryStatus)
# Rows a worker will still send by itself (a deferred row at its retry time); `unknown` waits for staff.
WAITING_STATES = frozenset({DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED})
ACTIVE_STATES = frozenset({IssueStatus.SENDING, IssueStatus.PAUSED})  # a send under way (or held)
_BATCH = 500


@dataclass(frozen=True)
class OrganizationName:
    slug: str
    name_ja: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_ja if language == "ja" else (self.name_en or self.name_ja)


_NO_NETWORK = OrganizationName(NETWORK_SLUG, "(ネットワーク)", "(network)")


@dataclass(frozen=True)
class _Directory:
    """The organizations in the network's order, and which one a ledger row's organization id stands for:
    a row with none is the network's (the unaffiliated get its rendition)."""

    ordered: list[OrganizationName]
    by_id: dict[int, OrganizationName]
    network_id: int | None

    def of(self, organization_id: int | None) -> OrganizationName:
        if organization_id is None:
            return self.network
        return self.by_id.get(organization_id, self.network)

    @property
    def network(self) -> OrganizationName:
        return self.by_id[self.network_id] if self.network_id is not None else _NO_NETWORK


def _directory(session: Session) -> _Directory:
    rows = session.execute(
        select(Organization.id, Organization.slug, Organization.name_ja, Organization.name_en).order_by(
            Organization.position, Organization.id
        )
    ).all()
    by_id = {row_id: OrganizationName(slug, ja, en) for row_id, slug, ja, en in rows}
    network_id = next((row_id for row_id, slug, _, _ in rows if slug == NETWORK_SLUG), None)
    ordered = [by_id[row_id] for row_id, *_ in rows]
    return _Directory(ordered, by_id, network_id)


def organizations(session: Session) -> list[OrganizationName]:
    """Every organization, in the network's order: the log's choice of organization."""
    return _directory(session).ordered


# Progress


@dataclass(frozen=True)
class OrganizationRow:
    organization: OrganizationName
    counts: Mapping[str, int]  # by DeliveryStatus value; a state with no rows is absent

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Progress:
    """An issue's send as the ledger has it at `now`."""

    number: int
    subject_ja: str
    subject_en: str
    status: IssueStatus
    pause_reason: str | None
    started_at: datetime | None
    sent_at: datetime | None
    rows: list[OrganizationRow]
    last_activity: datetime | None
    accepted_recently: int  # rows the relay accepted within `window`
    window: timedelta  # the last RATE_WINDOW, or less when the send began more recently
    totals: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.totals.values())

    @property
    def remaining(self) -> int:
        return sum(self.totals[state] for state in WAITING_STATES)

    @property
    def done(self) -> int:
        return self.total - self.remaining

    @property
    def rate(self) -> float | None:
        """Messages accepted per minute over the last few minutes; None when the send is not under way."""
        if self.status not in ACTIVE_STATES or self.window <= timedelta(0):
            return None
        return self.accepted_recently / (self.window / timedelta(minutes=1))

    @property
    def time_left(self) -> timedelta | None:
        """Remaining ÷ rate; None when unknown: not being sent (a paused send waits for whoever resumes
        it), or nothing accepted lately."""
        rate = self.rate
        if self.status != IssueStatus.SENDING or rate is None or (rate == 0 and self.remaining):
            return None
        return timedelta(minutes=self.remaining / rate) if self.remaining else timedelta(0)

    def subject(self, language: str) -> str:
        return self.subject_ja if language == "ja" else self.subject_en


def progress(session: Session, number: int, *, now: datetime) -> Progress:
    """Issue NUMBER's send (NotFound when there is no such issue): one grouped scan of its ledger rows, one
    count of what the relay accepted lately."""
    issue = get_issue(session, number)
    directory = _directory(session)
    grouped = session.execute(
        select(Delivery.organization_id, Delivery.status, func.count(), func.max(Delivery.updated_at))
        .where(Delivery.issue_id == issue.id)
        .group_by(Delivery.organization_id, Delivery.status)
    ).all()
    counts: dict[str, Counter[str]] = {}
    totals: Counter[str] = Counter()
    last: datetime | None = None
    for organization_id, status, count, latest in grouped:
        slug = directory.of(organization_id).slug
        counts.setdefault(slug, Counter())[str(status)] += int(count)
        totals[str(status)] += int(count)
        last = latest if last is None or (latest is not None and latest > last) else last
    order = [*directory.ordered, _NO_NETWORK]  # a ledger without the seeded network still shows its rows
    rows = [OrganizationRow(name, counts.pop(name.slug)) for name in order if name.slug in counts]
    since = max(now - RATE_WINDOW, issue.send_started_at or now)
    accepted = session.scalar(
        select(func.count())
        .select_from(Delivery)
        .where(
            Delivery.issue_id == issue.id,
            Delivery.status == DeliveryStatus.SENT,
            Delivery.updated_at >= since,
        )
    )
    return Progress(
        number=issue.number,
        subject_ja=issue.subject_ja,
        subject_en=issue.subject_en,
        status=issue.status,
        pause_reason=issue.pause_reason,
        started_at=issue.send_started_at,
        sent_at=issue.sent_at,
        rows=rows,
        last_activity=last,
        accepted_recently=int(accepted or 0),
        window=now - since,
        totals=totals,
    )


# The delivery log


@dataclass(frozen=True)
class CodeFilter:
    """SMTP codes from `low` to `high`: one code (550) or a class (5xx: 500 to 599)."""

    low: int
    high: int


@dataclass(frozen=True)
class LogFilters:
    organization: str = ""  # a slug; "" for every organization
    state: DeliveryStatus | None = None
    code: CodeFilter | None = None
    address: str = ""  # a part of the address, any case; % and _ are taken literally


@dataclass(frozen=True)
class LogRow:
    email: str
    organization: OrganizationName
    language: str
    status: DeliveryStatus
    smtp_code: int | None
    smtp_reply: str | None
    attempts: int
    updated_at: datetime


@dataclass(frozen=True)
class LogPage:
    rows: list[LogRow]
    page: int
    pages: int
    total: int


def _organization_condition(directory: _Directory, slug: str) -> ColumnElement[bool]:
    if not slug:
        return true()
    if slug == NETWORK_SLUG:
        network = Delivery.organization_id.is_(None)
        return (
            network
            if directory.network_id is None
            else or_(network, Delivery.organization_id == directory.network_id)
        )
    found = [row_id for row_id, name in directory.by_id.items() if name.slug == slug]
    return Delivery.organization_id == found[0] if found else false()


def _conditions(directory: _Directory, issue_id: int, filters: LogFilters) -> ColumnElement[bool]:
    conditions = [Delivery.issue_id == issue_id, _organization_condition(directory, filters.organization)]
    if filters.state is not None:
        conditions.append(Delivery.status == filters.state)
    if filters.code is not None:
        conditions.append(Delivery.smtp_code.between(filters.code.low, filters.code.high))
    if filters.address:
        conditions.append(func.lower(Delivery.email).contains(filters.address.lower(), autoescape=True))
    return and_(*conditions)


_Row = tuple[int | None, str, str, DeliveryStatus, int | None, str | None, int, datetime]


def _rows_query(condition: ColumnElement[bool]) -> Select[*_Row]:
    return (
        select(
            Delivery.organization_id,
            Delivery.email,
            Delivery.language,
            Delivery.status,
            Delivery.smtp_code,
            Delivery.smtp_reply,
            Delivery.attempts,
            Delivery.updated_at,
        )
        .where(condition)
        .order_by(Delivery.id)
    )


def _log_rows(directory: _Directory, rows: Iterable[Row[*_Row]]) -> list[LogRow]:
    return [
        LogRow(email, directory.of(organization_id), language, status, code, reply, attempts, updated)
        for organization_id, email, language, status, code, reply, attempts, updated in rows
    ]


def log_page(
    session: Session, issue_id: int, filters: LogFilters, *, page: int, per_page: int = 50
) -> LogPage:
    """One page of the matching rows in the ledger's order, counted with one query; a page past the last
    shows the last."""
    directory = _directory(session)
    condition = _conditions(directory, issue_id, filters)
    total = int(session.scalar(select(func.count()).select_from(Delivery).where(condition)) or 0)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    found = session.execute(_rows_query(condition).offset((page - 1) * per_page).limit(per_page))
    return LogPage(_log_rows(directory, found), page, pages, total)


def log_rows(
    session: Session, issue_id: int, filters: LogFilters, *, batch: int = _BATCH
) -> Iterator[list[LogRow]]:
    """Every matching row, in batches fetched as they are read (a server-side cursor where there is one)."""
    directory = _directory(session)
    query = _rows_query(_conditions(directory, issue_id, filters)).execution_options(yield_per=batch)
    for rows in session.execute(query).partitions():
        yield _log_rows(directory, rows)
