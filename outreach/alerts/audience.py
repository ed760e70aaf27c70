"""Who a safety alert concerns: the subscribers whose places (countries, regions) match an entry's places.

A subscriber's place (A, C) matches an entry's place (A', C') when A == A' and (C == "" or C' == "" or
C == C'): choosing a region gets everything in it; choosing a country gets that country's entries and those
for its whole region. The same predicate decides who an alert issue is queued for (outreach.outbox.queue),
who is still sent it when their row is claimed (outreach.outbox.claims), whom the console counts before a
send (outreach.usecases.sends.audience), and which entries each reader's copy shows (`entries_by_subscriber`).
"""

from __future__ import annotations

__all__ = [
    "alert_ids",
    "entries_by_subscriber",
    "has_audience",
    "issue_audience",
    "places_match",
]

from collections.abc import Collection, Sequence

from sqlalchemy import ColumnElement, and_, exists, or_, select, true
from sqlalchemy.orm import Session

from outreach.alerts.models import AlertPlace, SubscriberPlace
from outreach.models import Delivery, Issue, IssueKind, Subscriber, SubscriberStatus, Topic


def _matching_places() -> ColumnElement[bool]:
    """A subscriber's place row against an entry's place row (the rule in the module's docstring)."""
    return and_(
        SubscriberPlace.area_code == AlertPlace.area_code,
        or_(
            SubscriberPlace.country_code == "",
            AlertPlace.country_code == "",
            SubscriberPlace.country_code == AlertPlace.country_code,
        ),
    )


def places_match(entry_ids: Collection[int]) -> ColumnElement[bool]:
    """Subscribers (the `Subscriber` of the enclosing query) one of whose places matches one of the places of
    these entries; false for no entries."""
    return exists().where(
        SubscriberPlace.subscriber_id == Subscriber.id,
        AlertPlace.alert_id.in_(list(entry_ids)),
        _matching_places(),
    )


def alert_ids(issue: Issue) -> list[int]:
    """The entries an issue carries, in its order: an alert issue's content, a regular issue's digest."""
    return [item.alert_id for item in issue.items if item.alert_id is not None]


def issue_audience(issue: Issue) -> ColumnElement[bool]:
    """Who may get the issue as far as places go: for an alert issue those whose places match its entries;
    everyone for a regular issue (its digest section is per reader, it does not narrow who gets the issue)."""
    if issue.kind == IssueKind.ALERT:
        return places_match(alert_ids(issue))
    return true()


def _wants_alerts() -> ColumnElement[bool]:
    """Subscribers who did not narrow their topics, or chose safety alerts (as outbox.queue.wants says)."""
    # Imported here: outreach.outbox imports this module.
    from outreach.outbox.queue import wants

    return wants({Topic.ALERTS})


def has_audience(session: Session, entry_id: int) -> bool:
    """Whether any active subscriber who wants safety alerts has a place matching the entry's."""
    found = session.scalar(
        select(Subscriber.id)
        .where(Subscriber.status == SubscriberStatus.ACTIVE, _wants_alerts(), places_match([entry_id]))
        .limit(1)
    )
    return found is not None


def entries_by_subscriber(session: Session, issue: Issue) -> dict[int, tuple[int, ...]]:
    """{subscriber id: the issue's entries their places match, in the issue's order}, for the subscribers
    with a ledger row of the issue who want safety alerts: one query per issue, whatever its size. A
    subscriber matching none is absent (a regular issue then shows them no safety section)."""
    order = {entry: position for position, entry in enumerate(alert_ids(issue))}
    if not order:
        return {}
    pairs = session.execute(
        select(Delivery.subscriber_id, AlertPlace.alert_id)
        .distinct()
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .join(SubscriberPlace, SubscriberPlace.subscriber_id == Delivery.subscriber_id)
        .join(AlertPlace, _matching_places())
        .where(Delivery.issue_id == issue.id, AlertPlace.alert_id.in_(list(order)), _wants_alerts())
    )
    found: dict[int, list[int]] = {}
    for subscriber_id, entry_id in pairs:
        found.setdefault(subscriber_id, []).append(entry_id)
    return {subscriber: _ordered(entries, order) for subscriber, entries in found.items()}


def _ordered(entries: Sequence[int], order: dict[int, int]) -> tuple[int, ...]:
    return tuple(sorted(set(entries), key=order.__getitem__))
