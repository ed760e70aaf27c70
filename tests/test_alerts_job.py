"""The scheduler's alert job, driven with a fixed clock against a local HTTP feed: each run recorded in
`job_runs`, the back-off after errors (doubling, at most an hour, reset by a good poll), off still polling,
and the job planned by the running scheduler and listed by `outreach schedule list`."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from outreach.alerts.job import ALERT_POLL_JOB, poll_alerts
from outreach.alerts.models import AlertState, SafetyAlert
from outreach.alerts.settings import AlertMode, AlertSettings
from outreach.config import Settings
from outreach.db import Database
from outreach.jobs import JobRuntime, RunResult
from outreach.models import JobRun
from outreach.schedule_settings import SchedulerSettings
from tests.feed_server import FeedServer
from tests.scheduler_support import jobs_planned_on_leading, send_nothing
from tests.test_cli import run

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


async def _no_send(number: int) -> str:
    raise AssertionError(f"nothing is sent in these tests (issue No. {number})")


def _runtime(db: Database, site: Settings, alerts: AlertSettings, clock: Clock) -> JobRuntime:
    return JobRuntime(
        db=db, send=_no_send, grace=timedelta(minutes=10), clock=clock, site=site, alerts=alerts
    )


def _runs(db: Database) -> list[tuple[str, datetime, str]]:
    with db.session() as session:
        runs = session.scalars(select(JobRun).where(JobRun.job_id == ALERT_POLL_JOB).order_by(JobRun.id))
        return [(run.result, run.started_at, run.detail or "") for run in runs]


def test_errors_back_off_doubling_and_a_good_poll_resets(seeded_db: Database, settings: Settings) -> None:
    clock = Clock(T0)
    with FeedServer() as server:
        alerts = AlertSettings(feed=server.url("/500"), timeout=2.0)
        runtime = _runtime(seeded_db, settings, alerts, clock)

        def at(minutes: int, feed: str | None = None) -> RunResult | None:
            clock.at = T0 + timedelta(minutes=minutes)
            chosen = replace(alerts, feed=feed) if feed else alerts
            outcome = asyncio.run(poll_alerts(runtime, chosen))
            return outcome.result if outcome is not None else None

        good = server.url()
        results = {
            0: at(0),  # error 1: wait 10 min
            5: at(5),
            10: at(10),  # error 2: wait 20 min
            25: at(25),
            30: at(30, good),  # ok: back to every 5 min
            35: at(35, good),
        }

    assert results == {0: "error", 5: None, 10: "error", 25: None, 30: "ok", 35: "ok"}
    runs = _runs(seeded_db)
    assert [(result, started - T0) for result, started, _ in runs] == [
        ("error", timedelta(0)), ("error", timedelta(minutes=10)), ("ok", timedelta(minutes=30)),
        ("ok", timedelta(minutes=35)),
    ]  # fmt: skip
    assert runs[0][2] == (
        f"{server.url('/500')}: HTTP 500 Internal Server Error; "
        "1 error(s) in a row: next poll at 2026-11-30 21:10 JST"
    )
    assert "2 error(s) in a row: next poll at 2026-11-30 21:30 JST" in runs[1][2]
    assert runs[2][2].startswith(f"{good}: 4 entries, 4 new")
    assert runs[3][2].startswith(f"{good}: unchanged since the last poll (HTTP 304)")


def test_the_back_off_stops_at_an_hour(seeded_db: Database, settings: Settings) -> None:
    clock = Clock(T0)
    with FeedServer() as server:
        runtime = _runtime(seeded_db, settings, AlertSettings(feed=server.url("/500"), timeout=2.0), clock)
        ran = []
        for minute in range(0, 400, 5):
            clock.at = T0 + timedelta(minutes=minute)
            if asyncio.run(poll_alerts(runtime)) is not None:
                ran.append(minute)

    gaps = [later - earlier for earlier, later in itertools.pairwise(ran)]
    assert gaps[:3] == [10, 20, 40]
    assert set(gaps[3:]) == {60}


def test_off_still_polls_and_records(seeded_db: Database, settings: Settings) -> None:
    with FeedServer(state="newarrival_2.xml") as server:
        alerts = AlertSettings(feed=server.url(), mode=AlertMode.OFF, timeout=2.0)
        outcome = asyncio.run(poll_alerts(_runtime(seeded_db, settings, alerts, Clock(T0))))

    assert outcome is not None
    assert outcome.result == "ok"
    with seeded_db.session() as session:
        states = set(session.scalars(select(SafetyAlert.state)))
    assert states == {AlertState.RECORDED}
    assert [result for result, _, _ in _runs(seeded_db)] == ["ok"]


def test_the_running_scheduler_plans_the_poll_and_the_listing_shows_it(
    env: dict[str, str], db: Database
) -> None:
    assert run("seed").exit_code == 0
    alerts = AlertSettings(feed="http://127.0.0.1:9/never-polled.xml", poll=timedelta(minutes=7))

    started = datetime.now(UTC)
    seen = jobs_planned_on_leading(
        db,
        JobRuntime(db=db, send=send_nothing, grace=timedelta(minutes=10), alerts=alerts),
        SchedulerSettings(poll=0.05),
    )
    listing = run("schedule", "list")

    next_run = seen[ALERT_POLL_JOB]
    assert next_run is not None
    assert timedelta(minutes=6) < next_run - started <= timedelta(minutes=7, seconds=30)
    line = next(line for line in listing.output.splitlines() if line.startswith(ALERT_POLL_JOB))
    assert "poll the ministry's overseas-safety feed (海外安全情報)" in line
