"""Scheduling commands: `issue schedule`, `schedule`, `meeting publish`, and the `scheduler` service."""

from __future__ import annotations

__all__ = [
    "delivery_loop",
    "issue_schedule",
    "meeting_publish",
    "schedule",
    "scheduler_command",
    "scheduler_state",
    "send_with",
]

import asyncio
import contextlib
import logging
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from sqlalchemy import select

from outreach import content, issues
from outreach.alerts.settings import load_alert_settings
from outreach.calendar import JST, format_jst, holiday_name
from outreach.cli.approval import acting
from outreach.cli.common import App, describe_destination, pass_app, reports_errors
from outreach.cli.content import meeting_record
from outreach.cli.issues import send_issue
from outreach.composer import senders
from outreach.db import Database
from outreach.errors import InvalidInput, RelayUnavailable
from outreach.jobs import SCHEDULER, JobRuntime, SendIssue
from outreach.leader import live_leader
from outreach.models import JobRun, utcnow
from outreach.planner import JobBook, cancel_job, schedule_issue
from outreach.render import Renderer
from outreach.schedule_settings import load_scheduler_settings
from outreach.scheduler import DeliveryLoop, SchedulerService
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases import approval
from outreach.usecases.publish import Published, publish_meeting
from outreach.usecases.sends import SendRun, make_worker, start_for_workers
from subscribers.links import SignedLinks


def _describe_run(run: SendRun, destination: str) -> str:
    if run.already_sent:
        return f"issue No. {run.issue_number} was already sent"
    tried = ", ".join(f"{count} {state}" for state, count in sorted(run.outcomes.items())) or "nothing due"
    return f"issue No. {run.issue_number} to {destination}: {run.enqueued} queued; this run: {tried}"


def send_with(app: App, *, resident_worker: bool = False) -> SendIssue:
    """The scheduler's send: what `outreach issue send N` does, run on a thread of its own; beside a resident
    worker (`scheduler --with-worker`), only the start of the send, which that worker then delivers. Either
    refuses an issue that is not approved as OUTREACH_APPROVAL wants (NotApproved), and is audited as
    `scheduler`."""

    async def send(issue_number: int) -> str:
        by = acting(SCHEDULER)
        if resident_worker:
            with app.migrated_db().session() as session:
                state, added = start_for_workers(session, issue_number, now=utcnow(), by=by)
            return f"issue No. {issue_number} is {state}: {added} recipients queued for the resident worker"
        run = await asyncio.to_thread(lambda: send_issue(app, issue_number, by=by))
        return _describe_run(run, describe_destination(app.settings))

    return send


# As `outreach worker` does: a relay that cannot be reached is tried again after this many seconds.
RELAY_BACKOFF = 30.0


def delivery_loop(app: App) -> DeliveryLoop:
    """What `outreach worker` does, beside the scheduler: deliver every issue being sent until stopped."""

    async def deliver(stop: asyncio.Event) -> None:
        worker = make_worker(app.migrated_db(), app.settings, links=SignedLinks(app.settings))
        log = logging.getLogger("outreach.worker")
        log.info("delivering as worker %s", worker.name)
        try:
            while not stop.is_set():
                try:
                    await worker.run(until_idle=False, stop=stop)
                except RelayUnavailable as error:
                    log.error("%s; trying again in %.0f s", error, RELAY_BACKOFF)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), RELAY_BACKOFF)
        finally:
            worker.close()

    return deliver


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}: use a name such as Asia/Tokyo or UTC") from None


def _moment(text: str, zone_name: str) -> datetime:
    """`2026-12-01 10:00` in `zone_name` (or with its own offset, `2026-12-01T10:00+09:00`)."""
    zone = _zone(zone_name)
    cleaned = text.strip()
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        moment = None
    if moment is None or len(cleaned) <= len("2026-12-01"):
        raise InvalidInput(f"cannot read {text!r} as a date and time: write it as 2026-12-01 10:00")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def scheduler_state(db: Database) -> str:
    """Whether a scheduler runs to send what is planned: nothing goes out without one."""
    leader = live_leader(db)
    if leader is None:
        return "no scheduler is running: start `outreach scheduler`, or nothing will be sent"
    seen = f", last seen {_ago(leader.last_seen)}" if leader.last_seen is not None else ""
    return f"the scheduler is running ({leader.where}{seen}): it sends the issue then"


