"""The scheduler's plan: its jobs in the project's database (APScheduler 3), read and changed, never run.

Commands plan and cancel sends through `schedule_issue` and `cancel_job` (or a `JobBook`); the running service
(outreach.scheduler) builds its own scheduler on the same job store with `job_scheduler` and keeps the
recurring issues with `ensure_editions`.
"""

from __future__ import annotations

__all__ = [
    "BusinessMorningTrigger",
    "JobBook",
    "PlannedJob",
    "cancel_job",
    "check_send_time",
    "ensure_editions",
    "job_scheduler",
    "plan_send",
    "planned_jobs",
    "schedule_issue",
]

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import MetaData

from outreach import states
from outreach.calendar import JST, MonthlyMorning, format_jst
from outreach.db import Database
from outreach.errors import InvalidInput, NotFound
from outreach.issues import get_issue
from outreach.jobs import Edition, edition_job, regular_editions, send_job, send_job_id
from outreach.models import Issue, IssueStatus, SchedulerJob
from outreach.usecases.approval import Acting, record_go_ahead, require_approval

logger = logging.getLogger("outreach.scheduler")


class BusinessMorningTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires on the moments of a `MonthlyMorning` rule: business days that APScheduler's cron cannot know."""

    def __init__(self, rule: MonthlyMorning) -> None:
        self.rule = rule

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        if previous_fire_time is None:
            return self.rule.next_after(now, inclusive=True)
        return self.rule.next_after(previous_fire_time)

    def __str__(self) -> str:
        return self.rule.describe()


class _JobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """APScheduler's SQLAlchemy job store on the `apscheduler_jobs` table that migration 0002 made.

    It never creates the table (only alembic changes the schema) and never disposes the shared engine.
    """

    def __init__(self, db: Database) -> None:
        super().__init__(engine=db.engine, tablename=SchedulerJob.__tablename__, metadata=MetaData())

    def start(self, scheduler: Any, alias: str) -> None:
        BaseJobStore.start(self, scheduler, alias)  # SQLAlchemyJobStore.start would create the table

    def shutdown(self) -> None:
        return None


class _Ledger(BaseScheduler):  # type: ignore[misc]
    """A scheduler that never runs a job: commands read and change the job store through it."""

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        return None

    def _process_jobs(self) -> None:
        return None


def job_scheduler(scheduler_class: type[BaseScheduler], db: Database) -> Any:
    """A scheduler of `scheduler_class` on the database's job store, in Japan time."""
    return scheduler_class(
        jobstores={"default": _JobStore(db)},
        timezone=JST,
        # A run found late goes to the job function, which weighs it against the grace period and records
        # it as missed; several missed runs of a recurring job make one.
        job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
    )


@dataclass(frozen=True)
class PlannedJob:
    """A job as `outreach schedule list` shows it."""

    id: str
    name: str
    next_run: datetime | None
    trigger: str


def _planned(job: Any) -> PlannedJob:
    trigger = "once" if isinstance(job.trigger, DateTrigger) else str(job.trigger)
    return PlannedJob(id=job.id, name=job.name, next_run=job.next_run_time, trigger=trigger)


def planned_jobs(scheduler: Any) -> list[PlannedJob]:
    """The scheduler's jobs, the next to run first (paused ones last)."""
    jobs = (_planned(job) for job in scheduler.get_jobs())
    return sorted(jobs, key=lambda job: (job.next_run.timestamp() if job.next_run else float("inf"), job.id))


def plan_send(scheduler: Any, issue_number: int, at: datetime) -> PlannedJob:
    """Add (or move) the one-off send job of an issue."""
    job = scheduler.add_job(
        send_job,
        DateTrigger(run_date=at, timezone=JST),
        id=send_job_id(issue_number),
        name=f"send issue No. {issue_number}",
        kwargs={"issue_number": issue_number, "scheduled_for": at},
        replace_existing=True,
    )
    return _planned(job)


def ensure_editions(scheduler: Any, editions: Sequence[Edition]) -> None:
    """Add the recurring issues that are missing, and those whose settings changed; drop the unwanted ones.

    A job that is already there as wanted keeps its next run time, so a run that fell due while no
    scheduler was running still happens (or is recorded as missed) now.
    """
    wanted = {edition.job_id: edition for edition in editions}
    for known in regular_editions():
        if known.job_id not in wanted and scheduler.get_job(known.job_id) is not None:
            scheduler.remove_job(known.job_id)
            logger.info("removed %s: OUTREACH_SCHEDULER_REGULAR is off", known.job_id)
    for edition in editions:
        job = scheduler.get_job(edition.job_id)
        if job is not None and job.kwargs.get("edition") == edition:
            continue
        scheduler.add_job(
            edition_job,
            BusinessMorningTrigger(edition.rule),
            id=edition.job_id,
            name=edition.title,
            kwargs={"edition": edition},
            replace_existing=True,
        )


