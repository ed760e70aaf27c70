"""What the scheduler's tests share: a scheduler service run until it leads, and the jobs it planned then."""

from __future__ import annotations

__all__ = ["jobs_planned_on_leading", "send_nothing"]

import asyncio
from datetime import datetime

from outreach.db import Database
from outreach.jobs import JobRuntime
from outreach.schedule_settings import SchedulerSettings
from outreach.scheduler import SchedulerService


async def send_nothing(number: int) -> str:
    """A runtime's send for tests that plan jobs and send nothing."""
    return "nothing"


def jobs_planned_on_leading(
    db: Database, runtime: JobRuntime, settings: SchedulerSettings
) -> dict[str, datetime | None]:
    """Run a scheduler service until it takes the lead, then stop it: each planned job's next run."""
    service = SchedulerService(db, runtime, settings=settings)
    seen: dict[str, datetime | None] = {}

    async def serve() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(stop))
        try:
            await asyncio.wait_for(service.leading.wait(), timeout=15)
            seen.update({job.id: job.next_run for job in service.planned()})
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)

    asyncio.run(serve())
    return seen
