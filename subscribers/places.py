"""The countries and regions a subscriber's company does business in: the only writer of subscriber_places.

Each change is recorded on the consent record (`places_changed`, like a change of preferences) in the caller's
transaction, so the places and the record of who changed them commit or roll back together.
"""

from __future__ import annotations

__all__ = ["give_places", "places_by_subscriber", "places_of", "replace_places"]

from collections.abc import Collection, Iterable
from datetime import datetime
from functools import cache

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from outreach.alerts import places as table
from outreach.alerts.models import SubscriberPlace
from outreach.alerts.places import Place
from outreach.models import Subscriber
from subscribers.consent import Origin, record, record_many
from subscribers.copy_rows import insert_rows

_ACTION = "places_changed"
_PLACES = SubscriberPlace.metadata.tables[SubscriberPlace.__tablename__]
_COLUMNS = ("subscriber_id", "area_code", "country_code")


def places_of(session: Session, subscriber_id: int) -> list[Place]:
    """A subscriber's places, in the order of the ministry's table (regions first within a region)."""
    return places_by_subscriber(session, [subscriber_id]).get(subscriber_id, [])


def places_by_subscriber(session: Session, subscriber_ids: Collection[int]) -> dict[int, list[Place]]:
    """The places of many subscribers in one query; those with none are left out of the result."""
    if not subscriber_ids:
        return {}
    rows = session.execute(
        select(SubscriberPlace.subscriber_id, SubscriberPlace.area_code, SubscriberPlace.country_code).where(
            SubscriberPlace.subscriber_id.in_(list(subscriber_ids))
        )
    )
    found: dict[int, list[Place]] = {}
    for subscriber_id, area_code, country_code in rows:
        found.setdefault(subscriber_id, []).append(_place(area_code, country_code))
    return {subscriber_id: _ordered(places) for subscriber_id, places in found.items()}


def replace_places(
    session: Session, subscriber: Subscriber, places: Iterable[Place], origin: Origin, *, now: datetime
) -> bool:
    """Make `places` the subscriber's places; True when that changed them (and the change was recorded).

    A country inside a region also chosen is dropped: the region already covers it.
    """
    if subscriber.id is None:
        session.flush()
    wanted = _covering(places)
    before = places_of(session, subscriber.id)
    if {(p.area_code, p.country_code) for p in before} == {(p.area_code, p.country_code) for p in wanted}:
        return False
    session.execute(delete(SubscriberPlace).where(SubscriberPlace.subscriber_id == subscriber.id))
    session.add_all(
        SubscriberPlace(subscriber_id=subscriber.id, area_code=p.area_code, country_code=p.country_code)
        for p in wanted
    )
    record(session, subscriber, _ACTION, origin, now=now, detail=_describe(wanted))
    return True


def give_places(
    session: Session, given: Iterable[tuple[int, str, Collection[Place]]], origin: Origin, *, now: datetime
) -> int:
    """Give places to subscribers (id, address, places) who have none yet, in two statements (COPY on
    PostgreSQL): their rows and a `places_changed` event each, as replace_places records it. The caller knows
    they have none (a roster's new subscribers, and those of its known ones who chose none). Returns how many
    got places."""
    rows: list[tuple[int, str, str]] = []
    events = []
    for subscriber_id, email, places in given:
        wanted = _covering(places)
        if not wanted:
            continue
        rows.extend((subscriber_id, p.area_code, p.country_code) for p in wanted)
        events.append((subscriber_id, email, _ACTION, _describe(wanted)))
    insert_rows(session, _PLACES, _COLUMNS, rows)
    return record_many(session, events, origin, now=now)


def _covering(places: Iterable[Place]) -> list[Place]:
    chosen = list(dict.fromkeys(places))
    regions = {p.area_code for p in chosen if p.is_region}
    return _ordered([p for p in chosen if p.is_region or p.area_code not in regions])


def _ordered(places: list[Place]) -> list[Place]:
    """In the table's order; places the table no longer knows (a code withdrawn) last, by code."""
    rank = _rank()
    last = len(rank)
    return sorted(places, key=lambda p: (rank.get((p.area_code, p.country_code), last), p.token))


@cache
def _rank() -> dict[tuple[str, str], int]:
    """Each place's position in the ministry's table (fixed for the life of the process)."""
    return {(p.area_code, p.country_code): index for index, p in enumerate(table.all_places())}


def _place(area_code: str, country_code: str) -> Place:
    known = table.place(area_code, country_code)
    if known is not None:
        return known
    name = table.name_of(area_code, country_code, "ja")
    return Place(area_code, country_code, name, name)


def _describe(places: list[Place]) -> str:
    """The consent record's note: the codes, so it stays true if a name changes; "none" when emptied."""
    return "places -> " + (",".join(p.token for p in places) or "none")
