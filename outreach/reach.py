"""The reach report: did an issue reach the companies, through each member organization? Figures only.

Per organization (the network's own rendition for subscribers with none, as in outreach.reports) and in the
network's order, read from the ledger, its attempt log and the consent record:

- subscribers: the issue's delivery rows (every state); accepted: those the relay took (a relay attempt
  `sent`); bounced_hard/soft/policy: those with a bounce report after delivery, by the class of the first
  report; complaints: those with a feedback-loop complaint; delivered: accepted and not bounced since;
- unsubscribed: the issue's subscribers who opted out within OPT_OUT_WINDOW after its send started,
  counted for the organization of their (latest) delivery;
- new_subscribers: subscriptions confirmed since the previous issue's send started (for the first issue,
  all before it), counted for the subscriber's organization now;
- forwarded (beside the figures, not one of them): the companies an organization reports it forwarded the
  issues to with its own tools (outreach.members.models.ForwardReport); None where it reported nothing.

Every window is half-open, [start, end). A period's figures (outreach.reach_period) are built the same way.
"""

from __future__ import annotations

__all__ = [
    "FIGURES",
    "MASKED",
    "MASKED_CHANGE",
    "OPT_OUT_WINDOW",
    "SMALL_COUNT",
    "Figures",
    "ReachReport",
    "ReachRow",
    "Scope",
    "Window",
    "assemble",
    "count_by_organization",
    "figures_by_organization",
    "forwarded_by_organization",
    "issue_before",
    "issue_figures",
    "issue_reach",
    "masked",
    "masked_change",
    "within",
]

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Result,
    SQLColumnExpression,
    Subquery,
    and_,
    case,
    exists,
    func,
    select,
)
from sqlalchemy.orm import Session, aliased

from outreach.errors import InvalidInput
from outreach.issues import get_issue
from outreach.members.models import ForwardReport
from outreach.models import (
    AttemptKind,
    BounceClass,
    ConsentEvent,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Issue,
    IssueStatus,
    Organization,
    Subscriber,
)
from outreach.network import NETWORK_SLUG

OPT_OUT_WINDOW = timedelta(days=14)
OPT_OUT_ACTION = "unsubscribed"  # the consent record's action for an opt-out (subscribers.lifecycle)
SMALL_COUNT = 5  # counts below it (but not 0) are masked for sharing outside the secretariat
MASKED = "<5"
MASKED_CHANGE = "–"
TOTAL_SLUG = "total"


@dataclass(frozen=True)
class Figures:
    """The figures of one organization (or of all of them) for an issue or a period."""

    subscribers: int = 0
    accepted: int = 0
    bounced_hard: int = 0
    bounced_soft: int = 0
    bounced_policy: int = 0
    complaints: int = 0
    delivered: int = 0
    unsubscribed: int = 0
    new_subscribers: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)

    def __add__(self, other: Figures) -> Figures:
        return Figures(**{name: getattr(self, name) + getattr(other, name) for name in FIGURES})

    def __sub__(self, other: Figures) -> Figures:
        return Figures(**{name: getattr(self, name) - getattr(other, name) for name in FIGURES})


FIGURES: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(Figures))


@dataclass(frozen=True)
class Window:
    """A half-open span of time, [start, end); no start means since the beginning."""

    start: datetime | None
    end: datetime


@dataclass(frozen=True)
class Scope:
    """What a report covers: its issues (by number) and, for a period, its first and last day (JST)."""

    issues: tuple[int, ...]
    first: date | None = None
    last: date | None = None
    send_started_at: datetime | None = None  # of a single issue
    status: IssueStatus | None = None  # of a single issue: figures of one still sending are not final


@dataclass(frozen=True)
class ReachRow:
    """One organization's figures, and their change against the previous issue or period (None: none)."""

    slug: str
    name_ja: str
    name_en: str
    figures: Figures
    change: Figures | None
    forwarded: int | None = None  # companies the organization reports it forwarded to; None: no report


@dataclass(frozen=True)
class ReachReport:
    scope: Scope
    previous: Scope | None  # what the change is against; None when nothing came before
    rows: tuple[ReachRow, ...]  # every organization, in the network's order
    totals: ReachRow  # slug "total"


def _small(count: int) -> bool:
    return 0 < count < SMALL_COUNT


def masked(count: int) -> int | str:
    """A count fit to share outside the secretariat: 1 to 4 become "<5", 0 stays 0."""
    return MASKED if _small(count) else count


def masked_change(count: int, change: int | None) -> int | str | None:
    """A change fit to share: "–" when the count or the one it is compared with is masked, since the
    change would give it away; between counts that show (0, or 5 and more) it gives nothing away."""
    if change is None:
        return None
    return MASKED_CHANGE if _small(count) or _small(count - change) else change


