"""A roster's rows written in bulk, a batch at a time: a few statements per thousand rows instead of a flush
per row, and no ORM object held per row, so a million-row roster goes in within seconds and in little memory.

The rules are the lifecycle's (subscribers.lifecycle): a new address is active when the organization vouches
for consent, else pending and mailed a confirmation link; a pending address is made active by a vouched
import; an active, unsubscribed or bounced address is left as it is, but for a charset the roster gives; an
address registered with another organization is not this roster's to change. Countries go to those who chose
none (subscribers.places.give_places). Every change is on the consent record (subscribers.consent).
"""

from __future__ import annotations

__all__ = ["RosterWriter", "Tally", "confirmation_details"]

from array import array
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ARRAY, ColumnElement, any_, bindparam, insert, select, text, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from outreach.alerts.models import SubscriberPlace
from outreach.alerts.places import Place
from outreach.models import Organization, Subscriber, SubscriberStatus, SubscriberTopic
from outreach.network import NETWORK_SLUG
from subscribers.consent import ConsentSource, Origin, record_many
from subscribers.copy_rows import copies, insert_rows
from subscribers.lifecycle import Details, Preferences
from subscribers.places import give_places
from subscribers.roster import ImportConsent, RosterRow

# Core's insert of the table (or COPY): the ORM's bulk insert spends more on each row than the database does.
_SUBSCRIBERS = Subscriber.metadata.tables[Subscriber.__tablename__]
_COLUMNS = (
    "email",
    "company",
    "name",
    "language",
    "status",
    "organization_id",
    "consent_source",
    "bounce_count",
    "created_at",
    "updated_at",
    "confirmed_at",
    "charset",
)
_LEFT_ALONE = (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED)
_VOUCHED = "consent vouched"
_T = TypeVar("_T")
_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('subscribers', 'id')) FROM generate_series(1, :count)"
)


@dataclass
class Tally:
    """What an import did, or would do: every row of the file counted once (rows = added + the rest)."""

    rows: int = 0
    added: int = 0  # new addresses: active (vouched) or pending (confirm)
    updated: int = 0  # this roster's already, changed: made active, a new charset, or countries given
    unchanged: int = 0  # this roster's already, left as they were
    skipped: int = 0  # unsubscribed or bounced, or another organization's
    activated: int = 0  # of the updated: pending made active (vouched)
    to_confirm: array[int] = field(default_factory=lambda: array("q"))  # ids to mail a confirmation link

    @property
    def already_present(self) -> int:
        return self.rows - self.added


class _Found(NamedTuple):
    """An address of the roster that is registered already."""

    id: int
    email: str
    organization_id: int | None
    status: SubscriberStatus
    charset: str | None


@dataclass
class _Changes:
    """What one batch writes."""

    new: list[RosterRow] = field(default_factory=list)
    activate: list[tuple[int, str]] = field(default_factory=list)  # (id, email)
    charsets: list[dict[str, Any]] = field(default_factory=list)
    places: list[tuple[int, str, Collection[Place]]] = field(default_factory=list)