def _ago(elapsed: timedelta) -> str:
    seconds = max(int(elapsed.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def _day_note(moment: datetime) -> str:
    reason = holiday_name(moment.astimezone(JST).date())
    return f"\n  note: that day is {reason}, not a business day in Japan" if reason else ""


# --- outreach issue schedule ------------------------------------------------------------------------


@click.command("schedule", short_help="Send an issue at a set time, or move that time.")
@click.argument("number", type=int)
@click.option("--at", "at_text", required=True, help='When to send: "2026-12-01 10:00".')
@click.option("--tz", "zone", default="Asia/Tokyo", show_default=True, help="The time zone of --at.")
@pass_app
@reports_errors
def issue_schedule(app: App, number: int, at_text: str, zone: str) -> None:
    """Send issue NUMBER at a set time; scheduling it again moves it. It must be approved first."""
    at = _moment(at_text, zone)
    planned = schedule_issue(app.migrated_db(), number, at, now=utcnow(), by=acting())
    click.echo(f"issue No. {number} goes out {format_jst(at)} (job {planned.id}){_day_note(at)}")
    click.echo(f"  {scheduler_state(app.db)}")
    click.echo("  `outreach schedule list` shows what is planned")


# --- outreach schedule ------------------------------------------------------------------------------


@click.group(short_help="List, cancel and look back on the scheduler's jobs.")
def schedule() -> None:
    """List the scheduler's planned jobs, cancel one, or look back on what it did."""


@schedule.command("list")
@pass_app
@reports_errors
def schedule_list(app: App) -> None:
    """List the planned jobs and their next run times (JST)."""
    with JobBook(app.migrated_db()) as book:
        jobs = book.jobs()
    if not jobs:
        click.echo("nothing planned; the recurring issues appear once `outreach scheduler` has started")
        return
    click.echo(f"{'job':<15} {'next run':<21} what")
    for job in jobs:
        when = format_jst(job.next_run) if job.next_run else "paused"
        click.echo(f"{job.id:<15} {when:<21} {job.name} ({job.trigger})")


@schedule.command("cancel", short_help="Cancel a planned send; the issue is a draft again.")
@click.argument("job_id", metavar="JOB_ID")
@pass_app
@reports_errors
def schedule_cancel(app: App, job_id: str) -> None:
    """Cancel a planned send, named issue:N (the issue becomes a draft again)."""
    click.echo(cancel_job(app.migrated_db(), job_id.strip()))


@schedule.command("history", short_help="Show the latest runs of the jobs, newest first.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--job", "job_id", help="Only the runs of this job (e.g. issue:5, regular-issue).")
@pass_app
@reports_errors
def schedule_history(app: App, limit: int, job_id: str | None) -> None:
    """Show the latest job runs, newest first: start, end, result (ok, skipped, missed, error) and why."""
    query = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job_id:
        query = query.where(JobRun.job_id == job_id)
    with app.migrated_db().session() as session:
        runs = list(session.scalars(query))
    if not runs:
        click.echo("no job has run yet")
        return
    for run in runs:
        ended = format_jst(run.finished_at)[11:] if run.finished_at else "-"
        due = f" (due {format_jst(run.scheduled_for)})" if run.scheduled_for else ""
        click.echo(f"{format_jst(run.started_at)} to {ended:<9} {run.job_id:<15} {run.result:<8}{due}")
        if run.detail:
            click.echo(f"    {run.detail}")


# --- outreach meeting publish -----------------------------------------------------------------------


def _print_published(published: Published, scheduler: str, policy: ApprovalPolicy) -> None:
    number, at = published.issue_number, published.send_at
    click.echo(f"recorded {published.meeting} held on {published.held_on}")
    click.echo(f"composed issue No. {number}: {published.subject_ja}")
    click.echo("previews:")
    for preview in published.previews:
        click.echo(f"  {preview.path}")
    planned_for = " (the next business morning)" if published.next_business_morning else ""
    click.echo(f"planned: issue No. {number} goes out {format_jst(at)}{planned_for}{_day_note(at)}")
    click.echo(f"  {scheduler}")
    if policy is not ApprovalPolicy.NONE:
        click.echo(
            f"  it goes out only once approved: `outreach issue approve {number} --as EMAIL` (an approver)"
        )
    click.echo(
        f"  change it with `outreach issue schedule {number} --at …`, stop it with "
        f"`outreach schedule cancel {published.job_id}`"
    )


@click.command("publish", short_help="Record a meeting, then compose, preview and plan its issue.")
@click.argument("key", metavar="KIND:NUMBER")
@click.option(
    "--summary", type=click.Path(path_type=Path, dir_okay=False), required=True, help="Markdown, ja."
)
@click.option("--summary-en", type=click.Path(path_type=Path, dir_okay=False), help="Markdown file, English.")
@click.option("--date", "held_on", type=click.DateTime(["%Y-%m-%d"]), help="The day it was held (today).")
@click.option(
    "--format", "format_", type=click.Choice(list(content.MEETING_FORMATS)), help="How it was held."
)
@click.option("--opened-by", default="", help="Who opened it (Japanese).")
@click.option("--opened-by-en", default="", help="Who opened it (English).")
@click.option("--link", "links", multiple=True, help="'title|https://…' or a bare URL; repeatable.")
@click.option("--send-at", "send_at", help="When to send (default: the next business morning, 10:00 JST).")
@click.option("--tz", "zone", default="Asia/Tokyo", show_default=True, help="The time zone of --send-at.")
@click.option("--charset", type=click.Choice(issues.CHARSETS), default="utf-8", show_default=True)
@pass_app
@reports_errors
def meeting_publish(
    app: App,
    key: str,
    summary: Path,
    summary_en: Path | None,
    held_on: Any,
    format_: str | None,
    opened_by: str,
    opened_by_en: str,
    links: tuple[str, ...],
    send_at: str | None,
    zone: str,
    charset: str,
) -> None:
    """After a meeting: record its outcome, compose the issue, write previews and schedule the send."""
    held = held_on.date() if held_on else issues.jst_today()
    record = meeting_record(key, held, format_, summary, summary_en, (opened_by, opened_by_en), links)
    published = publish_meeting(
        app.migrated_db(),
        record,
        send_at=_moment(send_at, zone) if send_at else None,
        morning=load_scheduler_settings().send_at,
        charset=charset,
        renderer=Renderer(sender=senders(app.settings)),
        base_url=app.settings.base_url,
        preview_root=app.settings.var_dir / "preview",
        now=utcnow(),
    )
    by = acting()
    with app.db.session() as session:  # the publisher composed it: under two-person, another approves it
        issue = issues.get_issue(session, published.issue_number)
        approval.note_composer(session, issue, by.actor, now=utcnow())
    _print_published(published, scheduler_state(app.db), by.policy)


# --- outreach scheduler -----------------------------------------------------------------------------


def _log_to_stdout() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("outreach", "apscheduler"):
        log = logging.getLogger(name)
        log.handlers = [handler]
        log.propagate = False
        log.setLevel(logging.INFO if name == "outreach" else logging.WARNING)


async def _serve(service: SchedulerService) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await service.run(stop)


@click.command("scheduler", short_help="Run the scheduler, which sends the planned issues on time.")
@click.option(
    "--with-worker", is_flag=True, help="Also run a delivery worker in this process (as `outreach worker`)."
)
@pass_app
@reports_errors
def scheduler_command(app: App, with_worker: bool) -> None:
    """Run the scheduler in the foreground until SIGTERM or Ctrl-C; on PostgreSQL, run several."""
    app.guard_real_mail()  # it sends issues, and its worker too
    db = app.migrated_db()
    settings = load_scheduler_settings()
    send = send_with(app, resident_worker=with_worker)
    runtime = JobRuntime(
        db=db, send=send, grace=settings.grace, site=app.settings, alerts=load_alert_settings()
    )
    worker = delivery_loop(app) if with_worker else None
    _log_to_stdout()
    logging.getLogger("outreach.scheduler").info(
        "starting: grace period %d min, poll every %gs, regular issues %s%s",
        settings.grace.total_seconds() // 60,
        settings.poll,
        "on" if settings.regular else "off",
        ", with the delivery loop" if with_worker else "",
    )
    asyncio.run(_serve(SchedulerService(db, runtime, settings=settings, worker=worker)))