def issue_reach(session: Session, number: int) -> ReachReport:
    """The figures of issue NUMBER per organization, and their change against the issue sent before it."""
    issue = get_issue(session, number)
    if issue.send_started_at is None:
        raise InvalidInput(f"issue No. {number} has not been sent yet (status: {issue.status})")
    previous = issue_before(session, issue)
    figures = issue_figures(session, issue, previous)
    scope = Scope((issue.number,), send_started_at=issue.send_started_at, status=issue.status)
    forwarded = forwarded_by_organization(session, [issue.id])
    if previous is None:
        return assemble(session, scope, figures, forwarded=forwarded)
    earlier = issue_figures(session, previous, issue_before(session, previous))
    before = Scope((previous.number,), send_started_at=previous.send_started_at, status=previous.status)
    return assemble(session, scope, figures, previous=(before, earlier), forwarded=forwarded)


def issue_before(session: Session, issue: Issue) -> Issue | None:
    """The issue of the same kind and the highest number below `issue`'s whose send started."""
    return session.scalar(
        select(Issue)
        .where(Issue.number < issue.number, Issue.kind == issue.kind, Issue.send_started_at.is_not(None))
        .order_by(Issue.number.desc())
        .limit(1)
    )


def issue_figures(session: Session, issue: Issue, previous: Issue | None) -> dict[str, Figures]:
    """Per organization slug: an issue's figures, new subscribers counted since `previous` started."""
    started = issue.send_started_at
    assert started is not None  # only issues whose send started are reported
    return figures_by_organization(
        session,
        [issue.id],
        opt_outs=Window(started, started + OPT_OUT_WINDOW),
        joined=Window(previous.send_started_at if previous else None, started),
    )


def figures_by_organization(
    session: Session, issue_ids: Sequence[int], *, opt_outs: Window, joined: Window
) -> dict[str, Figures]:
    """Per organization slug: the messages of these issues summed, their subscribers' opt-outs within
    `opt_outs`, and the subscriptions confirmed within `joined`."""
    counts = _message_counts(session, issue_ids)
    left = _opt_outs(session, issue_ids, opt_outs)
    new = _confirmed(session, joined)
    return {
        slug: dataclasses.replace(
            counts.get(slug, Figures()), unsubscribed=left[slug], new_subscribers=new[slug]
        )
        for slug in counts.keys() | left.keys() | new.keys()
    }


def _has_attempt(kind: AttemptKind, outcome: DeliveryStatus | None = None) -> ColumnElement[int]:
    """1 for a delivery with an attempt of this kind (and outcome), else 0."""
    condition = and_(DeliveryAttempt.delivery_id == Delivery.id, DeliveryAttempt.kind == kind)
    if outcome is not None:
        condition = and_(condition, DeliveryAttempt.outcome == outcome)
    return case((exists().where(condition), 1), else_=0)


def _each_delivery(issue_ids: Sequence[int]) -> Subquery:
    """One row per delivery of these issues: its organization's slug, whether the relay accepted it,
    whether a complaint came back, and the class of its bounce after delivery (NULL: none)."""
    # A relay may report a bounce twice; the first report is the one that counted (outreach.outbox.returns).
    first_bounce = (
        select(DeliveryAttempt.delivery_id, func.min(DeliveryAttempt.id).label("attempt_id"))
        .join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
        .where(Delivery.issue_id.in_(issue_ids), DeliveryAttempt.kind == AttemptKind.BOUNCE)
        .group_by(DeliveryAttempt.delivery_id)
        .subquery()
    )
    bounce = aliased(DeliveryAttempt)
    return (
        select(
            Organization.slug.label("slug"),
            _has_attempt(AttemptKind.RELAY, DeliveryStatus.SENT).label("accepted"),
            _has_attempt(AttemptKind.COMPLAINT).label("complained"),
            bounce.bounce_class.label("bounce_class"),
        )
        .select_from(Delivery)
        .join(Organization, Organization.id == Delivery.organization_id, isouter=True)
        .join(first_bounce, first_bounce.c.delivery_id == Delivery.id, isouter=True)
        .join(bounce, bounce.id == first_bounce.c.attempt_id, isouter=True)
        .where(Delivery.issue_id.in_(issue_ids))
        .subquery()
    )


