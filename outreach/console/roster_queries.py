"""What the roster pages read: an organization's subscribers a page at a time (searched, filtered by state,
counted by state) and one subscriber with their topics and the whole consent record. Reading only; the
writes are outreach.usecases.rosters'."""

from __future__ import annotations

__all__ = [
    "PER_PAGE",
    "ConsentLine",
    "RosterFilters",
    "RosterPage",
    "RosterRowView",
    "SubscriberDetail",
    "read_filters",
    "roster_page",
    "subscriber_detail",
]

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from outreach.alerts.places import Place
from outreach.console.orgscope import OrgRef
from outreach.models import ConsentEvent, Subscriber, SubscriberStatus
from outreach.network import NETWORK_SLUG
from outreach.usecases.rosters import owned_by
from subscribers.places import places_by_subscriber

PER_PAGE = 50
SEARCH_LENGTH = 254  # the longest address there is
_STATES = {state.value: state for state in SubscriberStatus}
_MAX_PAGE = 10**6


@dataclass(frozen=True)
class RosterFilters:
    """The list's search, state and page as typed (kept for the form and the page links) and as read;
    `problems` name the fields that named nothing (a 400)."""

    search: str
    state: str
    page: int
    problems: tuple[str, ...]

    @property
    def filtered(self) -> bool:
        return bool(self.search or self.state)

    def params(self, **more: object) -> dict[str, object]:
        """The filters as query parameters (the empty ones left out), for links that keep them."""
        given = {"q": self.search, "state": self.state}
        return {**{name: value for name, value in given.items() if value}, **more}


def read_filters(params: Mapping[str, str]) -> RosterFilters:
    search = params.get("q", "").strip()[: SEARCH_LENGTH + 1]
    state = params.get("state", "").strip()[:20]
    page_text = unicodedata.normalize("NFKC", params.get("page", "").strip()[:10])
    problems = []
    if len(search) > SEARCH_LENGTH:
        problems.append("q")
    if state and state not in _STATES:
        problems.append("state")
    page = (
        int(page_text)
        if page_text.isascii() and page_text.isdigit() and 0 < int(page_text) < _MAX_PAGE
        else 1
    )
    return RosterFilters(search, state, page, tuple(problems))


@dataclass(frozen=True)
class RosterRowView:
    id: int
    email: str
    name: str
    company: str
    language: str
    status: str
    subscribed_at: datetime  # when the address came on (created); confirmed_at is on the subscriber's page
    places: list[Place] = field(default_factory=list)  # the countries and regions they do business in


@dataclass(frozen=True)
class RosterPage:
    rows: list[RosterRowView]
    page: int
    pages: int
    total: int  # the rows the filters match
    counts: dict[str, int]  # every subscriber of the organization, by state (all four, zero or not)

    @property
    def everyone(self) -> int:
        return sum(self.counts.values())


def _owner(ref: OrgRef) -> ColumnElement[bool]:
    return owned_by(ref.id, network=ref.slug == NETWORK_SLUG)


def _matching(filters: RosterFilters) -> list[ColumnElement[bool]]:
    conditions = []
    if filters.search:
        words = filters.search.lower()
        conditions.append(
            or_(
                func.lower(Subscriber.email).contains(words, autoescape=True),
                func.lower(Subscriber.company).contains(words, autoescape=True),
                func.lower(Subscriber.name).contains(words, autoescape=True),
            )
        )
    if filters.state:
        conditions.append(Subscriber.status == _STATES[filters.state])
    return conditions


def roster_page(session: Session, ref: OrgRef, filters: RosterFilters) -> RosterPage:
    """One page of the organization's subscribers, by address; a page past the last shows the last."""
    owner = _owner(ref)
    counted = session.execute(
        select(Subscriber.status, func.count()).where(owner).group_by(Subscriber.status)
    ).all()
    counts = {state.value: 0 for state in SubscriberStatus} | {state.value: n for state, n in counted}
    conditions = [owner, *_matching(filters)]
    total = session.scalar(select(func.count()).select_from(Subscriber).where(*conditions)) or 0
    pages = max(1, -(-total // PER_PAGE))
    page = min(filters.page, pages)
    found = session.scalars(
        select(Subscriber)
        .where(*conditions)
        .order_by(Subscriber.email)
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    )
    subscribers = list(found)
    places = places_by_subscriber(session, [s.id for s in subscribers])
    rows = [
        RosterRowView(
            s.id,
            s.email,
            s.name,
            s.company,
            s.language,
            s.status.value,
            s.confirmed_at or s.created_at,
            places.get(s.id, []),
        )
        for s in subscribers
    ]
    return RosterPage(rows, page, pages, total, counts)


@dataclass(frozen=True)
class ConsentLine:
    """One event of the consent record: when, what, through which channel, and its note."""

    occurred_at: datetime
    action: str
    source: str
    detail: str
    ip: str


@dataclass(frozen=True)
class SubscriberDetail:
    id: int
    email: str
    company: str
    name: str
    language: str
    status: str
    charset: str
    consent_source: str
    topics: list[str]  # none: every issue
    bounce_count: int
    created_at: datetime
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None
    events: list[ConsentLine]  # oldest first
    places: list[Place] = field(default_factory=list)  # the countries and regions they do business in


def subscriber_detail(session: Session, ref: OrgRef, subscriber_id: int) -> SubscriberDetail | None:
    """The subscriber when they are on this organization's roster; None (a 404) otherwise."""
    found = session.scalar(
        select(Subscriber)
        .where(Subscriber.id == subscriber_id, _owner(ref))
        .options(selectinload(Subscriber.topics))
    )
    if found is None:
        return None
    events = session.scalars(
        select(ConsentEvent)
        .where(
            or_(
                ConsentEvent.subscriber_id == found.id,
                # an earlier subscription of the same address, purged unconfirmed: its events stay
                and_(ConsentEvent.subscriber_id.is_(None), ConsentEvent.email == found.email),
            )
        )
        .order_by(ConsentEvent.occurred_at, ConsentEvent.id)
    )
    return SubscriberDetail(
        id=found.id,
        email=found.email,
        company=found.company,
        name=found.name,
        language=found.language,
        status=found.status.value,
        charset=found.charset or "",
        consent_source=found.consent_source,
        topics=sorted(row.topic.value for row in found.topics),
        bounce_count=found.bounce_count,
        created_at=found.created_at,
        confirmed_at=found.confirmed_at,
        unsubscribed_at=found.unsubscribed_at,
        events=[
            ConsentLine(event.occurred_at, event.action, event.source, event.detail or "", event.ip or "")
            for event in events
        ],
        places=places_by_subscriber(session, [found.id]).get(found.id, []),
    )