class RosterWriter:
    """Imports a roster's batches into one organization's roster, in the caller's transaction; with
    `write=False` (a dry run, or a file found to have problems) it only counts."""

    def __init__(
        self,
        session: Session,
        *,
        organization: Organization | None,
        language: str,
        consent: ImportConsent,
        now: datetime,
        write: bool = True,
    ) -> None:
        self.session, self.language, self.consent, self.now, self.write = (
            session,
            language,
            consent,
            now,
            write,
        )
        self.owner = organization.id if organization is not None else None
        self.network = session.scalar(select(Organization.id).where(Organization.slug == NETWORK_SLUG))
        note = f"roster of {organization.slug if organization else 'the network'}"
        self.origin = Origin(ConsentSource.IMPORT, note=note)
        self.tally = Tally()

    @property
    def on_server(self) -> bool:
        """Whether the database works in a process of its own (PostgreSQL), not in this one (SQLite)."""
        return copies(self.session)

    def add(self, rows: Sequence[RosterRow]) -> None:
        """Import one batch of rows (each address once in the whole file)."""
        self.tally.rows += len(rows)
        known = self._known(rows)
        having = self._having_places([found.id for found in known.values()])
        changes = _Changes()
        for row in rows:
            found = known.get(row.email)
            if found is None:
                changes.new.append(row)
            elif self._ours(found):
                self._sort(row, found, having, changes)
            else:
                self.tally.skipped += 1  # another organization's subscriber: not this roster's to change
        self.tally.added += len(changes.new)
        self.tally.activated += len(changes.activate)
        if self.write:
            self._apply(changes)
        elif self.consent == ImportConsent.CONFIRM:
            self.tally.to_confirm.extend([0] * len(changes.new))  # counted only: a dry run mails nothing

    def _known(self, rows: Sequence[RosterRow]) -> dict[str, _Found]:
        columns = (Subscriber.id, Subscriber.email, Subscriber.organization_id, Subscriber.status)
        among = self._among(Subscriber.email, [row.email for row in rows])
        query = select(*columns, Subscriber.charset).where(among)
        return {each.email: _Found(*each) for each in self.session.execute(query)}

    def _having_places(self, ids: list[int]) -> set[int]:
        if not ids:
            return set()
        query = select(SubscriberPlace.subscriber_id).where(self._among(SubscriberPlace.subscriber_id, ids))
        return set(self.session.scalars(query.distinct()))

    def _among(self, column: InstrumentedAttribute[_T], values: list[_T]) -> ColumnElement[bool]:
        """`column IN values`; on PostgreSQL `= ANY(array)`, one parameter instead of one per value."""
        if copies(self.session):
            return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
        return column.in_(values)

    def _ours(self, found: _Found) -> bool:
        theirs = found.organization_id
        return bool(theirs == self.owner or (self.owner is None and theirs == self.network))

    def _sort(self, row: RosterRow, found: _Found, having: set[int], changes: _Changes) -> None:
        """What the import does to an address on this roster already."""
        changed = False
        if row.charset is not None and row.charset != found.charset:
            changes.charsets.append({"id": found.id, "charset": row.charset, "updated_at": self.now})
            changed = True
        if found.status in _LEFT_ALONE:
            self.tally.skipped += 1  # never made active again by an import; a charset is all it takes
            return
        if found.status == SubscriberStatus.PENDING:
            if self.consent == ImportConsent.VOUCHED:
                changes.activate.append((found.id, found.email))
                changed = True
            else:
                self.tally.to_confirm.append(found.id)
        if row.places and found.id not in having:
            changes.places.append((found.id, found.email, row.places))
            changed = True
        self.tally.updated += changed
        self.tally.unchanged += not changed

    def _apply(self, changes: _Changes) -> None:
        session, now = self.session, self.now
        events: list[tuple[int, str, str, str | None]] = []
        for (subscriber_id, email), row in zip(self._insert(changes.new), changes.new, strict=True):
            if self.consent == ImportConsent.VOUCHED:
                events.append((subscriber_id, email, "imported", _VOUCHED))
            else:
                events.append((subscriber_id, email, "subscribe_requested", None))
                self.tally.to_confirm.append(subscriber_id)
            if row.places:
                changes.places.append((subscriber_id, email, row.places))
        if changes.activate:
            session.execute(
                update(Subscriber)
                .where(self._among(Subscriber.id, [subscriber_id for subscriber_id, _ in changes.activate]))
                .values(
                    status=SubscriberStatus.ACTIVE,
                    consent_source=ConsentSource.IMPORT.value,
                    confirmed_at=now,
                    updated_at=now,
                )
            )
            events.extend(
                (subscriber_id, email, "imported", _VOUCHED) for subscriber_id, email in changes.activate
            )
        if changes.charsets:
            session.execute(update(Subscriber), changes.charsets)
        record_many(session, events, self.origin, now=now)
        give_places(session, changes.places, self.origin, now=now)

    def _insert(self, rows: list[RosterRow]) -> list[tuple[int, str]]:
        """Add the new addresses; their (id, email) in the order given."""
        if not rows:
            return []
        vouched = self.consent == ImportConsent.VOUCHED
        status = (SubscriberStatus.ACTIVE if vouched else SubscriberStatus.PENDING).value
        confirmed_at = self.now if vouched else None
        fixed = (self.language, status, self.owner, ConsentSource.IMPORT.value, 0, self.now, self.now)
        values = [(row.email, row.company, row.name, *fixed, confirmed_at, row.charset) for row in rows]
        if copies(self.session):
            # COPY returns nothing: ids drawn from the sequence first go in with the rows.
            ids = self.session.scalars(_NEXT_IDS, {"count": len(values)}).all()
            with_ids = [(subscriber_id, *each) for subscriber_id, each in zip(ids, values, strict=True)]
            insert_rows(self.session, _SUBSCRIBERS, ("id", *_COLUMNS), with_ids)
            return [(subscriber_id, row.email) for subscriber_id, row in zip(ids, rows, strict=True)]
        added = _SUBSCRIBERS.c.id, _SUBSCRIBERS.c.email
        statement = insert(_SUBSCRIBERS).returning(*added, sort_by_parameter_order=True)
        named = [dict(zip(_COLUMNS, each, strict=True)) for each in values]
        return [(found.id, found.email) for found in self.session.execute(statement, named)]


def confirmation_details(session: Session, ids: Sequence[int]) -> list[Details]:
    """What the confirmation links of these subscribers carry: their address, names and choices as stored."""
    topics: dict[int, set[Any]] = {}
    for subscriber_id, topic in session.execute(
        select(SubscriberTopic.subscriber_id, SubscriberTopic.topic).where(
            SubscriberTopic.subscriber_id.in_(ids)
        )
    ):
        topics.setdefault(subscriber_id, set()).add(topic)
    rows = session.execute(
        select(Subscriber.id, Subscriber.email, Subscriber.company, Subscriber.name, Subscriber.language)
        .add_columns(Organization.slug)
        .outerjoin(Organization, Subscriber.organization_id == Organization.id)
        .where(Subscriber.id.in_(ids))
        .order_by(Subscriber.id)
    )
    return [
        Details(email, company, name, Preferences(slug, language, frozenset(topics.get(subscriber_id, ()))))
        for subscriber_id, email, company, name, language, slug in rows
    ]
