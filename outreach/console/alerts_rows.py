"""What the console's safety-alert pages read, without writing: the entries that arrived (filtered and paged,
with their places, levels and the issues carrying them), one entry in full, and the last polls of the feed
with a word on its health."""

from __future__ import annotations

__all__ = [
    "PER_PAGE",
    "AlertEntry",
    "Carrier",
    "Listing",
    "Page",
    "PollHealth",
    "PollRow",
    "alert_entry",
    "alert_page",
    "issue_alerts",
    "poll_health",
    "read_listing",
    "recent_polls",
]

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.alerts.models import AlertPlace, AlertPoll, AlertState, SafetyAlert
from outreach.alerts.places import name_of
from outreach.console.views import jst
from outreach.models import Issue, IssueItem

PER_PAGE = 30
SHOWN_POLLS = 10
HEALTHY_WITHIN = timedelta(hours=1)  # no successful poll for this long: the page warns
_SUCCEEDED = ("ok", "unchanged")
_TYPE = re.compile(r"[A-Z][A-Z0-9]{0,7}")
_PAGE = re.compile(r"[1-9][0-9]{0,5}")


@dataclass(frozen=True)
class Listing:
    """What the list page was asked for: a state, a type (info_type), a page; "" for any."""

    state: str = ""
    info_type: str = ""
    page: int = 1

    def query(self, page: int | None = None) -> dict[str, str | int]:
        """The query string's values for the same filter on `page` (the pager's links)."""
        given = {"state": self.state, "type": self.info_type}
        return {**{name: value for name, value in given.items() if value}, "page": page or self.page}


def read_listing(params: Mapping[str, str]) -> Listing | None:
    """The filter from a query string; None when a value is not one the form offers (the page answers 400)."""
    state, info_type, page = params.get("state", ""), params.get("type", ""), params.get("page", "1")
    if state and state not in {member.value for member in AlertState}:
        return None
    if info_type and not _TYPE.fullmatch(info_type):
        return None
    if not _PAGE.fullmatch(page):
        return None
    return Listing(state, info_type, int(page))


@dataclass(frozen=True)
class Carrier:
    """An issue that carries an entry: an alert issue (its content) or a regular one (its digest section)."""

    number: int
    kind: str  # magazine | alert
    status: str


@dataclass(frozen=True)
class AlertEntry:
    """An entry as the pages show it, its places named in the page's language."""

    id: int
    key: str
    info_type: str
    info_name: str
    published: str  # JST
    received: str  # JST
    places: tuple[str, ...]
    title: str
    lead: str
    main_text: str
    url: str
    mission_name: str
    mission_code: str
    risk_levels: tuple[int, ...]
    infection_levels: tuple[int, ...]
    change: str
    rule: str
    action: str
    state: str
    note: str
    feed_url: str
    carriers: tuple[Carrier, ...]

    @property
    def safe_url(self) -> str:
        """The official page's address when it is a web address; "" for anything a link must not open."""
        return self.url if self.url.startswith(("https://", "http://")) else ""


@dataclass(frozen=True)
class Page:
    """One page of the list: its entries (newest first), the counts, and the types there are to filter by."""

    entries: list[AlertEntry]
    total: int
    page: int
    pages: int
    types: list[str]


def _place_name(place: AlertPlace, language: str) -> str:
    return name_of(place.area_code, place.country_code, language, fallback=place.name)


def _carriers(session: Session, ids: Sequence[int]) -> dict[int, list[Carrier]]:
    found: dict[int, list[Carrier]] = {}
    if not ids:
        return found
    rows = session.execute(
        select(IssueItem.alert_id, Issue.number, Issue.kind, Issue.status)
        .join(Issue, Issue.id == IssueItem.issue_id)
        .where(IssueItem.alert_id.in_(ids))
        .order_by(Issue.number)
    )
    for alert_id, number, kind, status in rows:
        if alert_id is not None:
            found.setdefault(alert_id, []).append(Carrier(number, str(kind), str(status)))
    return found


