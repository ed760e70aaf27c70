"""The scheduler service: APScheduler 3 with its jobs in the project's database, led by one process at a time.

Commands change the jobs through outreach.planner (they never run them); `SchedulerService.run` is the
service: while it holds the leadership it runs due jobs, picks up the jobs that commands added or removed,
and puts back a send job for any issue that is scheduled but has none.
"""

from __future__ import annotations

__all__ = ["DeliveryLoop", "SchedulerBusy", "SchedulerService"]

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import time
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from outreach.alerts.job import ensure_alert_poll
from outreach.alerts.settings import load_alert_settings
from outreach.calendar import MonthlyMorning, format_jst
from outreach.db import Database
from outreach.errors import OutreachError
from outreach.jobs import (
    MONTHLY_REPORT_JOB,
    JobRuntime,
    RunResult,
    install_runtime,
    monthly_report_job,
    send_job_id,
)
from outreach.leader import Leadership, leadership_for
from outreach.models import Issue, IssueStatus, JobRun

# Jobs stored before the planner was split out of this module name their trigger
# outreach.scheduler.BusinessMorningTrigger in their pickled state: unpickling them looks it up here.
from outreach.planner import BusinessMorningTrigger as BusinessMorningTrigger
from outreach.planner import PlannedJob, ensure_editions, job_scheduler, plan_send, planned_jobs
from outreach.schedule_settings import SchedulerSettings

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


class _ServiceScheduler(AsyncIOScheduler):  # type: ignore[misc]
    """The service's scheduler: it looks for due jobs only while running, never while pausing or stopping."""

    def _process_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        result: float | None = super()._process_jobs()
        return result


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
            plan_send(scheduler, number, at)
            logger.warning("issue No. %s was scheduled without a job: put it back for %s", number, at)


def _ensure_monthly_report(scheduler: Any, at: time) -> None:
    """The monthly reach reports, at the morning send time of each month's first business day; a job that
    is already there as wanted keeps its next run time (a run missed while no scheduler ran happens now)."""
    rule = MonthlyMorning(at=at)
    job = scheduler.get_job(MONTHLY_REPORT_JOB)
    if job is not None and job.kwargs.get("rule") == rule:
        return
    scheduler.add_job(
        monthly_report_job,
        BusinessMorningTrigger(rule),
        id=MONTHLY_REPORT_JOB,
        name="the monthly reach reports to the organizations (月次到達報告)",
        kwargs={"rule": rule},
        replace_existing=True,
    )


def _close_interrupted_runs(db: Database, runtime: JobRuntime) -> None:
    """Runs left `running` by a scheduler that died: only the leader runs jobs, so none is still going."""
    with db.session() as session:
        for run in session.scalars(select(JobRun).where(JobRun.result == RunResult.RUNNING)):
            run.result = RunResult.ERROR
            run.finished_at = runtime.clock()
            run.detail = "interrupted: the scheduler running it stopped before it ended"
            logger.warning("run %s of %s was interrupted by a stop", run.id, run.job_id)


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
        return planned_jobs(self._scheduler)

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
        scheduler = job_scheduler(_ServiceScheduler, self.db)
        install_runtime(self.runtime)
        scheduler.start()
        try:
            _close_interrupted_runs(self.db, self.runtime)
            ensure_editions(scheduler, self.settings.editions())
            _ensure_monthly_report(scheduler, self.settings.send_at)
            ensure_alert_poll(scheduler, self.runtime.alerts or load_alert_settings())
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
        jobs = planned_jobs(scheduler)
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
