"""What the scheduler runs: scheduled sends, the regular issues and the monthly reach reports to the member
organizations, each run recorded in `job_runs`.

The job store keeps a reference to an entry point (`send_job`, `edition_job`) and its pickled arguments. The
entry points find their dependencies (database, send, clock, grace) in the runtime that the running scheduler
installed; tests call `scheduled_send` and `edition_issue` with a runtime of their own and a fixed clock.

The send refuses an issue that is not approved as OUTREACH_APPROVAL wants (the CLI's send reads it): the run
is recorded as missed with the reason, and the issue is a draft again, to be approved and sent by staff.
"""

from __future__ import annotations

__all__ = [
    "MONTHLY_REPORT_JOB",
    "Clock",
    "Edition",
    "JobRuntime",
    "Outcome",
    "RunResult",
    "SendIssue",
    "current_runtime",
    "edition_issue",
    "edition_job",
    "install_runtime",
    "monthly_report_job",
    "monthly_reports",
    "recorded",
    "regular_editions",
    "scheduled_send",
    "send_job",
    "send_job_id",
]

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from outreach import states
from outreach.alerts.settings import AlertSettings
from outreach.calendar import JST, MonthlyMorning, format_jst
from outreach.config import Settings, load_settings
from outreach.db import Database
from outreach.issues import get_issue
from outreach.members.monthly import Month, MonthlyReports
from outreach.models import Issue, IssueStatus, JobRun, utcnow
from outreach.regular import News, compose_news, whats_new
from outreach.staff import audit
from outreach.usecases.approval import NotApproved, note_composer

SCHEDULER = "scheduler"  # the audit actor of what the scheduler does on its own
MONTHLY_REPORT_JOB = "monthly-reach-report"

logger = logging.getLogger("outreach.jobs")

SendIssue = Callable[[int], Awaitable[str]]
"""Sends issue N to its subscribers and returns a one-line account of the run; the CLI supplies it."""

Clock = Callable[[], datetime]


class RunResult(enum.StrEnum):
    RUNNING = "running"
    OK = "ok"
    SKIPPED = "skipped"
    MISSED = "missed"
    ERROR = "error"


@dataclass(frozen=True)
class Outcome:
    """How a job run ended, as recorded in `job_runs`."""

    result: RunResult
    detail: str


@dataclass
class JobRuntime:
    """What the job functions need, supplied by whoever runs them: the scheduler service, or a test."""

    db: Database
    send: SendIssue
    grace: timedelta
    clock: Clock = utcnow
    in_flight: set[asyncio.Task[Any]] = field(default_factory=set)
    site: Settings | None = None  # sender and relay of the monthly reports; None: read from the environment
    alerts: AlertSettings | None = (
        None  # the alert job's settings (outreach.alerts.job); None: the environment
    )


@dataclass(frozen=True)
class Edition:
    """A recurring issue: its job id, its name for people, when it goes out, and the campaign it opens."""

    job_id: str
    title: str
    rule: MonthlyMorning
    campaign: str | None = None


SUMMER_CAMPAIGN = "summer-safety-month"
_SUMMER_MONTH = 7


def regular_editions(at: time = time(10)) -> tuple[Edition, ...]:
    """The regular issue, and in July, the month the summer safety month opens, the opening issue instead."""
    other_months = tuple(month for month in range(1, 13) if month != _SUMMER_MONTH)
    return (
        Edition("regular-issue", "the regular issue (定期号)", MonthlyMorning(other_months, at)),
        Edition(
            "summer-opener",
            "the summer safety month opening issue (夏の海外安全強化月間)",
            MonthlyMorning((_SUMMER_MONTH,), at),
            campaign=SUMMER_CAMPAIGN,
        ),
    )


def send_job_id(issue_number: int) -> str:
    return f"issue:{issue_number}"


_installed: JobRuntime | None = None


def install_runtime(runtime: JobRuntime | None) -> None:
    """Make `runtime` the one the job store's entry points use in this process (None: remove it)."""
    global _installed
    _installed = runtime


