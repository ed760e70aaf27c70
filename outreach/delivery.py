"""Delivers issues: a worker claims due ledger rows in batches, stamps each message, sends it over a pool of
SMTP connections within the rate limits, and records every reply; a journal makes a kill at any moment safe.
"""

from __future__ import annotations

__all__ = [
    "DeliveryOptions",
    "IssueSender",
    "SendRun",
    "Worker",
    "WorkerBusy",
    "WorkerReport",
    "salutation",
    "senders",
]

import asyncio
import contextlib
import logging
import socket
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session, selectinload

from outreach.config import Settings
from outreach.db import Database
from outreach.dkim import DkimSigner
from outreach.errors import InvalidInput, OutreachError, RelayUnavailable
from outreach.issues import get_issue
from outreach.journal import Journal, JournalEntry, read_journal
from outreach.lanes import Lane, lanes_for
from outreach.links import PersonalLinks
from outreach.mailer import ConnectionLost, Mailer, SmtpReply
from outreach.message import MessageFactory, Personal
from outreach.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Issue,
    IssueItem,
    IssueStatus,
    Organization,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from outreach.network import NETWORK_SLUG
from outreach.outbox import (
    OPEN_STATES,
    Claimed,
    claim_rows,
    has_due_rows,
    release_rows,
    status_counts,
)
from outreach.policy import Decision, RetryPolicy
from outreach.ratelimit import RateLimits
from outreach.render import Renderer, Sender
from outreach.sending import start_send

log = logging.getLogger(__name__)
_LEDGER: Table = Delivery.__table__  # type: ignore[assignment]
_OUTCOME = ("status", "smtp_code", "smtp_reply", "message_id", "attempts", "next_attempt_at", "updated_at")
# One statement, executed for many rows at once (Core executemany, not the ORM's unit of work).
_UPDATE_ROW = (
    update(_LEDGER)
    .where(_LEDGER.c.id == bindparam("row_id"))
    .values({**{name: bindparam(name) for name in _OUTCOME}, "claimed_by": None, "claimed_at": None})
)
_FLUSH_EVERY = 0.25  # seconds between ledger updates: how fresh `outreach issue status` is
_PROGRESS_EVERY = 1.0  # seconds between progress counts
_IDLE_POLL = 1.0  # seconds between claims when a long-running worker finds nothing due


def salutation(language: str, *, company: str, name: str) -> str:
    if language == "ja":
        if name:
            return f"{company} {name}様".strip()
        return f"{company} ご担当者様".strip()
    if name:
        return f"Dear {name}" + (f" ({company})" if company else "")
    return f"Dear {company} team" if company else "Dear subscriber"


def senders(settings: Settings) -> dict[str, Sender]:
    return {
        "ja": Sender(settings.sender_name_ja, settings.sender_address, settings.postal_address_ja),
        "en": Sender(settings.sender_name_en, settings.sender_address, settings.postal_address_en),
    }


class WorkerBusy(InvalidInput):
    """Another worker holds the only worker slot (SQLite)."""


@dataclass(frozen=True)
class DeliveryOptions:
    """Overrides for one worker; anything left None comes from the settings."""

    batch_size: int | None = None


@dataclass
class WorkerReport:
    """What a worker run did: outcomes of this run, and messages whose fate a crash left unknown."""

    outcomes: Counter[str] = field(default_factory=Counter)
    unknown: int = 0
    paused: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Result:
    row: Claimed
    decision: Decision
    reply: SmtpReply | None
    message_id: str | None
    at: datetime
    tries: tuple[SmtpReply | None, ...]


def _worker_names() -> list[str]:
    host = socket.gethostname().split(".")[0] or "worker"
    return [host, *[f"{host}-{index}" for index in range(2, 100)]]


