"""A worker's store: the ledger (through the outbox) and the issues' states (through their lifecycle), as the
few calls a worker makes, each in a transaction of its own (listmonk's store, see STYLE.md)."""

from __future__ import annotations

__all__ = ["Store"]

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach import outbox, states
from outreach.db import Database
from outreach.models import DeliveryStatus, Issue, IssueStatus
from outreach.outbox import Claimed, Outcome, Recorded


class Store:
    """The ledger as one worker (`name`) sees it."""

    def __init__(self, db: Database, name: str, *, clock: Callable[[], datetime], bounce_limit: int) -> None:
        self.db = db
        self.name = name
        self.clock = clock
        self.bounce_limit = bounce_limit

    def claim(self, *, limit: int, issue_id: int | None) -> list[Claimed]:
        with self.db.session() as session:
            return outbox.claim_rows(
                session, worker=self.name, limit=limit, now=self.clock(), issue_id=issue_id
            )

    def write(
        self, outcomes: list[Outcome], *, returned: list[int], held: dict[int, str]
    ) -> tuple[Recorded, set[int]]:
        """Renew the lease on `held` and on the rows of `outcomes`, record the outcomes of the rows still
        ours, give back `returned` rows: one transaction. Return what we still hold and may send."""
        now = self.clock()
        with self.db.session() as session:
            recorded, current = self._record(session, outcomes, held=held, now=now)
            if returned:
                outbox.release_rows(session, worker=self.name, ids=returned)
        sendable = {row_id for row_id in held if current.get(row_id) == DeliveryStatus.SENDING}
        return recorded, sendable

    def _record(
        self, session: Session, outcomes: list[Outcome], *, held: dict[int, str], now: datetime
    ) -> tuple[Recorded, dict[int, DeliveryStatus]]:
        ours = {**held, **{outcome.row.id: outcome.row.token for outcome in outcomes}}
        current = outbox.renew_claims(session, ours, now=now) if ours else {}
        recorded = outbox.record_outcomes(
            session, outcomes, current=current, bounce_limit=self.bounce_limit, now=now
        )
        return recorded, current

    def release_all(self) -> None:
        with self.db.session() as session:
            outbox.release_rows(session, worker=self.name)

    def stale(self, *, lease: timedelta) -> dict[str, list[int]]:
        """Take over rows of workers that stopped renewing their lease: {their name: row ids}."""
        now = self.clock()
        with self.db.session() as session:
            return outbox.stale_claims(session, before=now - lease, taker=self.name, now=now)

    def held_by(self, ids: list[int], owner: str) -> dict[int, Claimed]:
        with self.db.session() as session:
            return outbox.held_rows(session, ids, owner=owner)

    def settle(
        self, outcomes: list[Outcome], *, unknown: list[int], untried: list[int], why: str, resend: bool
    ) -> Recorded:
        """What a journal told about rows we now hold: replies, messages in flight, rows never tried."""
        now = self.clock()
        with self.db.session() as session:
            recorded, _ = self._record(session, outcomes, held={}, now=now)
            outbox.mark_unknown(session, unknown, why=why, resend=resend, now=now)
            if untried:
                outbox.release_rows(session, worker=self.name, ids=untried)
        return recorded

    def pause(self, pauses: dict[int, str]) -> None:
        with self.db.session() as session:
            for issue_id, reason in pauses.items():
                states.pause_failing(session, issue_id, reason=reason)

    def not_sending(self, issue_ids: set[int]) -> set[int]:
        """Which of these issues staff paused or cancelled (or that paused themselves)."""
        if not issue_ids:
            return set()
        with self.db.session() as session:
            return set(
                session.scalars(
                    select(Issue.id).where(Issue.id.in_(issue_ids), Issue.status != IssueStatus.SENDING)
                )
            )

    def settle_finished(self, issue_ids: set[int]) -> set[int]:
        """Mark sends with nothing left to try as done; return which of `issue_ids` are over."""
        with self.db.session() as session:
            states.settle_finished(session, now=self.clock())
            if not issue_ids:
                return set()
            over = (IssueStatus.SENT, IssueStatus.CANCELLED)
            return set(
                session.scalars(select(Issue.id).where(Issue.id.in_(issue_ids), Issue.status.in_(over)))
            )

    def due(self, issue_id: int | None) -> bool:
        with self.db.session() as session:
            return outbox.has_due_rows(session, now=self.clock(), issue_id=issue_id)

    def counts(self, issue_id: int) -> Counter[str]:
        with self.db.session() as session:
            return outbox.status_counts(session, issue_id)
