"""Bounce reports and complaints that come back to `bounces+<token>@` (or plain `bounces@`), applied.

Which delivery a report is about is proved, never guessed: by the signed VERP address it was sent to (or
that its returned message names as Return-Path), else by the returned message's Message-ID, which carries
the same signature. A report to a forged or altered address, or naming no delivery of ours, is logged and
dropped; so is mail that is no report at all (an auto-reply to the envelope sender, a delay warning).

A bounce is recorded by `outreach.outbox.record_bounce` (which applies its class to the subscriber); a
complaint is logged with `record_complaint` and unsubscribes its subscriber (consent source `complaint`),
final like any other opt-out.
"""

from __future__ import annotations

__all__ = ["Feedback", "Taken"]

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from outreach.config import Settings
from outreach.db import Database
from outreach.feedback import Failure, Report, ReportKind, read_report
from outreach.models import Delivery, utcnow
from outreach.outbox import find_delivery, record_bounce, record_complaint
from outreach.verp import Verp
from subscribers import lifecycle
from subscribers.consent import ConsentSource, Origin

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Taken:
    """What became of one report, for the log: `bounce`, `complaint` or `dropped`, and why."""

    action: str
    detail: str


class Feedback:
    """Reads a report and writes what it says to the ledger, in one transaction."""

    def __init__(self, db: Database, settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.verp = Verp(settings.secret_key, settings.verp_domain)
        self.limit = settings.delivery.bounce_limit
        self.window = settings.delivery.bounce_window
        self.clock = clock

    def is_ours(self, address: str) -> bool:
        return self.verp.is_ours(address)

    async def take(self, raw: bytes, recipients: list[str], *, note: str) -> Taken:
        """Apply a report sent to `recipients` (our bounce addresses); `note` says where it came from."""
        taken = await asyncio.to_thread(self._take, raw, recipients, note)
        log.info("feedback %s: %s (%s)", taken.action, taken.detail, note)
        return taken

    def _take(self, raw: bytes, recipients: list[str], note: str) -> Taken:
        report = read_report(raw)
        if report is None:
            return Taken("dropped", "not a bounce or complaint report")
        tokens = [address for address in recipients if "+" in address.partition("@")[0]]
        signed = [self.verp.delivery_id(address) for address in tokens]
        if None in signed:
            return Taken("dropped", f"a forged or altered token: {tokens[signed.index(None)][:100]}")
        with self.db.session() as session:
            delivery_id = self._delivery(session, report, signed)
            if delivery_id is None:
                return Taken("dropped", "the report names no delivery of ours")
            if report.kind == ReportKind.BOUNCE and not report.failures:
                return Taken("dropped", "a bounce report that names no failure")
            if report.kind == ReportKind.COMPLAINT:
                return self._complaint(session, delivery_id, report, note)
            return self._bounce(session, delivery_id, report)

    def _delivery(self, session: Session, report: Report, signed: list[int | None]) -> int | None:
        """The delivery: from the address the report came to, else from its returned message."""
        candidates = [found for found in signed if found is not None]
        if report.returned_envelope_sender:
            candidates.append(self.verp.delivery_id(report.returned_envelope_sender) or 0)
        for candidate in candidates:
            found = find_delivery(session, delivery_id=candidate) if candidate else None
            if found is not None:
                return found
        return find_delivery(session, message_id=report.returned_message_id)

    def _bounce(self, session: Session, delivery_id: int, report: Report) -> Taken:
        failure = _failure_for(report.failures, session.get_one(Delivery, delivery_id).email)
        returned = record_bounce(
            session,
            delivery_id,
            bounce_class=failure.bounce_class,
            status_code=failure.status,
            diagnostic=failure.diagnostic,
            limit=self.limit,
            window=self.window,
            now=self.clock(),
        )
        ended = "; the subscriber is now bounced" if returned.subscriber_bounced else ""
        what = f"{failure.bounce_class} {failure.status or 'no code'}{ended}"
        return Taken("bounce", f"delivery {delivery_id} <{returned.email}>: {what}")

    def _complaint(self, session: Session, delivery_id: int, report: Report, note: str) -> Taken:
        now = self.clock()
        feedback_type = report.feedback_type or "abuse"
        returned = record_complaint(session, delivery_id, feedback_type=feedback_type, now=now)
        origin = Origin(ConsentSource.COMPLAINT, note=f"{feedback_type} report {note}")
        lifecycle.unsubscribe(session, returned.subscriber_id, origin, now=now)
        return Taken("complaint", f"delivery {delivery_id} <{returned.email}>: unsubscribed")


def _failure_for(failures: tuple[Failure, ...], email: str) -> Failure:
    """The failure that is about the delivery's address, else the first one (forwarded mail fails under
    another address)."""
    return next((failure for failure in failures if failure.recipient == email.lower()), failures[0])
