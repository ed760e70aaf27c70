"""An organization's roster, for the CLI and the console alike: import a CSV (all rows or none), export it,
and unsubscribe one of its subscribers at the organization's request.

A roster's rows go to the organization it is imported for, and to no other: the file has no organization
column (an unknown column is ignored), and an address already registered with another organization (or with
the network) is left exactly as it is, counted as skipped. Addresses already on the roster follow the
lifecycle's rules (subscribers.lifecycle.import_roster): an unsubscribed or bounced address is never made
active again by an import. A `countries` column gives the countries and regions of its rows to those who have
chosen none yet (subscribers.places.places_from_roster): a subscriber's own choice stays theirs.
"""

from __future__ import annotations

__all__ = [
    "AlreadyUnsubscribed",
    "Auditing",
    "RosterImport",
    "export_csv",
    "import_roster",
    "owned_by",
    "unsubscribe_on_request",
]

import asyncio
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from outreach.errors import InvalidInput, NotFound, RelayUnavailable
from outreach.models import Organization, Subscriber, SubscriberStatus, utcnow
from outreach.network import NETWORK_SLUG
from outreach.staff import audit
from subscribers import lifecycle
from subscribers.consent import ConsentSource, Origin
from subscribers.directory import find_organization, organization_or_none
from subscribers.export import export_roster
from subscribers.places import places_by_subscriber
from subscribers.roster import ImportConsent, RosterRow, parse_roster
from subscribers.subscriptions import Subscriptions

# The consent record's note for an opt-out staff enter for an organization. There is no channel of its own
# for an organization (subscribers.consent.ConsentSource): it comes through staff, so the source is `staff`.
REQUESTED_BY_ORGANIZATION = "unsubscribed at the organization's request"


class AlreadyUnsubscribed(InvalidInput):
    """The subscriber had unsubscribed already: an opt-out is final, there is nothing to do again."""


@dataclass(frozen=True)
class Auditing:
    """Who does it and from where, for the audit log (`staff:<email>` and the browser's address)."""

    actor: str
    ip: str | None = None


@dataclass(frozen=True)
class RosterImport:
    """What an import did, or would do (a dry run): every row of the file is counted once."""

    rows: int
    added: int  # new addresses: active (vouched) or pending, each mailed a confirmation link (confirm)
    updated: int  # on this roster already, and changed: pending made active (vouched), a new charset, or
    # countries given to one who had chosen none
    unchanged: int  # on this roster already, and left as they were
    skipped: int  # left alone: unsubscribed or bounced, or registered with another organization
    activated: int  # of the updated: pending addresses made active (vouched)
    to_confirm: int  # confirmation links mailed (or that a dry run would mail)
    dry_run: bool

    @property
    def already_present(self) -> int:
        return self.rows - self.added


def owned_by(organization_id: int, *, network: bool) -> ColumnElement[bool]:
    """The subscribers on an organization's roster; the network's are the unaffiliated and its own."""
    if network:
        return or_(Subscriber.organization_id.is_(None), Subscriber.organization_id == organization_id)
    return Subscriber.organization_id == organization_id


def _owner_id(organization: Organization | None) -> int | None:
    """The organization_id a subscriber of `organization` has (None for the network's own)."""
    return organization.id if organization is not None and organization.slug != NETWORK_SLUG else None


@dataclass(frozen=True)
class _Sorted:
    """The rows the import is given (this roster's and new ones) and what each known address will see."""

    kept: list[RosterRow]
    updated: int
    unchanged: int
    skipped: int


def _sort_rows(
    session: Session, rows: Sequence[RosterRow], organization: Organization | None, consent: ImportConsent
) -> _Sorted:
    """What the import will do to each row, read before it runs; another organization's rows are dropped."""
    owner = _owner_id(organization)
    network = session.scalar(select(Organization.id).where(Organization.slug == NETWORK_SLUG))
    known = {
        subscriber.email: subscriber
        for subscriber in session.scalars(
            select(Subscriber).where(Subscriber.email.in_([row.email for row in rows]))
        )
    }
    having_places = places_by_subscriber(session, [subscriber.id for subscriber in known.values()])
    kept: list[RosterRow] = []
    updated = unchanged = skipped = 0
    for row in rows:
        found = known.get(row.email)
        theirs = found.organization_id if found is not None else None
        if found is not None and theirs != owner and not (owner is None and theirs == network):
            skipped += 1  # another organization's subscriber: not this roster's to change
            continue
        kept.append(row)
        if found is None:
            continue
        if found.status in (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED):
            skipped += 1
        elif (
            (found.status == SubscriberStatus.PENDING and consent == ImportConsent.VOUCHED)
            or (row.charset is not None and row.charset != found.charset)
            or (row.places and found.id not in having_places)
        ):
            updated += 1
        else:
            unchanged += 1
    return _Sorted(kept, updated, unchanged, skipped)