def _runtime() -> JobRuntime:
    if _installed is None:
        raise RuntimeError("no job runtime is installed: jobs run inside `outreach scheduler`")
    return _installed


async def send_job(issue_number: int, scheduled_for: datetime) -> None:
    """Job store entry point of `issue:N`."""
    await scheduled_send(_runtime(), issue_number, scheduled_for=scheduled_for)


async def edition_job(edition: Edition) -> None:
    """Job store entry point of the recurring issues."""
    await edition_issue(_runtime(), edition)


current_runtime = _runtime  # for the jobs of other modules (outreach.alerts.job)


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours < 48 else f"{hours // 24} days {hours % 24} h"


def _start_run(runtime: JobRuntime, job_id: str, name: str, scheduled_for: datetime | None) -> int:
    with runtime.db.session() as session:
        run = JobRun(
            job_id=job_id,
            job_name=name,
            scheduled_for=scheduled_for,
            started_at=runtime.clock(),
            result=RunResult.RUNNING,
        )
        session.add(run)
        session.flush()
        return run.id


def _finish_run(runtime: JobRuntime, run_id: int, outcome: Outcome) -> None:
    with runtime.db.session() as session:
        run = session.get_one(JobRun, run_id)
        run.finished_at = runtime.clock()
        run.result = outcome.result
        run.detail = outcome.detail


async def _recorded(
    runtime: JobRuntime,
    job_id: str,
    name: str,
    scheduled_for: datetime | None,
    work: Callable[[], Awaitable[Outcome]],
) -> Outcome:
    """Run `work` between a start and an end record in `job_runs`; an error is recorded, not only logged."""
    run_id = _start_run(runtime, job_id, name, scheduled_for)
    task = asyncio.current_task()
    if task is not None:
        runtime.in_flight.add(task)
    try:
        outcome = await work()
    except asyncio.CancelledError:
        _finish_run(runtime, run_id, Outcome(RunResult.ERROR, "interrupted: the scheduler stopped mid-run"))
        raise
    except Exception as error:  # recorded where staff look (`outreach schedule history`), then logged
        logger.exception("job %s failed", job_id)
        outcome = Outcome(RunResult.ERROR, f"{type(error).__name__}: {error}")
    finally:
        if task is not None:
            runtime.in_flight.discard(task)
    _finish_run(runtime, run_id, outcome)
    logger.info("job %s: %s: %s", job_id, outcome.result, outcome.detail)
    return outcome


recorded = _recorded  # public, for the jobs of other modules


async def scheduled_send(runtime: JobRuntime, issue_number: int, *, scheduled_for: datetime) -> Outcome:
    """Send a scheduled issue; a run later than the grace period after `scheduled_for` sends nothing."""
    return await _recorded(
        runtime,
        send_job_id(issue_number),
        f"send issue No. {issue_number}",
        scheduled_for,
        lambda: _send_if_due(runtime, issue_number, scheduled_for),
    )


def _not_sendable(issue: Issue) -> str | None:
    reasons = {
        IssueStatus.SENT: "was already sent",
        IssueStatus.CANCELLED: "was cancelled",
        IssueStatus.DRAFT: "is a draft again (it was unscheduled)",
        IssueStatus.PAUSED: f"is paused ({issue.pause_reason or 'no reason given'})",
    }
    reason = reasons.get(issue.status)
    return None if reason is None else f"issue No. {issue.number} {reason}: nothing sent"


async def _send_if_due(runtime: JobRuntime, issue_number: int, scheduled_for: datetime) -> Outcome:
    late = runtime.clock() - scheduled_for
    with runtime.db.session() as session:
        issue = get_issue(session, issue_number)
        reason = _not_sendable(issue)
        if reason is not None:
            return Outcome(RunResult.SKIPPED, reason)
        if issue.status == IssueStatus.SCHEDULED and late > runtime.grace:
            states.miss(issue)
            return Outcome(
                RunResult.MISSED,
                f"issue No. {issue_number} was due at {format_jst(scheduled_for)}; the scheduler came to it "
                f"{_span(late)} late, beyond the {_span(runtime.grace)} grace period. Not sent: it is a "
                f"draft again; send it with `outreach issue send {issue_number}` or schedule it again",
            )
    try:
        account = await runtime.send(issue_number)
    except NotApproved as refusal:
        return Outcome(RunResult.MISSED, _missed_unapproved(runtime, issue_number, refusal))
    lateness = f" ({_span(late)} late, within the grace period)" if late >= timedelta(minutes=1) else ""
    return Outcome(RunResult.OK, f"{account}{lateness}")


