"""The life of an issue: a table of legal moves, one function per move; the only module that sets its status.

    draft ──schedule──▶ scheduled ──start──▶ sending ──finish──▶ sent
      ▲  ◀─unschedule, miss─┘   draft ─start─▶ │ ▲ ◀──reopen── sent
      │                                   pause│ │resume
      │                                        ▼ │
      └────────────── cancel ◀──────────────  paused  (cancel from draft, scheduled, sending or paused)

A move that the table does not allow is an IllegalMove, with the issue's number and state in its message.
Workers move many issues at once with the set-based moves at the end (`pause_failing`, `settle_finished`):
conditional updates that only ever take an issue along a legal edge.
"""

from __future__ import annotations

__all__ = [
    "MOVES",
    "IllegalMove",
    "cancel",
    "finish",
    "miss",
    "pause",
    "pause_failing",
    "reopen",
    "resume",
    "schedule",
    "settle_finished",
    "start",
    "unschedule",
]

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from outreach.errors import InvalidInput
from outreach.models import Delivery, DeliveryStatus, Issue, IssueStatus

_D, _SC, _SE, _P, _ST, _C = (
    IssueStatus.DRAFT,
    IssueStatus.SCHEDULED,
    IssueStatus.SENDING,
    IssueStatus.PAUSED,
    IssueStatus.SENT,
    IssueStatus.CANCELLED,
)

# move: (the states it may start from, the state it leads to, what the refusal calls it)
MOVES: dict[str, tuple[frozenset[IssueStatus], IssueStatus, str]] = {
    "schedule": (frozenset({_D, _SC}), _SC, "scheduled"),
    "unschedule": (frozenset({_SC}), _D, "unscheduled"),
    "miss": (frozenset({_SC}), _D, "marked missed"),
    "start": (frozenset({_D, _SC}), _SE, "sent"),
    "pause": (frozenset({_SE}), _P, "paused"),
    "resume": (frozenset({_P}), _SE, "resumed"),
    "finish": (frozenset({_SE}), _ST, "finished"),
    "reopen": (frozenset({_SE, _P, _ST}), _SE, "retried"),
    "cancel": (frozenset({_D, _SC, _SE, _P}), _C, "cancelled"),
}
_OPEN = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.DEFERRED)


class IllegalMove(InvalidInput):
    """The issue's state does not allow that move (e.g. pausing a draft, sending a cancelled issue)."""


def _move(issue: Issue, move: str) -> None:
    allowed, target, verb = MOVES[move]
    if issue.status not in allowed:
        raise IllegalMove(f"issue No. {issue.number} is {issue.status}: it cannot be {verb}")
    issue.status = target


def schedule(issue: Issue, *, at: datetime) -> None:
    """Plan the send for `at` (a scheduled issue is planned again)."""
    _move(issue, "schedule")
    issue.scheduled_at = at


def unschedule(issue: Issue) -> None:
    _move(issue, "unschedule")
    issue.scheduled_at = None


def miss(issue: Issue) -> None:
    """Its time passed beyond the grace while no scheduler ran: a draft again, sent when staff say so."""
    _move(issue, "miss")
    issue.scheduled_at = None


def start(issue: Issue, *, now: datetime) -> None:
    """The send begins (its ledger rows are written by the outbox in the same transaction)."""
    _move(issue, "start")
    issue.send_started_at = now
    issue.scheduled_at = None
    issue.pause_reason = None


def pause(issue: Issue, *, reason: str) -> None:
    _move(issue, "pause")
    issue.pause_reason = reason


def resume(issue: Issue) -> None:
    _move(issue, "resume")
    issue.pause_reason = None


def finish(issue: Issue, *, now: datetime) -> None:
    _move(issue, "finish")
    issue.sent_at = now


def reopen(issue: Issue) -> None:
    """Rows were queued again (a retry, or held rows to resend): the issue is being sent once more."""
    _move(issue, "reopen")
    issue.pause_reason = None


def cancel(issue: Issue) -> None:
    _move(issue, "cancel")
    issue.scheduled_at = None


# --- set-based moves, for workers ----------------------------------------------------------------------


def pause_failing(session: Session, issue_id: int, *, reason: str) -> bool:
    """sending -> paused for an issue a worker found failing; False if it was no longer being sent."""
    result = session.execute(
        update(Issue)
        .where(Issue.id == issue_id, Issue.status == _SE)
        .values(status=_P, pause_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def settle_finished(session: Session, *, now: datetime) -> None:
    """Issues being sent with no row left to try: sent, or paused while messages of unknown fate wait for
    staff to decide (`outreach issue decide`)."""
    still_open = select(Delivery.id).where(Delivery.issue_id == Issue.id, Delivery.status.in_(_OPEN))
    held = select(Delivery.id).where(Delivery.issue_id == Issue.id, Delivery.status == DeliveryStatus.UNKNOWN)
    waiting = session.scalars(
        select(Issue).where(Issue.status == _SE, ~still_open.exists(), held.exists())
    ).all()
    for issue in waiting:
        count = session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.issue_id == issue.id, Delivery.status == DeliveryStatus.UNKNOWN)
        )
        pause(issue, reason=_held_reason(issue.number, int(count or 0)))
    session.execute(
        update(Issue)
        .where(Issue.status == _SE, ~still_open.exists(), ~held.exists())
        .values(status=_ST, sent_at=now)
        .execution_options(synchronize_session=False)
    )


def _held_reason(number: int, count: int) -> str:
    return (
        f"{count} recipients' messages may or may not have gone out (a worker stopped with them in "
        f"flight); decide with `outreach issue decide {number} --resend` or `--drop`"
    )
