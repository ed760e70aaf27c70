"""After a crash or a stall: a worker's name and journal, and settling the rows a stopped worker held.

What the stopped worker's journal says decides each row: a reply recorded there is written to the ledger; a
message handed over with no reply is in flight, its fate unknown (queued again, or held for staff under
OUTREACH_UNKNOWN_POLICY=hold); a row it never started goes back to the queue. A worker on another host has
its journal there: without it, every row it held counts as in flight.
"""

from __future__ import annotations

__all__ = ["WorkerBusy", "settle_from_journal", "take_name"]

import socket
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from outreach.errors import InvalidInput
from outreach.journal import Journal, JournalEntry, read_journal
from outreach.mailer import SmtpReply
from outreach.outbox import Claimed, Outcome
from outreach.policy import RetryPolicy
from outreach.store import Store

SQLITE_WORKER = "sqlite-worker"


class WorkerBusy(InvalidInput):
    """Another worker holds the only worker slot (SQLite)."""


def _candidates() -> list[str]:
    host = socket.gethostname().split(".")[0] or "worker"
    return [host, *[f"{host}-{index}" for index in range(2, 100)]]


def take_name(folder: Path, *, sqlite: bool, name: str | None) -> tuple[str, Journal]:
    """A name no other process on this host uses now; its journal is locked while we run.

    On SQLite every worker shares one name, so a second worker is refused: SQLite has one writer.
    """
    if sqlite:
        journal = Journal(folder / f"{SQLITE_WORKER}.journal")
        if not journal.lock():
            journal.close()
            raise WorkerBusy(
                "another worker is sending on this SQLite database, and SQLite runs one worker at a "
                "time; it will deliver this issue too (use PostgreSQL to run several workers)"
            ) from None
        return SQLITE_WORKER, journal
    for candidate in [name] if name else _candidates():
        journal = Journal(folder / f"{candidate}.journal")
        if journal.lock():
            return candidate, journal
        journal.close()
    raise InvalidInput(f"the worker name {name!r} is in use by another process on this host")


def journal_of(folder: Path, owner: str) -> dict[int, JournalEntry] | None:
    """The journal of a worker by name, if it ran on this host (None: it did not, or kept none)."""
    path = folder / f"{owner}.journal"
    return read_journal(path) if path.exists() else None


def settle_from_journal(
    store: Store,
    rows: dict[int, Claimed],
    entries: dict[int, JournalEntry] | None,
    *,
    policy: RetryPolicy,
    resend: bool,
    why: str,
    clock: Callable[[], datetime],
) -> int:
    """Settle `rows` (now ours) by what `entries` say; return how many had an unknown fate."""
    if entries is None:  # no journal here: any of them may have been in flight
        unknown, untried, replied = list(rows), [], []
    else:
        replied = [entries[i] for i in rows if i in entries and entries[i].code is not None]
        unknown = [i for i in rows if i in entries and entries[i].code is None]
        untried = [i for i in rows if i not in entries]
    now = clock()
    outcomes = []
    for entry in replied:
        row = rows[entry.delivery_id]
        reply = SmtpReply(entry.code or 0, entry.reply, entry.stage)
        decision = policy.decide(reply, attempts=row.attempts + 1, queued_at=row.created_at, now=now)
        outcomes.append(Outcome(row, decision, reply, entry.message_id, now, (reply,)))
    store.settle(outcomes, unknown=unknown, untried=untried, why=why, resend=resend)
    return len(unknown)