class JobBook:
    """The jobs in the database, read and changed by commands that run none: `with JobBook(db) as book`."""

    def __init__(self, db: Database) -> None:
        self._scheduler = job_scheduler(_Ledger, db)

    def __enter__(self) -> JobBook:
        self._scheduler.start(paused=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._scheduler.shutdown(wait=False)

    def jobs(self) -> list[PlannedJob]:
        return planned_jobs(self._scheduler)

    def add_send(self, issue_number: int, at: datetime) -> PlannedJob:
        return plan_send(self._scheduler, issue_number, at)

    def ensure_editions(self, editions: Sequence[Edition]) -> None:
        ensure_editions(self._scheduler, editions)

    def remove(self, job_id: str) -> bool:
        if self._scheduler.get_job(job_id) is None:
            return False
        self._scheduler.remove_job(job_id)
        return True


def _check_schedulable(issue: Issue, by: Acting | None) -> None:
    if issue.status not in (IssueStatus.DRAFT, IssueStatus.SCHEDULED):
        raise InvalidInput(
            f"issue No. {issue.number} is {issue.status}: only a draft or a scheduled issue can be scheduled"
        )
    if by is not None:
        require_approval(issue, by.policy)


def check_send_time(at: datetime, *, now: datetime) -> None:
    """Refuse a send time without its time zone, or one that is not after `now`."""
    if at.tzinfo is None:
        raise InvalidInput("a send time needs its time zone")
    if at <= now:
        raise InvalidInput(f"{format_jst(at)} is not in the future (it is now {format_jst(now)})")


def schedule_issue(
    db: Database, issue_number: int, at: datetime, *, now: datetime, by: Acting | None = None
) -> PlannedJob:
    """Plan the send of a draft (or move a scheduled one) to `at`; refuse a time that is not after `now`.

    With `by`, staff schedule it: an issue its policy wants approved and is not is refused (NotApproved),
    and the plan is audited. Without, the caller plans the send of an issue nobody could approve yet (`meeting
    publish`): the send job asks for the approval when the time comes, and misses an issue without one.
    """
    check_send_time(at, now=now)
    with db.session(dry_run=True) as session:
        _check_schedulable(get_issue(session, issue_number), by)
    with JobBook(db) as book:
        planned = book.add_send(issue_number, at)
        try:
            with db.session() as session:
                issue = get_issue(session, issue_number)
                _check_schedulable(issue, by)  # again, in the transaction that moves it
                states.schedule(issue, at=at)
                if by is not None:
                    what = f"to go out {format_jst(at)}"
                    record_go_ahead(session, issue, by, action="issue.schedule", what=what, now=now)
        except BaseException:
            book.remove(planned.id)
            raise
    return planned


def cancel_job(db: Database, job_id: str, *, recurring: Sequence[Edition] = regular_editions()) -> str:
    """Remove a planned send (`issue:N`); the issue becomes a draft again. Returns what was done."""
    if job_id in {edition.job_id for edition in recurring}:
        raise InvalidInput(
            f"{job_id} is a recurring issue set by the settings: turn it off with "
            "OUTREACH_SCHEDULER_REGULAR=off and restart the scheduler"
        )
    kind, _, number_text = job_id.partition(":")
    if kind != "issue" or not number_text.isdigit():
        raise NotFound(f"there is no job {job_id!r}: `outreach schedule list` shows them")
    number = int(number_text)
    with db.session(dry_run=True) as session:
        scheduled = get_issue(session, number).status == IssueStatus.SCHEDULED
    with JobBook(db) as book:
        removed = book.remove(job_id)
    if not removed and not scheduled:
        raise NotFound(f"issue No. {number} has no planned send: `outreach schedule list` shows them")
    with db.session() as session:
        issue = get_issue(session, number)
        if issue.status == IssueStatus.SCHEDULED:
            states.unschedule(issue)
    return f"cancelled the send of issue No. {number}; it is a draft again"