def _missed_unapproved(runtime: JobRuntime, issue_number: int, refusal: NotApproved) -> str:
    """The send refused an issue without its approval: it becomes a draft again, and the log says why."""
    why = (
        f"not sent: {refusal}. It is a draft again: once approved, send it with "
        f"`outreach issue send {issue_number}` or schedule it again"
    )
    with runtime.db.session() as session:
        issue = get_issue(session, issue_number)
        if issue.status == IssueStatus.SCHEDULED:
            states.miss(issue)
        audit.record(
            session,
            actor=SCHEDULER,
            action="issue.miss",
            target=audit.issue_target(issue_number),
            detail=why,
            now=runtime.clock(),
        )
    return why


async def edition_issue(runtime: JobRuntime, edition: Edition) -> Outcome:
    """Compose the recurring issue from what is new and send it; nothing new: skip, and say why."""
    now = runtime.clock()
    due = edition.rule.latest_at_or_before(now)
    return await _recorded(
        runtime, edition.job_id, edition.title, due, lambda: _compose_and_send(runtime, edition, due, now)
    )


def _contents(news: News) -> str:
    parts = [f"outcome of {meeting.key}" for meeting in news.meetings]
    parts += [f"new promotion {promotion.slug}" for promotion in news.promotions]
    return ", ".join(parts)


async def _compose_and_send(runtime: JobRuntime, edition: Edition, due: datetime, now: datetime) -> Outcome:
    late = now - due
    if late > runtime.grace:
        return Outcome(
            RunResult.MISSED,
            f"{edition.title} was due at {format_jst(due)}; the scheduler came to it {_span(late)} late, "
            f"beyond the {_span(runtime.grace)} grace period. Nothing was composed; the next one is due "
            f"{format_jst(edition.rule.next_after(now))}",
        )
    with runtime.db.session() as session:
        news = whats_new(session, due.astimezone(JST).date())
        if news.empty:
            return Outcome(RunResult.SKIPPED, news.why_nothing())
        issue = compose_news(session, news, campaign=edition.campaign)
        session.flush()
        note_composer(session, issue, SCHEDULER, now=now)
        states.schedule(issue, at=due)
        number = issue.number
    composed = f"issue No. {number} composed ({_contents(news)})"
    try:
        account = await runtime.send(number)
    except NotApproved as refusal:
        return Outcome(RunResult.MISSED, f"{composed}; {_missed_unapproved(runtime, number, refusal)}")
    return Outcome(RunResult.OK, f"{composed}; {account}")


async def monthly_report_job(rule: MonthlyMorning) -> None:
    """Job store entry point of `monthly-reach-report`."""
    await monthly_reports(_runtime(), rule)


async def monthly_reports(runtime: JobRuntime, rule: MonthlyMorning) -> Outcome:
    """Mail each organization that asked for it the reach report of the month before the run was due.

    A run found late still sends (a report is as true a week late), and about the month it was due for."""
    due = rule.latest_at_or_before(runtime.clock())
    return await _recorded(
        runtime,
        MONTHLY_REPORT_JOB,
        "the monthly reach reports to the organizations (月次到達報告)",
        due,
        lambda: _send_reports(runtime, Month.before(due)),
    )


async def _send_reports(runtime: JobRuntime, month: Month) -> Outcome:
    settings = runtime.site or load_settings()
    reports = MonthlyReports(runtime.db, settings, clock=runtime.clock)
    run = await reports.send(month, actor=SCHEDULER)
    if run.failed:
        return Outcome(RunResult.ERROR, run.describe())
    return Outcome(RunResult.OK if run.sent else RunResult.SKIPPED, run.describe())
