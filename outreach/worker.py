"""The delivery worker: claims due rows from its store, has the composer build each message, sends it over its
lanes within the rate limits, and hands the replies to the retry policy and back to the store.

It knows a store, a composer, its lanes, its journal and the retry policy, nothing else. A message goes out
only while the worker's last lease renewal is fresh and the row is still its own: a worker that stalled past
its lease (SIGSTOP, a paused VM, swap) and lost its rows to another stops sending them and says so.
"""

from __future__ import annotations

__all__ = ["Worker", "WorkerBusy", "WorkerReport"]

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable

from outreach.composer import Composer
from outreach.config import Settings
from outreach.errors import OutreachError, RelayUnavailable
from outreach.handover import Sending
from outreach.journal import JournalEntry, read_journal
from outreach.lanes import Lane
from outreach.mailer import ConnectionLost, DroppedBefore, Mailer, SmtpReply
from outreach.models import DeliveryStatus
from outreach.outbox import Claimed, Outcome
from outreach.policy import RetryPolicy
from outreach.ratelimit import RateLimits
from outreach.recovery import WorkerBusy, journal_of, settle_from_journal, take_name
from outreach.store import Store
from outreach.worker_report import WorkerReport

log = logging.getLogger(__name__)
_FLUSH_EVERY = 0.25  # seconds between ledger writes and lease renewals: how fresh `issue status` is
_PROGRESS_EVERY = 1.0  # seconds between progress counts
_IDLE_POLL = 1.0  # seconds between claims when a long-running worker finds nothing due
_CLOCK = getattr(time, "CLOCK_BOOTTIME", time.CLOCK_MONOTONIC)  # runs on while the machine sleeps


def _elapsed() -> float:
    return time.clock_gettime(_CLOCK)


