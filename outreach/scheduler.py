"""The scheduler service: APScheduler 3 with its jobs in the project's database, led by one process at a time.

Commands change the jobs through a `JobBook` (they never run them); `SchedulerService.run` is the service:
while it holds the leadership it runs due jobs, picks up the jobs that commands added or removed, and puts
back a send job for any issue that is scheduled but has none.
"""

from __future__ import annotations

__all__ = [
    "DeliveryLoop",
    "JobBook",
    "PlannedJob",
    "SchedulerBusy",
    "SchedulerService",
    "SchedulerSettings",
    "cancel_job",
    "load_scheduler_settings",
    "schedule_issue",
]

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING, BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from pydantic import Field
from pydantic_settings import SettingsConfigDict
from sqlalchemy import MetaData, select
from sqlalchemy.exc import OperationalError

from outreach import states
from outreach.calendar import JST, MonthlyMorning, format_jst
from outreach.config import EnvironmentModel, finite_number, read_environment, whole_number
from outreach.db import Database
from outreach.errors import InvalidInput, NotFound, OutreachError
from outreach.issues import get_issue
from outreach.jobs import (
    Edition,
    JobRuntime,
    RunResult,
    edition_job,
    install_runtime,
    regular_editions,
    send_job,
    send_job_id,
)
from outreach.leader import Leadership, leadership_for
from outreach.models import Issue, IssueStatus, JobRun, SchedulerJob

logger = logging.getLogger("outreach.scheduler")

DeliveryLoop = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
"""A delivery loop that the service runs beside the scheduler until the event is set (`--with-worker`).

It runs in every instance, leading or standing by: the CLI plugs in the delivery worker (`outreach worker`).
"""

# How long a stopping scheduler waits for the jobs it is running (systemd's default stop timeout is 90 s).
STOP_TIMEOUT = 60.0


class SchedulerBusy(OutreachError, RuntimeError):
    """Another scheduler already runs on this SQLite database."""

    exit_code = 1


@dataclass(frozen=True)
class SchedulerSettings:
    """The scheduler's settings (OUTREACH_SCHEDULER_*); build them with `load_scheduler_settings`."""

    grace: timedelta = timedelta(minutes=120)
    poll: float = 10.0
    send_at: time = time(10)
    regular: bool = True

    def editions(self) -> tuple[Edition, ...]:
        return regular_editions(self.send_at) if self.regular else ()


class _Environment(EnvironmentModel):
    """The OUTREACH_SCHEDULER_* variables, validated by outreach's one settings reader."""

    model_config = SettingsConfigDict(env_prefix="OUTREACH_SCHEDULER_")

    grace: int = whole_number(120, 0, 10_080, of="minutes")
    poll: float = finite_number(10, 0.05, 3600, of="seconds")
    send_at: time = Field(time(10), description="a time of day such as 10:00")
    regular: bool = Field(True, description="on or off")