def _entry(alert: SafetyAlert, carriers: list[Carrier], language: str) -> AlertEntry:
    return AlertEntry(
        id=alert.id,
        key=alert.key,
        info_type=alert.info_type,
        info_name=alert.info_name,
        published=jst(alert.published_at),
        received=jst(alert.received_at),
        places=tuple(_place_name(place, language) for place in alert.places),
        title=alert.title,
        lead=alert.lead,
        main_text=alert.main_text,
        url=alert.url,
        mission_name=alert.mission_name,
        mission_code=alert.mission_code,
        risk_levels=tuple(sorted(alert.risk_levels or ())),
        infection_levels=tuple(sorted(alert.infection_levels or ())),
        change=alert.change,
        rule=alert.rule,
        action=str(alert.action),
        state=str(alert.state),
        note=alert.note,
        feed_url=alert.feed_url,
        carriers=tuple(carriers),
    )


def alert_page(session: Session, listing: Listing, language: str) -> Page:
    """The entries the filter selects, newest first (published, then arrived); a page past the last is the
    last."""
    conditions = []
    if listing.state:
        conditions.append(SafetyAlert.state == AlertState(listing.state))
    if listing.info_type:
        conditions.append(SafetyAlert.info_type == listing.info_type)
    total = session.scalar(select(func.count()).select_from(SafetyAlert).where(*conditions)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(listing.page, pages)
    alerts = list(
        session.scalars(
            select(SafetyAlert)
            .where(*conditions)
            .order_by(
                SafetyAlert.published_at.desc().nulls_last(),
                SafetyAlert.received_at.desc(),
                SafetyAlert.id.desc(),
            )
            .limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)
        )
    )
    carriers = _carriers(session, [alert.id for alert in alerts])
    types = sorted(session.scalars(select(SafetyAlert.info_type).distinct()))
    return Page(
        [_entry(alert, carriers.get(alert.id, []), language) for alert in alerts],
        total,
        page,
        pages,
        types,
    )


def alert_entry(session: Session, alert_id: int, language: str) -> AlertEntry | None:
    """One entry in full; None when there is no such entry."""
    alert = session.get(SafetyAlert, alert_id)
    if alert is None:
        return None
    return _entry(alert, _carriers(session, [alert.id]).get(alert.id, []), language)


def issue_alerts(session: Session, number: int, language: str) -> list[AlertEntry]:
    """The entries issue No. `number` carries, in its order: an alert issue's content, or a regular issue's
    lines of "your countries' safety information"."""
    alerts = list(
        session.scalars(
            select(SafetyAlert)
            .join(IssueItem, IssueItem.alert_id == SafetyAlert.id)
            .join(Issue, Issue.id == IssueItem.issue_id)
            .where(Issue.number == number)
            .order_by(IssueItem.position, IssueItem.id)
        )
    )
    return [_entry(alert, [], language) for alert in alerts]


@dataclass(frozen=True)
class PollRow:
    started: str  # JST
    finished: str
    url: str
    result: str  # running, ok, unchanged, error
    http_status: int | None
    entries: int
    new: int
    detail: str


@dataclass(frozen=True)
class PollHealth:
    """Whether the feed is being read: the last poll failed, or none succeeded within the hour (or ever)."""

    last_failed: bool
    last_success: str  # JST, "" for never
    stale: bool

    @property
    def warning(self) -> bool:
        return self.last_failed or self.stale


def recent_polls(session: Session) -> list[PollRow]:
    """The last polls, newest first."""
    polls = session.scalars(
        select(AlertPoll).order_by(AlertPoll.started_at.desc(), AlertPoll.id.desc()).limit(SHOWN_POLLS)
    )
    return [
        PollRow(
            jst(poll.started_at),
            jst(poll.finished_at),
            poll.url,
            poll.result,
            poll.http_status,
            poll.entries,
            poll.new,
            poll.detail,
        )
        for poll in polls
    ]


def poll_health(session: Session, *, now: datetime) -> PollHealth:
    last = session.scalars(
        select(AlertPoll.result).order_by(AlertPoll.started_at.desc(), AlertPoll.id.desc()).limit(1)
    ).first()
    succeeded = session.scalar(select(func.max(AlertPoll.started_at)).where(AlertPoll.result.in_(_SUCCEEDED)))
    if succeeded is not None and succeeded.tzinfo is None:  # SQLite gives naive UTC back
        succeeded = succeeded.replace(tzinfo=now.tzinfo)
    stale = succeeded is None or succeeded < now - HEALTHY_WITHIN
    return PollHealth(last == "error", jst(succeeded), stale)
