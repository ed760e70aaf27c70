"""The sending side of an entry's life: composed into an alert issue, carried by a regular issue, or recorded.

    waiting ──compose_alert_issue──▶ issued      (action `now`: one alert issue for all those waiting)
    waiting ──mark_digested────────▶ digested    (action `digest`: when the regular issue carrying it starts)
    waiting ──record───────────────▶ recorded    (nobody's places match, or OUTREACH_ALERTS=off)
    issued  ──drop_alert_draft─────▶ recorded    (staff deleted the draft alert issue carrying it)

The intake (outreach.alerts.intake) writes each entry once, waiting or recorded; this module moves it after.
"""

from __future__ import annotations

__all__ = ["compose_alert_issue", "drop_alert_draft", "mark_digested", "record", "waiting_now"]

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from outreach.alerts.audience import alert_ids
from outreach.alerts.models import AlertAction, AlertState, SafetyAlert
from outreach.alerts.render import subjects
from outreach.calendar import JST
from outreach.issues import next_alert_number
from outreach.models import Issue, IssueItem, IssueKind


def waiting_now(session: Session) -> list[SafetyAlert]:
    """The entries to send at once that no alert issue carries yet, oldest first; locked on PostgreSQL, so
    that two polls finishing together compose them once (the second skips what the first holds)."""
    return list(
        session.scalars(
            select(SafetyAlert)
            .where(SafetyAlert.action == AlertAction.NOW, SafetyAlert.state == AlertState.WAITING)
            .order_by(SafetyAlert.published_at, SafetyAlert.id)
            .with_for_update(skip_locked=True)
        )
    )


def compose_alert_issue(session: Session, entries: Sequence[SafetyAlert], *, now: datetime) -> Issue:
    """One draft alert issue carrying the entries, in their order; they become `issued`. Its subjects name
    all of them; each reader's copy names theirs (outreach.alerts.render)."""
    subject_ja, subject_en = subjects(entries)
    issue = Issue(
        number=next_alert_number(session),
        kind=IssueKind.ALERT,
        issue_date=now.astimezone(JST).date(),
        subject_ja=subject_ja,
        subject_en=subject_en,
        charset="utf-8",  # the feed's words are the ministry's: ISO-2022-JP readers get them substituted
        items=[IssueItem(alert_id=entry.id, position=10 * n) for n, entry in enumerate(entries, start=1)],
    )
    session.add(issue)
    for entry in entries:
        entry.state = AlertState.ISSUED
    session.flush()
    return issue


def record(session: Session, entries: Sequence[SafetyAlert], note: str) -> int:
    """Entries sent to nobody, with the reason; how many."""
    for entry in entries:
        entry.state = AlertState.RECORDED
        entry.note = note
    return len(entries)


def mark_digested(session: Session, issue: Issue) -> int:
    """A regular issue's send started: the waiting entries it carries are `digested` (a draft deleted before
    leaves them waiting for the next issue). How many; none for an alert issue."""
    if issue.kind == IssueKind.ALERT or not (ids := alert_ids(issue)):
        return 0
    moved = session.execute(
        update(SafetyAlert)
        .where(SafetyAlert.id.in_(ids), SafetyAlert.state == AlertState.WAITING)
        .values(state=AlertState.DIGESTED)
        .execution_options(synchronize_session=False)
    )
    return int(moved.rowcount)  # type: ignore[attr-defined]


def drop_alert_draft(session: Session, issue: Issue) -> int:
    """Staff delete a draft alert issue: its entries are recorded, not composed again by the next poll."""
    entries = session.scalars(select(SafetyAlert).where(SafetyAlert.id.in_(alert_ids(issue)))).all()
    return record(session, entries, f"its draft alert issue No. {issue.number} was deleted by staff")