def load_scheduler_settings(
    environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> SchedulerSettings:
    """Read the OUTREACH_SCHEDULER_* settings: the environment wins over `.env`, which wins over defaults."""
    env = read_environment(_Environment, environ, env_file=env_file)
    return SchedulerSettings(
        grace=timedelta(minutes=env.grace), poll=env.poll, send_at=env.send_at, regular=env.regular
    )


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


class _ServiceScheduler(AsyncIOScheduler):  # type: ignore[misc]
    """The service's scheduler: it looks for due jobs only while running, never while pausing or stopping."""

    def _process_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        result: float | None = super()._process_jobs()
        return result


class _Ledger(BaseScheduler):  # type: ignore[misc]
    """A scheduler that never runs a job: commands read and change the job store through it."""

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        return None

    def _process_jobs(self) -> None:
        return None


def _configured(scheduler_class: type[BaseScheduler], db: Database) -> Any:
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
    trigger = str(job.trigger) if isinstance(job.trigger, BusinessMorningTrigger) else "once"
    return PlannedJob(id=job.id, name=job.name, next_run=job.next_run_time, trigger=trigger)


def _by_next_run(jobs: Iterable[PlannedJob]) -> list[PlannedJob]:
    return sorted(jobs, key=lambda job: (job.next_run.timestamp() if job.next_run else float("inf"), job.id))


def _add_send(scheduler: Any, issue_number: int, at: datetime) -> PlannedJob:
    job = scheduler.add_job(
        send_job,
        DateTrigger(run_date=at, timezone=JST),
        id=send_job_id(issue_number),
        name=f"send issue No. {issue_number}",
        kwargs={"issue_number": issue_number, "scheduled_for": at},
        replace_existing=True,
    )
    return _planned(job)


def _ensure_editions(scheduler: Any, editions: Sequence[Edition]) -> None:
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


def _restore_sends(scheduler: Any, db: Database) -> None:
    """Give every scheduled issue that has no send job one (e.g. its scheduler died while starting it)."""
    with db.session() as session:
        scheduled = session.execute(
            select(Issue.number, Issue.scheduled_at).where(
                Issue.status == IssueStatus.SCHEDULED, Issue.scheduled_at.is_not(None)
            )
        ).all()
    for number, at in scheduled:
        if at is not None and scheduler.get_job(send_job_id(number)) is None:
            _add_send(scheduler, number, at)
            logger.warning("issue No. %s was scheduled without a job: put it back for %s", number, at)


def _close_interrupted_runs(db: Database, runtime: JobRuntime) -> None:
    """Runs left `running` by a scheduler that died: only the leader runs jobs, so none is still going."""
    with db.session() as session:
        for run in session.scalars(select(JobRun).where(JobRun.result == RunResult.RUNNING)):
            run.result = RunResult.ERROR
            run.finished_at = runtime.clock()
            run.detail = "interrupted: the scheduler running it stopped before it ended"
            logger.warning("run %s of %s was interrupted by a stop", run.id, run.job_id)


class JobBook:
    """The jobs in the database, read and changed by commands that run none: `with JobBook(db) as book`."""

    def __init__(self, db: Database) -> None:
        self._scheduler = _configured(_Ledger, db)

    def __enter__(self) -> JobBook:
        self._scheduler.start(paused=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._scheduler.shutdown(wait=False)

    def jobs(self) -> list[PlannedJob]:
        return _by_next_run(_planned(job) for job in self._scheduler.get_jobs())

    def add_send(self, issue_number: int, at: datetime) -> PlannedJob:
        return _add_send(self._scheduler, issue_number, at)

    def ensure_editions(self, editions: Sequence[Edition]) -> None:
        _ensure_editions(self._scheduler, editions)

    def remove(self, job_id: str) -> bool:
        if self._scheduler.get_job(job_id) is None:
            return False
        self._scheduler.remove_job(job_id)
        return True


def _check_schedulable(db: Database, issue_number: int) -> None:
    with db.session(dry_run=True) as session:
        issue = get_issue(session, issue_number)
        if issue.status not in (IssueStatus.DRAFT, IssueStatus.SCHEDULED):
            raise InvalidInput(
                f"issue No. {issue_number} is {issue.status}: only a draft or a scheduled issue can be "
                "scheduled"
            )


def schedule_issue(db: Database, issue_number: int, at: datetime, *, now: datetime) -> PlannedJob:
    """Plan the send of a draft (or move a scheduled one) to `at`; refuse a time that is not after `now`."""
    if at.tzinfo is None:
        raise InvalidInput("a send time needs its time zone")
    if at <= now:
        raise InvalidInput(f"{format_jst(at)} is not in the future (it is now {format_jst(now)})")
    _check_schedulable(db, issue_number)
    with JobBook(db) as book:
        planned = book.add_send(issue_number, at)
        try:
            with db.session() as session:
                states.schedule(get_issue(session, issue_number), at=at)
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


async def _wait(event: asyncio.Event, seconds: float) -> None:
    """Wait until `event` is set or `seconds` have passed."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout=seconds)


async def _finish(tasks: set[asyncio.Task[Any]], *, what: str) -> None:
    """Give `tasks` up to STOP_TIMEOUT to end, then cancel them; report a failure rather than lose it."""
    if not tasks:
        return
    logger.info("waiting up to %gs for %s", STOP_TIMEOUT, what)
    _, unfinished = await asyncio.wait(tasks, timeout=STOP_TIMEOUT)
    for task in unfinished:
        task.cancel()
    if unfinished:
        await asyncio.wait(unfinished)


def _report_failure(task: asyncio.Task[None]) -> None:
    """Say at once that the delivery loop died, rather than when the service stops."""
    if not task.cancelled() and task.exception() is not None:
        logger.error("the delivery loop stopped: %s", task.exception(), exc_info=task.exception())


class SchedulerService:
    """Runs the scheduler while this process holds the leadership; stands by while another does."""

    def __init__(
        self,
        db: Database,
        runtime: JobRuntime,
        *,
        settings: SchedulerSettings,
        leadership: Leadership | None = None,
        worker: DeliveryLoop | None = None,
    ) -> None:
        self.db = db
        self.runtime = runtime
        self.settings = settings
        self.leadership = leadership or leadership_for(db)
        self.worker = worker
        self.leading = asyncio.Event()  # set while this process leads
        self._scheduler: Any = None

    def planned(self) -> list[PlannedJob]:
        """The jobs as the running scheduler sees them; empty while standing by."""
        if self._scheduler is None:
            return []
        return _by_next_run(_planned(job) for job in self._scheduler.get_jobs())

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set: lead when the lock is free, else stand by and try again every poll."""
        worker_stop = asyncio.Event()
        delivering = asyncio.create_task(self.worker(worker_stop)) if self.worker else None
        if delivering is not None:
            delivering.add_done_callback(_report_failure)
        try:
            await self._run(stop)
        finally:
            worker_stop.set()
            if delivering is not None:
                await _finish({delivering}, what="the delivery loop")
        logger.info("stopped")

    async def _run(self, stop: asyncio.Event) -> None:
        standing_by = False
        try:
            while not stop.is_set():
                if self._try_lead():
                    await self._lead(stop)
                    standing_by = False
                    continue
                if not self.leadership.shared:
                    holder = self.leadership.holder()
                    raise SchedulerBusy(
                        f"another scheduler{f' ({holder})' if holder else ''} already runs on "
                        f"{self.db.describe()}, holding the {self.leadership.describe()}: with SQLite only "
                        "one may run; use PostgreSQL for several"
                    )
                if not standing_by:
                    logger.info("standing by: another scheduler leads; trying every %gs", self.settings.poll)
                    standing_by = True
                await _wait(stop, self.settings.poll)
        finally:
            self.leadership.release()

    def _try_lead(self) -> bool:
        try:
            return self.leadership.try_acquire()
        except OperationalError as error:
            logger.warning("cannot reach the database to take the lead: %s", error.orig or error)
            return False

    async def _lead(self, stop: asyncio.Event) -> None:
        scheduler = _configured(_ServiceScheduler, self.db)
        install_runtime(self.runtime)
        scheduler.start()
        try:
            _close_interrupted_runs(self.db, self.runtime)
            _ensure_editions(scheduler, self.settings.editions())
            _restore_sends(scheduler, self.db)
            self._log_leading(scheduler)
            self._scheduler = scheduler
            self.leading.set()
            while not stop.is_set():
                await _wait(stop, self.settings.poll)
                if not self.leadership.still_held():
                    logger.warning("lost the leadership (%s): standing down", self.leadership.describe())
                    break
                scheduler.wakeup()  # see the jobs that commands added or removed since
        finally:
            self.leading.clear()
            self._scheduler = None
            scheduler.pause()
            await asyncio.sleep(0)  # let the runs submitted last start and register themselves
            running = set(self.runtime.in_flight)
            await _finish(running, what=f"{len(running)} running job(s)")
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
            install_runtime(None)

    def _log_leading(self, scheduler: Any) -> None:
        jobs = _by_next_run(_planned(job) for job in scheduler.get_jobs())
        upcoming = "; ".join(
            f"{job.id} at {format_jst(job.next_run)}" for job in jobs[:3] if job.next_run is not None
        )
        logger.info(
            "leading (%s) on %s: %d jobs%s",
            self.leadership.describe(),
            self.db.describe(),
            len(jobs),
            f", next {upcoming}" if upcoming else "",
        )