class Worker:
    """Claims due rows of issues being sent, sends them over its lanes, records the replies.

    `run(until_idle=True)` returns once nothing is due (what `outreach issue send` does); with
    `until_idle=False` it keeps polling until `stop` is set (what `outreach worker` does).
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        links: PersonalLinks,
        lanes: list[Lane] | None = None,
        issue_id: int | None = None,
        name: str | None = None,
        renderer: Renderer | None = None,
        batch_size: int | None = None,
        clock: Callable[[], datetime] = utcnow,
        on_progress: Callable[[Counter[str]], None] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.links = links
        self.lanes = lanes if lanes is not None else lanes_for(settings)
        self.issue_id = issue_id
        self.renderer = renderer or Renderer(sender=senders(settings))
        self.clock = clock
        self.on_progress = on_progress
        config = settings.delivery
        self.batch_size = batch_size or config.batch_size
        self.policy = RetryPolicy(config.retry_first, config.retry_max, config.retry_deadline)
        self.domains = RateLimits(rate=None, per_hour=None, domain_rates=config.domain_rates)
        self.dkim = DkimSigner.from_settings(settings)
        self.name, self.journal = self._take_name(name)
        self._domain = settings.sender_address.rpartition("@")[2]
        self._factories: dict[tuple[int, int | None, str], tuple[MessageFactory, str, int]] = {}
        self._organizations: dict[int, Organization] = {}
        self._issues: dict[int, Issue] = {}
        self._results: list[_Result] = []
        self._in_flight: dict[int, str] = {}
        self._returned: list[int] = []
        self._halted: set[int] = set()
        self._pauses_to_write: dict[int, str] = {}
        self._progress_at = 0.0
        self._errors_in_a_row: Counter[int] = Counter()
        self._relay_error: RelayUnavailable | None = None
        self.report = WorkerReport()

    # --- identity and recovery ------------------------------------------------------------------

    def _take_name(self, name: str | None) -> tuple[str, Journal]:
        """A name no other process on this host uses now; its journal is locked while we run.

        On SQLite every worker shares one name, so a second worker is refused: SQLite has one writer.
        """
        folder = self.settings.var_dir / "journal"
        if self.db.is_sqlite:
            journal = Journal(folder / "sqlite-worker.journal")
            if not journal.lock():
                journal.close()
                raise WorkerBusy(
                    "another worker is sending on this SQLite database, and SQLite runs one worker at a "
                    "time; it will deliver this issue too (use PostgreSQL to run several workers)"
                ) from None
            return "sqlite-worker", journal
        for candidate in [name] if name else _worker_names():
            journal = Journal(folder / f"{candidate}.journal")
            if journal.lock():
                return candidate, journal
            journal.close()
        raise InvalidInput(f"the worker name {name!r} is in use by another process on this host")

    def recover(self) -> int:
        """Settle what a previous run under this name, or a worker whose lease ran out, left behind."""
        entries = read_journal(self.journal.path)
        with self.db.session() as session:
            settled = self._settle_journal(session, entries)
            release_rows(session, worker=self.name)
            stale = self._take_over_stale(session)
        self.journal.clear()
        self.report.unknown += settled
        return settled + stale

    def _take_over_stale(self, session: Session) -> int:
        """Rows claimed by a worker that stopped renewing its lease (it died and was not restarted)."""
        stale_before = self.clock() - self.settings.delivery.lease
        ids = list(
            session.scalars(
                select(Delivery.id).where(
                    Delivery.status == DeliveryStatus.SENDING, Delivery.claimed_at < stale_before
                )
            )
        )
        self._mark_unknown(session, ids, "its worker stopped answering (lease expired)")
        self.report.unknown += len(ids)
        return len(ids)

    def _settle_journal(self, session: Session, entries: dict[int, JournalEntry]) -> int:
        ours = {
            row.id: row
            for row in session.execute(
                select(Delivery).where(
                    Delivery.id.in_(list(entries)),
                    Delivery.claimed_by == self.name,
                    Delivery.status == DeliveryStatus.SENDING,
                )
            ).scalars()
        }
        finished = [
            entry for entry in entries.values() if entry.code is not None and entry.delivery_id in ours
        ]
        for entry in finished:
            row = ours[entry.delivery_id]
            claimed = Claimed(row.id, row.issue_id, row.subscriber_id, row.organization_id, row.language,
                              row.email, "", "", row.attempts, row.created_at)  # fmt: skip
            reply = SmtpReply(entry.code or 0, entry.reply)
            self._results.append(self._result(claimed, reply, entry.message_id, (reply,)))
        self._write_results(session)
        in_flight = [
            entry.delivery_id
            for entry in entries.values()
            if entry.code is None and entry.delivery_id in ours
        ]
        self._mark_unknown(session, in_flight, "the worker stopped while sending it")
        return len(in_flight)

    def _mark_unknown(self, session: Session, ids: list[int], why: str) -> None:
        """Rows whose message may or may not have gone out: logged as unknown, then resent or held."""
        if not ids:
            return
        now = self.clock()
        resend = self.settings.delivery.unknown_policy == "resend"
        reply = f"fate unknown: {why}; " + (
            "queued again" if resend else "held (OUTREACH_UNKNOWN_POLICY=hold)"
        )
        session.execute(
            insert(DeliveryAttempt),
            [
                {
                    "delivery_id": i,
                    "attempted_at": now,
                    "outcome": DeliveryStatus.UNKNOWN,
                    "smtp_reply": reply,
                }
                for i in ids
            ],
        )
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids))
            .values(
                status=DeliveryStatus.QUEUED if resend else DeliveryStatus.UNKNOWN,
                smtp_code=None,
                smtp_reply=reply,
                claimed_by=None,
                claimed_at=None,
                updated_at=now,
            )
        )

    # --- the run ------------------------------------------------------------------------------

    async def run(self, *, until_idle: bool = True, stop: asyncio.Event | None = None) -> WorkerReport:
        """Deliver until nothing is due (or until `stop`); RelayUnavailable if no relay can be reached."""
        self.recover()
        self._relay_error = None  # `outreach worker` runs again after a relay was away
        queue: asyncio.Queue[Claimed | None] = asyncio.Queue(maxsize=self.batch_size)
        lanes = [asyncio.create_task(self._lane(lane, queue)) for lane in self.lanes]
        flusher = asyncio.create_task(self._flush_periodically())
        try:
            await self._feed(queue, until_idle=until_idle, stop=stop)
        finally:
            for _ in lanes:
                await queue.put(None)
            await asyncio.gather(*lanes)
            flusher.cancel()
            self._flush()
            with self.db.session() as session:
                release_rows(session, worker=self.name)
                self._finish_issues(session)
            self.journal.clear()
        if self._relay_error is not None:
            raise self._relay_error
        return self.report

    def close(self) -> None:
        self.journal.close()

    async def _feed(
        self, queue: asyncio.Queue[Claimed | None], *, until_idle: bool, stop: asyncio.Event | None
    ) -> None:
        while self._relay_error is None and not (stop is not None and stop.is_set()):
            with self.db.session() as session:
                rows = claim_rows(
                    session, worker=self.name, limit=self.batch_size, now=self.clock(), issue_id=self.issue_id
                )
            for row in rows:
                await queue.put(row)
            if rows:
                continue
            await queue.join()  # everything claimed has been tried; a retry may now be due, or nothing is
            self._flush()
            with self.db.session() as session:
                self._take_over_stale(session)  # a worker elsewhere may have died for good
                self._finish_issues(session)  # a long-running worker marks its sends done as they finish
            if until_idle and not self._due_now():
                return
            if not until_idle:
                await self._wait(stop, _IDLE_POLL)

    def _due_now(self) -> bool:
        with self.db.session() as session:
            return has_due_rows(session, now=self.clock(), issue_id=self.issue_id)

    @staticmethod
    async def _wait(stop: asyncio.Event | None, seconds: float) -> None:
        if stop is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    async def _lane(self, lane: Lane, queue: asyncio.Queue[Claimed | None]) -> None:
        mailer: Mailer | None = None
        sent = 0
        try:
            while (row := await queue.get()) is not None:
                try:
                    if self._relay_error is not None or row.issue_id in self._halted:
                        self._returned.append(row.id)  # back to the queue at the next flush
                        continue
                    if mailer is None or sent >= self.settings.delivery.reconnect_after:
                        mailer = await self._reopen(lane, mailer)
                        sent = 0
                    await self._deliver(row, lane, mailer)
                    sent += 1
                except RelayUnavailable as exc:
                    self._relay_error = exc
                    mailer = None
                finally:
                    queue.task_done()
            queue.task_done()
        finally:
            if mailer is not None:
                await mailer.close()

    @staticmethod
    async def _reopen(lane: Lane, mailer: Mailer | None) -> Mailer:
        if mailer is not None:
            await mailer.close()
        fresh = lane.open_mailer()
        await fresh.open()
        return fresh

    async def _deliver(self, row: Claimed, lane: Lane, mailer: Mailer) -> None:
        try:
            message, message_id, label = self._message(row, eight_bit=mailer.eight_bit)
        except (
            OutreachError
        ) as exc:  # e.g. a rendition the issue's charset cannot carry: this row fails, loudly
            log.error("cannot build the message for delivery %s: %s", row.id, exc)
            self._results.append(self._result(row, SmtpReply(554, f"not sent: {exc}"), None, ()))
            return
        await self.domains.acquire(row.email)
        await lane.limits.acquire(row.email)
        self.journal.started(row.id, message_id)
        self._in_flight[row.id] = message_id
        tries: list[SmtpReply | None] = []
        try:
            reply = await self._send(mailer, row.email, message, label, tries)
        except RelayUnavailable:  # dropped mid-message and no relay takes us back: retried later, by policy
            del self._in_flight[row.id]
            self.journal.finished(row.id, None, "", message_id)
            self._results.append(self._result(row, None, message_id, tuple(tries)))
            raise
        self.journal.finished(row.id, reply.code if reply else None, reply.text if reply else "", message_id)
        del self._in_flight[row.id]
        result = self._result(row, reply, message_id, tuple(tries))
        self._results.append(result)
        self._count_errors(result)

    async def _send(
        self, mailer: Mailer, recipient: str, message: bytes, label: str, tries: list[SmtpReply | None]
    ) -> SmtpReply | None:
        """Send; after a dropped connection reconnect and try once more. None: it dropped again."""
        sender = self.settings.sender_address
        for attempt in (1, 2):
            try:
                reply = await mailer.send(sender=sender, recipient=recipient, message=message, label=label)
            except ConnectionLost as exc:
                log.warning("connection lost while sending to %s: %s", recipient, exc)
                tries.append(None)
                await mailer.close()
                await mailer.open()  # RelayUnavailable propagates: the row goes back to the queue
                if attempt == 2:
                    return None
                continue
            tries.append(reply)
            return reply
        return None

    def _result(
        self,
        row: Claimed,
        reply: SmtpReply | None,
        message_id: str | None,
        tries: tuple[SmtpReply | None, ...],
    ) -> _Result:
        now = self.clock()
        decision = self.policy.decide(
            reply, attempts=row.attempts + max(len(tries), 1), queued_at=row.created_at, now=now
        )
        return _Result(row, decision, reply, message_id, now, tries or (reply,))

    # --- messages -----------------------------------------------------------------------------

    def _issue(self, issue_id: int) -> Issue:
        if issue_id not in self._issues:
            with self.db.session() as session:
                issue = session.scalars(
                    select(Issue)
                    .where(Issue.id == issue_id)
                    .options(selectinload(Issue.items).selectinload(IssueItem.meeting))
                    .options(selectinload(Issue.items).selectinload(IssueItem.promotion))
                ).one()
                if not self._organizations:
                    self._organizations = {org.id: org for org in session.scalars(select(Organization))}
            self._issues[issue_id] = issue
        return self._issues[issue_id]

    def _factory(
        self, issue_id: int, organization_id: int | None, language: str
    ) -> tuple[MessageFactory, str, int]:
        key = (issue_id, organization_id, language)
        if key not in self._factories:
            issue = self._issue(issue_id)
            network = next(org for org in self._organizations.values() if org.slug == NETWORK_SLUG)
            organization = self._organizations.get(organization_id or -1, network)
            rendition = self.renderer.render(issue, organization, language)
            sender = self.renderer.sender[language]
            factory = MessageFactory(
                rendition,
                sender_name=sender.name,
                sender_address=sender.address,
                list_id=self.settings.list_id,
            )
            self._factories[key] = (factory, organization.slug, issue.number)
        return self._factories[key]

    def _message(self, row: Claimed, *, eight_bit: bool) -> tuple[bytes, str, str]:
        factory, slug, number = self._factory(row.issue_id, row.organization_id, row.language)
        links = self.links.for_subscriber(row.subscriber_id, row.language)
        message_id = (
            f"<outreach.{number}.{row.id}@{self._domain}>"  # the same on a resend: readers can dedupe
        )
        personal = Personal(
            email=row.email,
            display_name=row.name or row.company,
            message_id=message_id,
            salutation=salutation(row.language, company=row.company, name=row.name),
            unsubscribe_url=links.unsubscribe_url,
            unsubscribe_mailto=links.unsubscribe_mailto,
            preferences_url=links.preferences_url,
        )
        message = factory.build(personal, now=self.clock(), eight_bit=eight_bit)
        if self.dkim is not None:
            message = self.dkim.sign(message)
        return message, message_id, f"issue-{number:04d}/{slug}/{row.id:08d}-{row.email}"

    # --- the ledger ---------------------------------------------------------------------------

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(_FLUSH_EVERY)
            self._flush()

    def _flush(self) -> None:
        """Write the replies to the ledger in one transaction, then empty the journal of what it holds."""
        returned, self._returned = self._returned, []
        with self.db.session() as session:
            self._write_results(session)
            if returned:  # rows of a paused or cancelled issue, or left when the relay went away
                release_rows(session, worker=self.name, ids=returned)
            session.execute(
                update(Delivery)
                .where(
                    Delivery.issue_id.in_(list(self._issues)),  # keeps to the index: no scan of the ledger
                    Delivery.status == DeliveryStatus.SENDING,
                    Delivery.claimed_by == self.name,
                )
                .values(claimed_at=self.clock())  # the lease: we are alive
            )
            self._check_issues(session)
        self.journal.clear(keep=dict(self._in_flight))
        self._report_progress()

    def _report_progress(self) -> None:
        """Counting a million-row ledger takes a while: at most every _PROGRESS_EVERY seconds."""
        if self.on_progress is None or self.issue_id is None:
            return
        now = time.monotonic()
        if now - self._progress_at < _PROGRESS_EVERY:
            return
        self._progress_at = now
        with self.db.session() as session:
            self.on_progress(status_counts(session, self.issue_id))

    def _write_results(self, session: Session) -> None:
        results, self._results = self._results, []
        if not results:
            return
        session.execute(_UPDATE_ROW, [self._row_update(result) for result in results])
        session.execute(insert(DeliveryAttempt), [a for result in results for a in self._attempts(result)])
        self._count_bounces(session, [r.row.subscriber_id for r in results if r.decision.bounce])
        for result in results:
            self.report.outcomes[str(result.decision.status)] += 1

    def _row_update(self, result: _Result) -> dict[str, Any]:
        reply = result.reply
        return {
            "row_id": result.row.id,
            "status": result.decision.status,
            "smtp_code": reply.code if reply else None,
            "smtp_reply": reply.text if reply else "connection dropped twice with the message in flight",
            "message_id": result.message_id,
            "attempts": result.row.attempts + len(result.tries),
            "next_attempt_at": result.decision.retry_at,
            "updated_at": result.at,
        }

    @staticmethod
    def _attempts(result: _Result) -> list[dict[str, Any]]:
        attempts = []
        for index, reply in enumerate(result.tries):
            last = index == len(result.tries) - 1
            attempts.append(
                {
                    "delivery_id": result.row.id,
                    "attempted_at": result.at,
                    "outcome": result.decision.status if last else DeliveryStatus.DEFERRED,
                    "smtp_code": reply.code if reply else None,
                    "smtp_reply": reply.text if reply else "connection lost with the message in flight",
                }
            )
        return attempts

    def _count_bounces(self, session: Session, subscriber_ids: list[int]) -> None:
        if not subscriber_ids:
            return
        session.execute(
            update(Subscriber)
            .where(Subscriber.id.in_(subscriber_ids))
            .values(bounce_count=Subscriber.bounce_count + 1)
        )
        session.execute(
            update(Subscriber)
            .where(
                Subscriber.id.in_(subscriber_ids),
                Subscriber.bounce_count >= self.settings.delivery.bounce_limit,
                Subscriber.status == SubscriberStatus.ACTIVE,
            )
            .values(status=SubscriberStatus.BOUNCED)
        )

    def _count_errors(self, result: _Result) -> None:
        issue_id = result.row.issue_id
        if result.decision.status == DeliveryStatus.SENT:
            self._errors_in_a_row[issue_id] = 0
            return
        self._errors_in_a_row[issue_id] += 1
        limit = self.settings.delivery.pause_after_errors
        if self._errors_in_a_row[issue_id] == limit:
            reply = result.reply or "connection dropped"
            reason = f"{limit} errors in a row; the last: {reply}"
            self.report.paused[issue_id] = self._pauses_to_write[issue_id] = reason
            self._halted.add(issue_id)  # the lanes stop taking its rows now; the flush writes the pause

    def _check_issues(self, session: Session) -> None:
        """Pause issues with too many errors in a row; follow what staff paused, resumed or cancelled."""
        for issue_id, reason in self._pauses_to_write.items():
            session.execute(
                update(Issue)
                .where(Issue.id == issue_id, Issue.status == IssueStatus.SENDING)
                .values(status=IssueStatus.PAUSED, pause_reason=reason)
            )
            log.error("issue %s paused: %s", issue_id, reason)
        self._pauses_to_write.clear()
        if not self._issues:
            return
        stopped = set(
            session.scalars(
                select(Issue.id).where(Issue.id.in_(list(self._issues)), Issue.status != IssueStatus.SENDING)
            )
        )
        for resumed in self._halted - stopped:
            self._errors_in_a_row[resumed] = 0
        self._halted = stopped

    def _finish_issues(self, session: Session) -> None:
        """Issues being sent with no open rows left are sent (even with no recipient at all); rows of
        cancelled issues that came back are cancelled."""
        cancelled = select(Issue.id).where(Issue.status == IssueStatus.CANCELLED)
        session.execute(
            update(Delivery)
            .where(Delivery.issue_id.in_(cancelled), Delivery.status.in_(OPEN_STATES))
            .values(status=DeliveryStatus.CANCELLED)
        )
        still_open = select(Delivery.id).where(
            Delivery.issue_id == Issue.id, Delivery.status.in_(OPEN_STATES)
        )
        session.execute(
            update(Issue)
            .where(Issue.status == IssueStatus.SENDING, ~still_open.exists())
            .values(status=IssueStatus.SENT, sent_at=self.clock())
            .execution_options(synchronize_session=False)
        )
        done = session.scalars(
            select(Issue.id).where(Issue.id.in_(list(self._issues)), Issue.status == IssueStatus.SENT)
        )
        for issue_id in done:  # a long-running worker keeps no renditions of finished sends
            del self._issues[issue_id]
            self._factories = {key: value for key, value in self._factories.items() if key[0] != issue_id}


@dataclass
class SendRun:
    """What one `outreach issue send` did."""

    issue_number: int
    destination: str
    enqueued: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    unknown: int = 0
    already_sent: bool = False
    finished: bool = False
    paused: str | None = None
    totals: Counter[str] = field(default_factory=Counter)


class IssueSender:
    """Sends one issue now, in this process: starts it (its ledger rows), then runs a worker until done."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        links: PersonalLinks,
        mailer: Mailer | None = None,
        renderer: Renderer | None = None,
        options: DeliveryOptions | None = None,
        clock: Callable[[], datetime] = utcnow,
        on_progress: Callable[[Counter[str]], None] | None = None,
        worker_name: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.links = links
        self.renderer = renderer
        self.options = options or DeliveryOptions()
        self.clock = clock
        self.on_progress = on_progress
        self.worker_name = worker_name
        self._mailer = mailer

    def _lanes(self) -> list[Lane]:
        if self._mailer is None:
            return lanes_for(self.settings)
        mailer = self._mailer
        return [Lane(lambda: mailer, RateLimits(rate=None, per_hour=None, domain_rates={}))]

    def _destination(self) -> str:
        if self._mailer is not None:
            return self._mailer.describe()
        if self.settings.relays:
            return ", ".join(f"SMTP relay {relay}" for relay in self.settings.relays)
        return f"local outbox {self.settings.outbox_dir}"

    async def send(self, issue_number: int) -> SendRun:
        run = SendRun(issue_number=issue_number, destination=self._destination())
        issue_id = self._start(issue_number, run)
        if not run.already_sent:
            worker = Worker(
                self.db,
                self.settings,
                links=self.links,
                lanes=self._lanes(),
                issue_id=issue_id,
                name=self.worker_name,
                renderer=self.renderer,
                batch_size=self.options.batch_size,
                clock=self.clock,
                on_progress=self.on_progress,
            )
            try:
                report = await worker.run(until_idle=True)
            finally:
                worker.close()
            run.outcomes, run.unknown = report.outcomes, report.unknown
        with self.db.session() as session:
            issue = session.get_one(Issue, issue_id)
            run.finished = issue.status == IssueStatus.SENT
            run.paused = issue.pause_reason if issue.status == IssueStatus.PAUSED else None
            run.totals = status_counts(session, issue_id)
        return run

    def _start(self, issue_number: int, run: SendRun) -> int:
        with self.db.session() as session:
            issue = get_issue(session, issue_number)
            if issue.status == IssueStatus.SENT:
                run.already_sent = True
            elif issue.status in (IssueStatus.PAUSED, IssueStatus.CANCELLED):
                raise InvalidInput(
                    f"issue No. {issue_number} is {issue.status}"
                    + (f" ({issue.pause_reason})" if issue.pause_reason else "")
                    + (": `outreach issue resume` it first" if issue.status == IssueStatus.PAUSED else "")
                )
            elif issue.status in (IssueStatus.DRAFT, IssueStatus.SCHEDULED):
                run.enqueued = start_send(session, issue, now=self.clock())
            return issue.id