async def import_roster(
    subscriptions: Subscriptions,
    data: bytes,
    *,
    organization: str | None,
    language: str,
    consent: ImportConsent,
    dry_run: bool = False,
    audited: Auditing | None = None,
) -> RosterImport:
    """Import the roster file `data` for the organization `organization` (a slug; None or `network`: the
    network's own), in one transaction, all rows or none; with `confirm`, then mail the new and still pending
    addresses their confirmation links.

    RosterError (every problem, with its line) when the file is refused; NotFound for an unknown organization;
    RelayUnavailable when the links could not be mailed (the rows are in, pending: the same import again
    mails them). A real import is audited as `roster.import` when `audited` says by whom.
    """
    rows = parse_roster(data)

    def sort(session: Session) -> _Sorted:
        return _sort_rows(session, rows, organization_or_none(session, organization), consent)

    sorted_rows = await asyncio.to_thread(_read, subscriptions, sort)
    try:
        report = await subscriptions.import_roster(
            sorted_rows.kept, organization=organization, language=language, consent=consent, dry_run=dry_run
        )
    except RelayUnavailable:
        if audited is not None:  # the rows were written before the mails failed
            await asyncio.to_thread(_audit_import, subscriptions, organization, audited, "links not mailed")
        raise
    result = RosterImport(
        rows=len(rows),
        added=report.added,
        updated=sorted_rows.updated,
        unchanged=sorted_rows.unchanged,
        skipped=sorted_rows.skipped,
        activated=report.activated,
        to_confirm=len(report.to_confirm),
        dry_run=dry_run,
    )
    if audited is not None and not dry_run:
        await asyncio.to_thread(
            _audit_import, subscriptions, organization, audited, _describe(result, consent)
        )
    return result


def _read(subscriptions: Subscriptions, work: Callable[[Session], _Sorted]) -> _Sorted:
    with subscriptions.db.session(dry_run=True) as session:
        return work(session)


def _describe(result: RosterImport, consent: ImportConsent) -> str:
    return (
        f"{result.rows} rows, consent {consent.value}: {result.added} added, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.skipped} skipped; {result.to_confirm} confirmation link(s)"
    )


def _audit_import(subscriptions: Subscriptions, organization: str | None, by: Auditing, detail: str) -> None:
    with subscriptions.db.session() as session:
        audit.record(
            session,
            actor=by.actor,
            action="roster.import",
            target=_target(organization),
            detail=detail,
            ip=by.ip,
            now=utcnow(),
        )


def _target(slug: str | None) -> str:
    """How the audit log names a roster: `roster of jetro`."""
    return f"roster of {slug or NETWORK_SLUG}"


def export_csv(
    session: Session, slug: str, *, everyone: bool, language: str, by: Auditing
) -> tuple[str, int]:
    """The roster of `slug` as the CLI's export writes it (with the BOM), and how many subscribers it holds;
    only the active ones unless `everyone`. Audited as `roster.export`."""
    statuses = list(SubscriberStatus) if everyone else [SubscriberStatus.ACTIVE]
    buffer = io.StringIO(newline="")
    buffer.write("\ufeff")
    count = export_roster(
        session,
        buffer,
        organization=organization_or_none(session, slug),
        statuses=statuses,
        language=language,
    )
    which = "every state" if everyone else "active"
    audit.record(
        session,
        actor=by.actor,
        action="roster.export",
        target=_target(slug),
        detail=f"{count} subscriber(s), {which}",
        ip=by.ip,
        now=utcnow(),
    )
    return buffer.getvalue(), count


def unsubscribe_on_request(
    session: Session, slug: str, subscriber_id: int, *, by: Auditing, now: datetime
) -> lifecycle.SubscriberView:
    """Unsubscribe a subscriber of the organization `slug` at its request: final at once, the same opt-out as
    the unsubscribe page's (nothing queued for them goes out any more), audited as `roster.unsubscribe`.

    NotFound when the subscriber is not on that organization's roster; AlreadyUnsubscribed when they left.
    """
    organization = find_organization(session, slug)
    found = session.scalar(
        select(Subscriber).where(
            Subscriber.id == subscriber_id, owned_by(organization.id, network=slug == NETWORK_SLUG)
        )
    )
    if found is None:
        raise NotFound(f"there is no subscriber {subscriber_id} on the roster of {slug}")
    if found.status == SubscriberStatus.UNSUBSCRIBED:
        raise AlreadyUnsubscribed(f"{found.email} is unsubscribed already")
    origin = Origin(ConsentSource.STAFF, ip=by.ip, note=f"{REQUESTED_BY_ORGANIZATION} ({by.actor})")
    view = lifecycle.unsubscribe(session, subscriber_id, origin, now=now)
    audit.record(
        session,
        actor=by.actor,
        action="roster.unsubscribe",
        target=_target(slug),
        detail=view.email,
        ip=by.ip,
        now=now,
    )
    return view
