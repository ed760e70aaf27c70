"""One poll of the feed: fetch, parse, store, then hand the waiting entries to dispatch.

The CLI (`outreach alerts poll`), the scheduler's job and the console's "poll now" all call `poll`. Every poll
is recorded in `alert_polls`, a failed one too: its error is recorded first and raised after, with nothing
else changed, so the next poll starts from where the last good one left off (its validators).
"""

from __future__ import annotations

__all__ = ["PollReport", "poll"]

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from outreach.alerts import intake
from outreach.alerts.dispatch import Dispatched, dispatch
from outreach.alerts.errors import FeedError
from outreach.alerts.fetch import Fetched, Validators, fetch_feed
from outreach.alerts.models import AlertPoll
from outreach.alerts.parse import Feed, parse_feed
from outreach.alerts.settings import AlertSettings
from outreach.config import Settings
from outreach.db import Database

ACTIONS = ("now", "digest", "record")


@dataclass
class PollReport:
    """What a poll found and did."""

    poll_id: int
    url: str
    result: str  # ok, unchanged
    http_status: int | None
    entries: int = 0
    new: int = 0
    skipped: int = 0
    actions: dict[str, int] = field(default_factory=dict)  # of the new entries
    recorded: int = 0  # of the new entries, those kept only (the rules, OUTREACH_ALERTS=off, too old)
    dispatched: Dispatched = field(default_factory=Dispatched)

    def describe(self) -> str:
        """One line: `12 entries, 3 new (now 1, digest 1, record 1)`, or that the file had not changed."""
        if self.result == "unchanged":
            return "unchanged since the last poll (HTTP 304)"
        counts = ", ".join(
            f"{action} {self.actions[action]}" for action in ACTIONS if self.actions.get(action)
        )
        line = f"{self.entries} entries, {self.new} new" + (f" ({counts})" if counts else "")
        if self.recorded:
            line += f", {self.recorded} recorded only"
        if self.skipped:
            line += f"; {self.skipped} without a key skipped"
        return line


async def poll(
    db: Database,
    site: Settings,
    alerts: AlertSettings,
    *,
    feed: str | None = None,
    now: datetime,
    actor: str,
    transport: httpx.AsyncBaseTransport | None = None,
) -> PollReport:
    """Poll `feed` (default OUTREACH_ALERTS_FEED), store what is new, dispatch; FeedError once recorded."""
    url = (feed or alerts.feed).strip()
    started = time.monotonic()
    with db.session() as session:
        validators = intake.last_validators(session, url)
        poll_id = intake.open_poll(session, url, now=now).id

    def finished() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    try:
        fetched = await fetch_feed(
            url,
            validators=validators,
            timeout=alerts.timeout,
            max_bytes=alerts.max_bytes,
            transport=transport,
        )
    except FeedError as error:
        _record_failure(db, poll_id, error.message, status=error.status, at=finished())
        raise
    try:
        parsed = parse_feed(fetched.body, source=url) if fetched.body is not None else None
    except FeedError as error:
        _record_failure(db, poll_id, error.message, status=fetched.status, at=finished())
        raise
    try:
        report = _store(db, poll_id, url, fetched, parsed, alerts, now=now, at=finished())
    except BaseException as error:  # recorded where staff look, then raised as it came
        _record_failure(
            db, poll_id, f"not stored: {type(error).__name__}: {error}", status=None, at=finished()
        )
        raise
    report.dispatched = dispatch(db, site, alerts, now=now, actor=actor)
    return report


def _store(
    db: Database,
    poll_id: int,
    url: str,
    fetched: Fetched,
    parsed: Feed | None,
    alerts: AlertSettings,
    *,
    now: datetime,
    at: datetime,
) -> PollReport:
    """Store the entries and close the poll in one transaction: a poll is recorded ok with all it stored."""
    with db.session() as session:
        record = session.get_one(AlertPoll, poll_id)
        if parsed is None:
            report = PollReport(poll_id, url, "unchanged", fetched.status)
            intake.close_poll(
                record,
                result="unchanged",
                finished_at=at,
                status=fetched.status,
                validators=fetched.validators,
                detail=report.describe(),
            )
            return report
        stored = intake.store_entries(session, parsed, alerts=alerts, now=now, feed_url=url)
        report = PollReport(
            poll_id,
            url,
            "ok",
            fetched.status,
            entries=stored.entries,
            new=stored.new,
            skipped=stored.skipped,
            actions=dict(stored.actions),
            recorded=stored.states.get("recorded", 0),
        )
        intake.close_poll(
            record,
            result="ok",
            finished_at=at,
            status=fetched.status,
            validators=fetched.validators,
            entries=stored.entries,
            new=stored.new,
            detail=report.describe(),
        )
        return report


def _record_failure(db: Database, poll_id: int, detail: str, *, status: int | None, at: datetime) -> None:
    with db.session() as session:
        record = session.get_one(AlertPoll, poll_id)
        intake.close_poll(
            record, result="error", finished_at=at, status=status, validators=Validators(), detail=detail
        )
