"""The scheduler's alert job: poll the feed every OUTREACH_ALERTS_POLL minutes, each run in `job_runs`.

A failed poll backs the job off: after N errors in a row the next poll waits OUTREACH_ALERTS_POLL x 2**N, at
most an hour, and the first good poll resets it. The back-off is read from the job's own history in
`job_runs`, so it survives a restart and a test drives it with a fixed clock; a run that the back-off skips is
no poll and is not recorded. In auto mode the alert issues that dispatch started are delivered through the
runtime's send, as a scheduled issue is. OUTREACH_ALERTS=off still polls: the entries are recorded.
"""

from __future__ import annotations

__all__ = ["ALERT_POLL_JOB", "alert_poll_job", "backoff_until", "ensure_alert_poll", "poll_alerts"]

from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from outreach.alerts.errors import FeedError
from outreach.alerts.poll import poll
from outreach.alerts.settings import AlertMode, AlertSettings, load_alert_settings
from outreach.calendar import JST, format_jst
from outreach.config import load_settings
from outreach.db import Database
from outreach.jobs import SCHEDULER, JobRuntime, Outcome, RunResult, current_runtime, recorded
from outreach.models import JobRun

ALERT_POLL_JOB = "alerts-poll"
ALERT_POLL_NAME = "poll the ministry's overseas-safety feed (海外安全情報)"
MAX_BACKOFF = timedelta(hours=1)
_HISTORY = 12  # enough runs to reach the longest back-off


def _settings(runtime: JobRuntime) -> AlertSettings:
    return runtime.alerts if runtime.alerts is not None else load_alert_settings()


def ensure_alert_poll(scheduler: Any, alerts: AlertSettings) -> None:
    """Add the polling job, or change its interval; a job already as wanted keeps its next run time."""
    job = scheduler.get_job(ALERT_POLL_JOB)
    if job is not None and getattr(job.trigger, "interval", None) == alerts.poll:
        return
    scheduler.add_job(
        alert_poll_job,
        IntervalTrigger(seconds=int(alerts.poll.total_seconds()), timezone=JST),
        id=ALERT_POLL_JOB,
        name=ALERT_POLL_NAME,
        replace_existing=True,
    )


async def alert_poll_job() -> None:
    """Job store entry point of `alerts-poll`."""
    await poll_alerts(current_runtime())


def _errors_in_a_row(db: Database) -> tuple[int, datetime | None]:
    """How many of the job's last runs failed in a row, and when the last of them started."""
    with db.session() as session:
        runs = session.scalars(
            select(JobRun)
            .where(JobRun.job_id == ALERT_POLL_JOB, JobRun.result != RunResult.RUNNING)
            .order_by(JobRun.id.desc())
            .limit(_HISTORY)
        ).all()
        errors = 0
        for run in runs:
            if run.result != RunResult.ERROR:
                break
            errors += 1
        return errors, runs[0].started_at if errors else None


def _delay(interval: timedelta, errors: int) -> timedelta:
    doubled: timedelta = interval * 2**errors
    return min(doubled, MAX_BACKOFF)


def backoff_until(db: Database, interval: timedelta) -> datetime | None:
    """When the next poll may run after the errors in a row that ended the job's history; None: now.

    Half an interval is given back, so a run that the trigger fires a moment early is not skipped."""
    errors, last = _errors_in_a_row(db)
    if last is None:
        return None
    return last + _delay(interval, errors) - interval / 2


async def poll_alerts(runtime: JobRuntime, alerts: AlertSettings | None = None) -> Outcome | None:
    """Poll once, unless backing off (then None: no run is recorded); in auto mode, deliver what started."""
    settings = alerts or _settings(runtime)
    now = runtime.clock()
    wait = backoff_until(runtime.db, settings.poll)
    if wait is not None and now < wait:
        return None
    return await recorded(
        runtime, ALERT_POLL_JOB, ALERT_POLL_NAME, None, lambda: _poll_and_send(runtime, settings, now)
    )


async def _poll_and_send(runtime: JobRuntime, alerts: AlertSettings, now: datetime) -> Outcome:
    site = runtime.site or load_settings()
    try:
        report = await poll(runtime.db, site, alerts, now=now, actor=SCHEDULER)
    except FeedError as error:
        errors, _ = _errors_in_a_row(runtime.db)
        retry = format_jst(now + _delay(alerts.poll, errors + 1))
        return Outcome(RunResult.ERROR, f"{error}; {errors + 1} error(s) in a row: next poll at {retry}")
    parts = [f"{report.url}: {report.describe()}", report.dispatched.summary()]
    if alerts.mode is AlertMode.AUTO:
        parts += [await runtime.send(number) for number in report.dispatched.started]
    return Outcome(RunResult.OK, "; ".join(parts))
