"""An organization's roster, for the CLI and the console alike: import a CSV (all rows or none), export it,
and unsubscribe one of its subscribers at the organization's request.

A roster's rows go to the organization it is imported for, and to no other: the file has no organization
column (an unknown column is ignored), and an address already registered with another organization (or with
the network) is left exactly as it is, counted as skipped. Addresses already on the roster follow the
lifecycle's rules (subscribers.roster_writer): an unsubscribed or bounced address is never made active again
by an import. A `countries` column gives the countries and regions of its rows to those who have chosen none
yet (subscribers.places.give_places): a subscriber's own choice stays theirs.
"""

from __future__ import annotations

__all__ = [
    "BATCH_ROWS",
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
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from outreach.errors import InvalidInput, NotFound, RelayUnavailable
from outreach.models import Subscriber, SubscriberStatus, utcnow
from outreach.network import NETWORK_SLUG
from outreach.staff import audit
from subscribers import lifecycle
from subscribers.consent import ConsentSource, Origin
from subscribers.directory import find_organization, organization_or_none
from subscribers.export import export_roster
from subscribers.lifecycle import Details
from subscribers.notices import Notice, NoticeKind
from subscribers.read_ahead import read_ahead
from subscribers.roster import ImportConsent, RosterReader
from subscribers.roster_writer import RosterWriter, Tally, confirmation_details
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


RosterSource = bytes | BinaryIO  # the file as uploaded, or opened by the CLI (read as a stream)

_CONFIRM_BATCH = 1000  # confirmation links mailed per call of the relay
BATCH_ROWS = 5000  # rows written at a time: a few statements each, whatever the rows


async def import_roster(
    subscriptions: Subscriptions,
    data: RosterSource,
    *,
    organization: str | None,
    language: str,
    consent: ImportConsent,
    dry_run: bool = False,
    audited: Auditing | None = None,
    batch_rows: int = BATCH_ROWS,
) -> RosterImport:
    """Import the roster file `data` for the organization `organization` (a slug; None or `network`: the
    network's own), in one transaction, all rows or none; with `confirm`, then mail the new and still pending
    addresses their confirmation links.

    The file is read and written `batch_rows` at a time (subscribers.roster_writer), the next batch read while
    one is written: a problem anywhere, found however late, rolls the whole transaction back. RosterError
    (every problem, with its line) when the file is refused; NotFound for an unknown organization;
    RelayUnavailable when the links could not be mailed (the rows are in, pending: the same import again mails
    them). A real import is audited as `roster.import` when `audited` says by whom.
    """
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    now = utcnow()

    def work(session: Session) -> Tally:
        reader = RosterReader(source)
        writer = RosterWriter(
            session,
            organization=organization_or_none(session, organization),
            language=language,
            consent=consent,
            now=now,
            write=not dry_run,
        )
        batches = reader.batches(batch_rows)
        # with a server of its own, the next batch is read while it writes; SQLite would only share the GIL
        with read_ahead(batches) if writer.on_server else nullcontext(batches) as batches:
            for batch in batches:
                writer.write = writer.write and not reader.problems  # refused anyway: only read on
                writer.add(batch)
        reader.raise_problems()
        writer.tally.rows = reader.rows
        return writer.tally

    tally = await asyncio.to_thread(_in_transaction, subscriptions, work, dry_run)
    result = RosterImport(
        rows=tally.rows,
        added=tally.added,
        updated=tally.updated,
        unchanged=tally.unchanged,
        skipped=tally.skipped,
        activated=tally.activated,
        to_confirm=len(tally.to_confirm),
        dry_run=dry_run,
    )
    if dry_run:
        return result
    try:
        await _mail_confirmations(subscriptions, tally.to_confirm)
    except RelayUnavailable:
        if audited is not None:  # the rows were written before the mails failed
            await asyncio.to_thread(_audit_import, subscriptions, organization, audited, "links not mailed")
        raise
    if audited is not None:
        await asyncio.to_thread(
            _audit_import, subscriptions, organization, audited, _describe(result, consent)
        )
    return result


def _in_transaction(subscriptions: Subscriptions, work: Callable[[Session], Tally], dry_run: bool) -> Tally:
    with subscriptions.db.session(dry_run=dry_run) as session:
        return work(session)


async def _mail_confirmations(subscriptions: Subscriptions, ids: Sequence[int]) -> None:
    """Mail each of these (pending) subscribers the link that makes them active, a batch at a time."""
    for start in range(0, len(ids), _CONFIRM_BATCH):
        batch = list(ids[start : start + _CONFIRM_BATCH])

        def read(session: Session, batch: list[int] = batch) -> list[Details]:
            return confirmation_details(session, batch)

        details = await asyncio.to_thread(_read, subscriptions, read)
        await subscriptions.notices.send([_confirm_notice(subscriptions, each) for each in details])


def _confirm_notice(subscriptions: Subscriptions, details: Details) -> Notice:
    """The confirmation mail of a roster's address; its link carries no places (confirming keeps the
    roster's), as Subscriptions writes it for the web form."""
    language = details.preferences.language
    values: dict[str, str | int] = {
        "url": subscriptions.links.confirmation_url(details.to_payload(), language),
        "days": subscriptions.options.pending_lifetime.days,
    }
    return Notice(NoticeKind.CONFIRM, details.email, language, values, "auto-generated")


def _read(subscriptions: Subscriptions, work: Callable[[Session], list[Details]]) -> list[Details]:
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