def _how_many(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _message_counts(session: Session, issue_ids: Sequence[int]) -> dict[str, Figures]:
    """What became of the issues' messages, per organization, counted in the database."""
    each = _each_delivery(issue_ids).c
    rows = session.execute(
        select(
            each.slug,
            func.count(),
            func.sum(each.accepted),
            _how_many(each.bounce_class == BounceClass.HARD),
            _how_many(each.bounce_class == BounceClass.SOFT),
            _how_many(each.bounce_class == BounceClass.POLICY),
            func.sum(each.complained),
            _how_many(and_(each.accepted == 1, each.bounce_class.is_(None))),
        ).group_by(each.slug)
    )
    found: dict[str, Figures] = {}
    for slug, *numbers in rows:
        subscribers, accepted, hard, soft, policy, complaints, delivered = (int(n or 0) for n in numbers)
        figures = Figures(subscribers, accepted, hard, soft, policy, complaints, delivered)
        key = slug or NETWORK_SLUG  # no organization: the network's own rendition
        found[key] = found.get(key, Figures()) + figures
    return found


def _opt_outs(session: Session, issue_ids: Sequence[int], window: Window) -> Counter[str]:
    """Subscribers of these issues who opted out within the window, each counted once, for the
    organization of their delivery in the latest of the issues."""
    opted_out = select(ConsentEvent.subscriber_id).where(
        ConsentEvent.action == OPT_OUT_ACTION, *within(ConsentEvent.occurred_at, window)
    )
    rows = session.execute(
        select(Delivery.subscriber_id, Organization.slug, Issue.number)
        .join(Issue, Issue.id == Delivery.issue_id)
        .join(Organization, Organization.id == Delivery.organization_id, isouter=True)
        .where(Delivery.issue_id.in_(issue_ids), Delivery.subscriber_id.in_(opted_out))
        .order_by(Issue.number)
    )
    latest = {subscriber_id: slug or NETWORK_SLUG for subscriber_id, slug, _ in rows}
    return Counter(latest.values())


def _confirmed(session: Session, window: Window) -> Counter[str]:
    """Subscriptions confirmed within the window, per the subscriber's organization now."""
    rows = session.execute(
        select(Organization.slug, func.count())
        .select_from(Subscriber)
        .join(Organization, Organization.id == Subscriber.organization_id, isouter=True)
        .where(*within(Subscriber.confirmed_at, window))
        .group_by(Organization.slug)
    )
    return count_by_organization(rows)


def count_by_organization(rows: Result[str, int]) -> Counter[str]:
    """Counts per organization slug summed; no slug (an outer join's None) is the network's own rendition."""
    found: Counter[str] = Counter()
    for slug, count in rows:
        found[slug or NETWORK_SLUG] += int(count)
    return found


def forwarded_by_organization(session: Session, issue_ids: Sequence[int]) -> dict[str, int]:
    """Per organization slug that reported any: the companies it says it forwarded these issues to."""
    rows = session.execute(
        select(Organization.slug, func.sum(ForwardReport.companies))
        .join(Organization, Organization.id == ForwardReport.organization_id)
        .where(ForwardReport.issue_id.in_(issue_ids))
        .group_by(Organization.slug)
    )
    return {slug: int(companies or 0) for slug, companies in rows}


def within(column: SQLColumnExpression[Any], window: Window) -> list[ColumnElement[bool]]:
    """The conditions that put `column` in the half-open window."""
    conditions = [column < window.end]
    if window.start is not None:
        conditions.append(column >= window.start)
    return conditions


def assemble(
    session: Session,
    scope: Scope,
    figures: dict[str, Figures],
    *,
    previous: tuple[Scope, dict[str, Figures]] | None = None,
    forwarded: dict[str, int] | None = None,
) -> ReachReport:
    """Every organization in the network's order with its figures and their change against `previous`
    (what came before, and its figures), the forwarding each reported, and the totals."""
    before = previous[1] if previous is not None else None
    reported = forwarded or {}
    slugs = figures.keys() | (before or {}).keys()
    rows = tuple(
        ReachRow(
            slug,
            name_ja,
            name_en,
            figures.get(slug, Figures()),
            _change(slug, figures, before),
            reported.get(slug),
        )
        for slug, name_ja, name_en in _organizations(session, slugs)
    )
    total = sum((row.figures for row in rows), Figures())
    change = None if before is None else total - sum(before.values(), Figures())
    forwarded_total = sum(reported.values()) if reported else None
    totals = ReachRow(TOTAL_SLUG, "合計", "Total", total, change, forwarded_total)
    return ReachReport(scope, None if previous is None else previous[0], rows, totals)


def _change(slug: str, figures: dict[str, Figures], before: dict[str, Figures] | None) -> Figures | None:
    if before is None:
        return None
    return figures.get(slug, Figures()) - before.get(slug, Figures())


def _organizations(session: Session, slugs: Iterable[str]) -> list[tuple[str, str, str]]:
    """(slug, Japanese name, English name) of every organization by position, then any slug with figures
    that is not (or no longer) an organization, named by its slug."""
    rows = session.execute(
        select(Organization.slug, Organization.name_ja, Organization.name_en).order_by(
            Organization.position, Organization.slug
        )
    )
    known = [(slug, name_ja, name_en) for slug, name_ja, name_en in rows]
    names = {slug for slug, _, _ in known}
    strays = sorted(set(slugs) - names)
    return known + [(slug, slug, slug) for slug in strays]