class Worker:
    """`run(until_idle=True)` returns once nothing is due (what `outreach issue send` does); with
    `until_idle=False` it keeps polling until `stop` is set (what `outreach worker` does)."""

    def __init__(
        self,
        store_of: Callable[[str], Store],
        composer: Composer,
        lanes: list[Lane],
        settings: Settings,
        *,
        sqlite: bool,
        issue_id: int | None = None,
        name: str | None = None,
        batch_size: int | None = None,
        on_progress: Callable[[Counter[str]], None] | None = None,
    ) -> None:
        config = settings.delivery
        self.composer = composer
        self.lanes = lanes
        self.issue_id = issue_id
        self.clock = composer.clock
        self.on_progress = on_progress
        self.config = config
        self.batch_size = batch_size or config.batch_size
        self.policy = RetryPolicy(config.retry_first, config.retry_max, config.retry_deadline)
        self.domains = RateLimits(rate=None, per_hour=None, domain_rates=config.domain_rates)
        self._journals = settings.var_dir / "journal"
        self.name, self.journal = take_name(self._journals, sqlite=sqlite, name=name)
        self.store = store_of(self.name)
        self._held: dict[int, str] = {}  # rows claimed and not yet settled: id -> claim token
        self._outcomes: list[Outcome] = []
        self._in_flight: dict[int, str] = {}
        self._returned: list[int] = []
        self._issues: set[int] = set()
        self._halted: set[int] = set()
        self._pauses: dict[int, str] = {}
        self._confirmed_at = _elapsed()
        self._progress_at = 0.0
        self._errors_in_a_row: Counter[int] = Counter()
        self._pause_after = config.pause_after_errors
        self._relay_error: RelayUnavailable | None = None
        self.report = WorkerReport()

    # --- recovery ------------------------------------------------------------------------------

    def recover(self) -> int:
        """Settle what a previous run under this name, or a worker whose lease ran out, left behind."""
        entries = read_journal(self.journal.path)
        rows = self.store.held_by(list(entries), self.name) if entries else {}
        settled = self._settle(rows, entries, "the worker stopped while sending it")
        self.store.release_all()
        self.journal.clear()
        return settled + self._take_over_stale()

    def _take_over_stale(self) -> int:
        unknown = 0
        for owner, ids in self.store.stale(lease=self.config.lease).items():
            rows = self.store.held_by(ids, self.name)
            log.warning(
                "worker %s took over %d rows from %s, whose lease ran out", self.name, len(rows), owner
            )
            why = f"its worker {owner} stopped answering (lease expired)"
            unknown += self._settle(rows, journal_of(self._journals, owner), why)
        return unknown

    def _settle(self, rows: dict[int, Claimed], entries: dict[int, JournalEntry] | None, why: str) -> int:
        unknown = settle_from_journal(
            self.store,
            rows,
            entries,
            policy=self.policy,
            resend=self.config.unknown_policy == "resend",
            why=why,
            clock=self.clock,
        )
        self.report.unknown += unknown
        return unknown

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
            self.store.release_all()
            self._settle_finished()
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
            rows = self.store.claim(limit=self.batch_size, issue_id=self.issue_id)
            for row in rows:
                self._held[row.id] = row.token
                self._issues.add(row.issue_id)
                await queue.put(row)
            if rows:
                continue
            await queue.join()  # everything claimed has been tried; a retry may now be due, or nothing is
            self._flush()
            self._take_over_stale()  # a worker elsewhere may have died for good, or stalled
            self._settle_finished()  # a long-running worker marks its sends done as they finish
            if until_idle and not self.store.due(self.issue_id):
                return
            if not until_idle:
                await self._wait(stop, _IDLE_POLL)

    @staticmethod
    async def _wait(stop: asyncio.Event | None, seconds: float) -> None:
        if stop is None:
            await asyncio.sleep(seconds)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    async def _lane(self, lane: Lane, queue: asyncio.Queue[Claimed | None]) -> None:
        """One connection's loop. A message's reply is read after the next message went out (RFC 2920
        pipelining, where the server offers it), or before the lane waits for more rows."""
        mailer: Mailer | None = None
        waiting: Sending | None = None
        sent = 0
        try:
            while True:
                if queue.empty():  # nothing goes out meanwhile: the last message's reply now
                    await self._record_reply(waiting)
                    waiting = None
                if (row := await queue.get()) is None:
                    break
                try:
                    if self._relay_error is not None or row.issue_id in self._halted:
                        self._give_back(row)
                        continue
                    if mailer is None or sent >= self.config.reconnect_after:
                        await self._record_reply(waiting)
                        waiting = None
                        mailer = await self._reopen(lane, mailer)
                        sent = 0
                    waiting = await self._deliver(row, lane, mailer, waiting)
                    sent += 1
                except RelayUnavailable as exc:
                    self._relay_error = exc
                    mailer = None
                finally:
                    queue.task_done()
            await self._record_reply(waiting)
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

    def _give_back(self, row: Claimed) -> None:
        if self._held.pop(row.id, None) is not None:
            self._returned.append(row.id)  # back to the queue at the next flush

    def _still_ours(self, row: Claimed) -> bool:
        """Right before sending: the row is still ours, on a lease renewed recently enough."""
        if _elapsed() - self._confirmed_at > self.config.lease.total_seconds() / 2:
            self._flush()  # we may have stalled: renew first, and learn what we lost meanwhile
        return self._held.get(row.id) == row.token

    async def _deliver(
        self, row: Claimed, lane: Lane, mailer: Mailer, waiting: Sending | None
    ) -> Sending | None:
        """Hand the row's message over, then settle the message before it, whose reply comes first.
        Returns what still waits for its reply."""
        if waiting is not None and not self._may_pipeline(waiting):
            await self._record_reply(waiting)
            waiting = None
            if self._relay_error is not None or row.issue_id in self._halted:
                self._give_back(row)
                return None
        try:
            built = self.composer.build(row, eight_bit=mailer.eight_bit)
        except OutreachError as exc:  # not the address's fault: the send stops until staff fix it
            self._halt(row.issue_id, f"cannot build the message for {self.composer.describe(row)}: {exc}")
            self._give_back(row)
            return waiting
        await self.domains.acquire(row.email)
        await lane.limits.acquire(row.email)
        if not self._still_ours(row):
            return waiting
        if waiting is not None and waiting.lost:  # its connection is gone: a fresh one first
            await self._record_reply(waiting)
            waiting = None
        self.journal.started(row.id, built.message_id)
        self._in_flight[row.id] = built.message_id
        sending = Sending(row, built, mailer)
        try:
            sending.pending = await mailer.begin(
                sender=built.envelope_sender,
                recipient=row.email,
                message=built.message,
                label=built.label,
                stuffed=built.stuffed,
            )
        except DroppedBefore:  # with the message before it, which goes again first: this one not yet tried
            pass
        except ConnectionLost as exc:
            log.warning("connection lost while sending to %s: %s", row.email, exc)
            sending.tries.append(None)  # no pending: _record_reply sends it once more
        except RelayUnavailable as exc:  # a connection dropped on purpose did not open again
            self._relay_error = exc
            self._finished(row, None, built.message_id, sending.tries)
            await self._record_reply(waiting)
            return None
        await self._record_reply(waiting)  # its reply came before this message's, or its connection broke
        if sending.pending is None:
            await self._record_reply(sending)
            return None
        return sending

    def _may_pipeline(self, waiting: Sending) -> bool:
        """Whether the next message may go before this one's reply is read. Not on a connection without
        PIPELINING (the reply comes first anyway, and the journal would hold two messages in flight), nor
        when one more error pauses the issue (the next message must then not go)."""
        errors = self._errors_in_a_row[waiting.row.issue_id]
        return waiting.mailer.pipelining and errors + 1 < self._pause_after

    def _finished(
        self, row: Claimed, reply: SmtpReply | None, message_id: str, tries: list[SmtpReply | None]
    ) -> Outcome:
        if reply is None:
            self.journal.finished(row.id, None, "", message_id)
        else:
            self.journal.finished(row.id, reply.code, reply.text, message_id, reply.stage)
        del self._in_flight[row.id]
        now = self.clock()
        decision = self.policy.decide(
            reply, attempts=row.attempts + max(len(tries), 1), queued_at=row.created_at, now=now
        )
        outcome = Outcome(row, decision, reply, message_id, now, tuple(tries) or (reply,))
        self._outcomes.append(outcome)
        return outcome

    async def _record_reply(self, sending: Sending | None) -> None:
        """Read a message's reply (or send it once more after a drop) and record it."""
        if sending is None:
            return
        try:
            reply = await sending.reply()
        except RelayUnavailable as exc:  # dropped mid-message and no relay takes us back: retried later
            self._relay_error = exc
            self._finished(sending.row, None, sending.built.message_id, sending.tries)
            return
        self._count_errors(self._finished(sending.row, reply, sending.built.message_id, sending.tries))

    def _count_errors(self, outcome: Outcome) -> None:
        issue_id = outcome.row.issue_id
        if outcome.decision.status == DeliveryStatus.SENT:
            self._errors_in_a_row[issue_id] = 0
            return
        self._errors_in_a_row[issue_id] += 1
        limit = self._pause_after
        if self._errors_in_a_row[issue_id] == limit:
            self._halt(
                issue_id, f"{limit} errors in a row; the last: {outcome.reply or 'connection dropped'}"
            )

    def _halt(self, issue_id: int, reason: str) -> None:
        """Stop taking the issue's rows now; the next flush pauses it with the reason."""
        if issue_id not in self._halted:
            log.error("issue %s paused: %s", issue_id, reason)
            self.report.paused[issue_id] = self._pauses[issue_id] = reason
            self._halted.add(issue_id)

    # --- the ledger ---------------------------------------------------------------------------

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(_FLUSH_EVERY)
            self._flush()

    def _flush(self) -> None:
        """Write the outcomes, give rows back, renew the lease: one transaction; then trim the journal."""
        outcomes, self._outcomes = self._outcomes, []
        returned, self._returned = self._returned, []
        for outcome in outcomes:
            self._held.pop(outcome.row.id, None)
        renewing = _elapsed()
        recorded, owned = self.store.write(outcomes, returned=returned, held=dict(self._held))
        self._confirmed_at = renewing
        self._forget_lost(set(self._held) - owned, late=len(recorded.lost))
        for outcome in recorded.written:
            status = str(outcome.decision.status)
            self.report.outcomes[status] += 1
            self.report.by_issue.setdefault(outcome.row.issue_id, Counter())[status] += 1
        self._check_issues()
        self.journal.clear(keep=dict(self._in_flight))
        self._report_progress()

    def _forget_lost(self, lost: set[int], *, late: int) -> None:
        """Rows taken over by another worker, or cancelled (an opt-out, a cancelled issue): never sent."""
        if lost or late:
            log.warning(
                "worker %s no longer holds %d rows (taken over or cancelled): it will not send them%s",
                self.store.name,
                len(lost),
                f"; {late} replies came too late to record" if late else "",
            )
        for row_id in lost:
            del self._held[row_id]
        self.report.lost += len(lost) + late

    def _check_issues(self) -> None:
        """Pause issues with too many errors in a row; follow what staff paused, resumed or cancelled."""
        if self._pauses:
            self.store.pause(self._pauses)
            self._pauses = {}
        stopped = self.store.not_sending(self._issues)
        for resumed in self._halted - stopped:
            self._errors_in_a_row[resumed] = 0
        self._halted = stopped

    def _settle_finished(self) -> None:
        for issue_id in self.store.settle_finished(self._issues):
            self._issues.discard(issue_id)
            self.composer.forget(issue_id)  # a long-running worker keeps no renditions of finished sends

    def _report_progress(self) -> None:
        """Counting a million-row ledger takes a while: at most every _PROGRESS_EVERY seconds."""
        if self.on_progress is None or self.issue_id is None:
            return
        now = time.monotonic()
        if now - self._progress_at < _PROGRESS_EVERY:
            return
        self._progress_at = now
        self.on_progress(self.store.counts(self.issue_id))
