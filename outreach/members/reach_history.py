"""Each sent issue's reach, per organization and for the whole network: what the organizations' reach pages
chart and the monthly report mails.

Built on the reach report's figures (outreach.reach) with what an organization asks of them besides:

- undelivered: the messages that did not reach their reader, refused by the relay (failed, bounced) or
  bounced after it took them; a message still on its way is neither delivered nor undelivered;
- growth: the subscriptions confirmed since the previous issue's send started, less the subscribers who
  left (opted out, or were ended by bounces) in the same window, each counted for their organization now;
- forwarded: the companies the organization reports it forwarded the issue to (None: no report).

The network's row sums every organization's, including the unaffiliated that get the network's rendition.
"""

from __future__ import annotations

__all__ = [
    "IssueReach",
    "Point",
    "issue_history",
    "issue_reach_of",
    "left_by_organization",
    "sent_issues",
]

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.models import (
    ConsentEvent,
    Delivery,
    DeliveryStatus,
    Issue,
    IssueStatus,
    Organization,
    Subscriber,
)
from outreach.reach import (
    OPT_OUT_WINDOW,
    Figures,
    Window,
    count_by_organization,
    figures_by_organization,
    forwarded_by_organization,
    within,
)

LEAVING_ACTIONS = ("unsubscribed", "bounced")  # the consent record's actions that end a subscription
_UNDELIVERED = (DeliveryStatus.FAILED, DeliveryStatus.BOUNCED)


@dataclass(frozen=True)
class Point:
    """One organization's (or the network's) figures for one issue."""

    subscribers: int = 0
    delivered: int = 0
    undelivered: int = 0
    unsubscribed: int = 0
    new_subscribers: int = 0
    left: int = 0
    forwarded: int | None = None

    @property
    def growth(self) -> int:
        """Net new subscribers since the previous issue: joined less left."""
        return self.new_subscribers - self.left

    def rate(self, count: int) -> float | None:
        """`count` as a percentage of the subscribers; None without subscribers."""
        return round(count * 100 / self.subscribers, 1) if self.subscribers else None

    def __add__(self, other: Point) -> Point:
        forwarded = None
        if self.forwarded is not None or other.forwarded is not None:
            forwarded = (self.forwarded or 0) + (other.forwarded or 0)
        return Point(
            self.subscribers + other.subscribers,
            self.delivered + other.delivered,
            self.undelivered + other.undelivered,
            self.unsubscribed + other.unsubscribed,
            self.new_subscribers + other.new_subscribers,
            self.left + other.left,
            forwarded,
        )


@dataclass(frozen=True)
class IssueReach:
    """A sent issue: its number, when its send started, its state, every organization's point and the
    network's (their sum)."""

    number: int
    started_at: datetime
    status: IssueStatus
    points: dict[str, Point]
    network: Point

    def of(self, slug: str) -> Point:
        return self.points.get(slug, Point())

    @property
    def final(self) -> bool:
        """Whether the figures are final: a send still going (or paused) changes them."""
        return self.status not in (IssueStatus.SENDING, IssueStatus.PAUSED)


def sent_issues(session: Session) -> list[Issue]:
    """Every issue whose send started, by number."""
    query = select(Issue).where(Issue.send_started_at.is_not(None)).order_by(Issue.number)
    return list(session.scalars(query))


def issue_history(session: Session, *, last: int = 12) -> list[IssueReach]:
    """The reach of the `last` issues sent, oldest first."""
    issues = sent_issues(session)
    shown = issues[-last:] if last > 0 else []
    offset = len(issues) - len(shown)
    return [
        issue_reach_of(session, issue, issues[offset + index - 1] if offset + index > 0 else None)
        for index, issue in enumerate(shown)
    ]


def issue_reach_of(session: Session, issue: Issue, previous: Issue | None) -> IssueReach:
    """One sent issue's reach; `previous` is the issue sent before it (None: the first)."""
    started = issue.send_started_at
    assert started is not None  # only sent issues are charted
    joined = Window(previous.send_started_at if previous else None, started)
    figures = figures_by_organization(
        session, [issue.id], opt_outs=Window(started, started + OPT_OUT_WINDOW), joined=joined
    )
    undelivered = undelivered_by_organization(session, [issue.id])
    left = left_by_organization(session, joined)
    forwarded = forwarded_by_organization(session, [issue.id])
    slugs = figures.keys() | undelivered.keys() | left.keys() | forwarded.keys()
    points = {
        slug: _point(figures.get(slug, Figures()), undelivered[slug], left[slug], forwarded.get(slug))
        for slug in slugs
    }
    network = sum(points.values(), Point())
    return IssueReach(issue.number, started, issue.status, points, network)


def _point(figures: Figures, undelivered: int, left: int, forwarded: int | None) -> Point:
    return Point(
        subscribers=figures.subscribers,
        delivered=figures.delivered,
        undelivered=undelivered,
        unsubscribed=figures.unsubscribed,
        new_subscribers=figures.new_subscribers,
        left=left,
        forwarded=forwarded,
    )


def undelivered_by_organization(session: Session, issue_ids: Sequence[int]) -> Counter[str]:
    """Per organization: these issues' messages that failed or bounced (before or after the relay)."""
    rows = session.execute(
        select(Organization.slug, func.count())
        .select_from(Delivery)
        .join(Organization, Organization.id == Delivery.organization_id, isouter=True)
        .where(Delivery.issue_id.in_(issue_ids), Delivery.status.in_(_UNDELIVERED))
        .group_by(Organization.slug)
    )
    return count_by_organization(rows)


def left_by_organization(session: Session, window: Window) -> Counter[str]:
    """Per organization (the subscriber's now): subscribers whose subscription ended within the window,
    each counted once."""
    rows = session.execute(
        select(Organization.slug, func.count(func.distinct(ConsentEvent.subscriber_id)))
        .select_from(ConsentEvent)
        .join(Subscriber, Subscriber.id == ConsentEvent.subscriber_id)
        .join(Organization, Organization.id == Subscriber.organization_id, isouter=True)
        .where(ConsentEvent.action.in_(LEAVING_ACTIONS), *within(ConsentEvent.occurred_at, window))
        .group_by(Organization.slug)
    )
    return count_by_organization(rows)
