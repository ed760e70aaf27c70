"""The scheduler's jobs, driven directly with a fixed clock, and the service on SQLite and PostgreSQL.

Sends go to a real SMTP server through what `outreach issue send` does; nothing waits for wall-clock time
except for conditions it can observe (an event, a row), always with a timeout.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import select as select_module
import signal
import subprocess
import sys
import time as wall_clock
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

import outreach
from outreach.calendar import JST
from outreach.cli import cli
from outreach.cli.common import App
from outreach.cli.schedule import delivery_loop, send_with
from outreach.db import Database
from outreach.issues import get_issue
from outreach.jobs import (
    JobRuntime,
    RunResult,
    edition_issue,
    install_runtime,
    regular_editions,
    scheduled_send,
)
from outreach.leader import LockFile
from outreach.models import Issue, IssueStatus, JobRun, Meeting, Promotion, SchedulerJob, utcnow
from outreach.planner import JobBook, schedule_issue
from outreach.regular import whats_new
from outreach.schedule_settings import SchedulerSettings, load_scheduler_settings
from outreach.scheduler import DeliveryLoop, SchedulerBusy, SchedulerService
from tests.conftest import POSTGRES_URL, SKIP_POSTGRES
from tests.smtp_server import SmtpServer

SUBSCRIBERS = (("a.tanaka@example.jp", "jetro"), ("b.suzuki@example.jp", "jcci"), ("c.sato@example.jp", None))
REGULAR, SUMMER = regular_editions()
DEC_1 = datetime(2026, 12, 1, 10, 0, tzinfo=JST)  # a Tuesday, the first business day of December


def run(*args: str) -> None:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.fixture
def ready(
    env: dict[str, str], db: Database, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Database:
    """The seeded network, three subscribers, and mail going to the test's SMTP server."""
    monkeypatch.setenv("OUTREACH_SMTP_URL", smtp_server.url)
    run("seed")
    for email, org in SUBSCRIBERS:
        run("subscribers", "add", email, *(["--org", org] if org else []))
    return db


def runtime(db: Database, at: datetime, *, grace: timedelta = timedelta(minutes=120)) -> JobRuntime:
    return JobRuntime(db=db, send=send_with(App()), grace=grace, clock=lambda: at)


def runs(db: Database) -> list[JobRun]:
    with db.session() as session:
        return list(session.scalars(select(JobRun).order_by(JobRun.id)))


def issue_state(db: Database, number: int) -> tuple[IssueStatus, datetime | None]:
    with db.session() as session:
        issue = get_issue(session, number)
        return issue.status, issue.scheduled_at


def issue_count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Issue)) or 0)


def add_plenary_9(tmp_path: Path) -> None:
    (tmp_path / "p9.md").write_text(
        "第9回本会合では、安全対策セミナーの拡充が報告されました。", encoding="utf-8"
    )
    run("meeting", "add", "plenary:9", "--date", "2026-11-20", "--summary", str(tmp_path / "p9.md"))


# --- scheduled sends --------------------------------------------------------------------------------


def test_a_scheduled_send_runs_on_time_and_delivers(ready: Database, smtp_server: SmtpServer) -> None:
    run("issue", "compose", "--meeting", "plenary:8")
    schedule_issue(ready, 1, DEC_1, now=DEC_1 - timedelta(days=5))
    assert issue_state(ready, 1) == (IssueStatus.SCHEDULED, DEC_1)

    outcome = asyncio.run(
        scheduled_send(runtime(ready, DEC_1 + timedelta(seconds=3)), 1, scheduled_for=DEC_1)
    )

    assert outcome.result == RunResult.OK, outcome.detail
    assert sorted(email for email, _ in SUBSCRIBERS) == sorted(
        rcpt for message in smtp_server.handler.messages for rcpt in message.rcpt_tos
    )
    assert issue_state(ready, 1)[0] == IssueStatus.SENT
    [record] = runs(ready)
    assert (record.job_id, record.result, record.scheduled_for) == ("issue:1", "ok", DEC_1)
    assert record.started_at == DEC_1 + timedelta(seconds=3) == record.finished_at
    assert "3 sent" in (record.detail or "")


def test_a_send_found_late_within_the_grace_period_still_goes_out(
    ready: Database, smtp_server: SmtpServer
) -> None:
    run("issue", "compose", "--meeting", "plenary:8")
    schedule_issue(ready, 1, DEC_1, now=DEC_1 - timedelta(days=1))
    later = DEC_1 + timedelta(minutes=90)

    outcome = asyncio.run(scheduled_send(runtime(ready, later), 1, scheduled_for=DEC_1))

    assert outcome.result == RunResult.OK
    assert "90 min late, within the grace period" in outcome.detail
    assert len(smtp_server.handler.messages) == 3


def test_a_send_found_late_beyond_the_grace_period_is_missed_and_not_sent(
    ready: Database, smtp_server: SmtpServer
) -> None:
    run("issue", "compose", "--meeting", "plenary:8")
    schedule_issue(ready, 1, DEC_1, now=DEC_1 - timedelta(days=1))
    later = DEC_1 + timedelta(hours=3, minutes=5)

    outcome = asyncio.run(scheduled_send(runtime(ready, later), 1, scheduled_for=DEC_1))

    assert outcome.result == RunResult.MISSED
    assert smtp_server.handler.messages == []
    assert issue_state(ready, 1) == (IssueStatus.DRAFT, None)
    [record] = runs(ready)
    assert record.result == "missed"
    assert "3 h 05 min late, beyond the 2 h 00 min grace period" in (record.detail or "")
    assert "outreach issue send 1" in (record.detail or "")


def test_a_send_of_an_issue_already_sent_is_skipped(ready: Database, smtp_server: SmtpServer) -> None:
    run("issue", "compose", "--meeting", "plenary:8")
    run("issue", "send", "1")

    outcome = asyncio.run(scheduled_send(runtime(ready, DEC_1), 1, scheduled_for=DEC_1))

    assert (outcome.result, outcome.detail) == (
        RunResult.SKIPPED,
        "issue No. 1 was already sent: nothing sent",
    )
    assert len(smtp_server.handler.messages) == 3


def test_a_send_that_fails_is_recorded_as_an_error(ready: Database) -> None:
    async def relay_down(number: int) -> str:
        raise ConnectionRefusedError(f"relay down while sending issue No. {number}")

    run("issue", "compose", "--meeting", "plenary:8")
    schedule_issue(ready, 1, DEC_1, now=DEC_1 - timedelta(days=1))
    broken = JobRuntime(db=ready, send=relay_down, grace=timedelta(minutes=5), clock=lambda: DEC_1)

    outcome = asyncio.run(scheduled_send(broken, 1, scheduled_for=DEC_1))

    assert outcome.result == RunResult.ERROR
    [record] = runs(ready)
    assert (record.result, record.detail) == (
        "error",
        "ConnectionRefusedError: relay down while sending issue No. 1",
    )


# --- the regular issue and the promotion calendar ---------------------------------------------------


def test_the_regular_issue_carries_what_is_new_then_skips_when_nothing_is(
    ready: Database, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    run("issue", "compose", "--meeting", "plenary:8", "--date", "2026-11-02")
    add_plenary_9(tmp_path)

    outcome = asyncio.run(edition_issue(runtime(ready, DEC_1), REGULAR))

    assert outcome.result == RunResult.OK, outcome.detail
    assert "issue No. 2 composed (outcome of plenary:9)" in outcome.detail
    with ready.session() as session:
        issue = get_issue(session, 2)
        assert (issue.status, issue.issue_date) == (IssueStatus.SENT, date(2026, 12, 1))
        assert [item.meeting.key for item in issue.items if item.meeting] == ["plenary:9"]
        assert "第9回本会合の開催結果" in issue.subject_ja
    assert len(smtp_server.handler.messages) == 3

    next_month = datetime(2027, 1, 4, 10, 0, tzinfo=JST)
    again = asyncio.run(edition_issue(runtime(ready, next_month), REGULAR))

    assert again.result == RunResult.SKIPPED
    assert again.detail.startswith("nothing new since issue No. 2 of 2026-12-01")
    assert issue_count(ready) == 2
    assert len(smtp_server.handler.messages) == 3
    assert [(r.job_id, r.result, r.scheduled_for) for r in runs(ready)] == [
        ("regular-issue", "ok", DEC_1),
        ("regular-issue", "skipped", next_month),
    ]


def test_a_regular_issue_found_beyond_the_grace_period_is_missed(ready: Database, tmp_path: Path) -> None:
    run("issue", "compose", "--meeting", "plenary:8", "--date", "2026-11-02")
    add_plenary_9(tmp_path)

    outcome = asyncio.run(edition_issue(runtime(ready, DEC_1 + timedelta(hours=5)), REGULAR))

    assert outcome.result == RunResult.MISSED
    assert "the next one is due 2027-01-04 10:00 JST" in outcome.detail
    assert issue_count(ready) == 1
    assert runs(ready)[0].scheduled_for == DEC_1


def test_a_promotion_that_starts_mid_month_joins_the_next_issue(ready: Database) -> None:
    run("issue", "compose", "--meeting", "plenary:8", "--date", "2026-12-01")
    with ready.session() as session:
        session.add(
            Promotion(
                slug="winter-campaign",
                title_ja="年末年始の海外安全キャンペーン",
                title_en="Year-end overseas safety campaign",
                body_ja="年末年始に海外へ渡航する前に、安全情報をご確認ください。",
                body_en="Check the safety information before travelling abroad over the holidays.",
                url="https://www.anzen.mofa.go.jp/",
                starts_on=date(2026, 12, 15),
                ends_on=date(2027, 1, 31),
                yearly=False,
                position=90,
            )
        )
    with ready.session() as session:
        assert whats_new(session, date(2026, 12, 10)).empty

    outcome = asyncio.run(edition_issue(runtime(ready, datetime(2027, 1, 4, 10, 0, tzinfo=JST)), REGULAR))

    assert outcome.result == RunResult.OK, outcome.detail
    assert "new promotion winter-campaign" in outcome.detail
    with ready.session() as session:
        issue = get_issue(session, 2)
        assert issue.subject_ja == "【海外安全メールマガジン 第2号】年末年始の海外安全キャンペーンのご案内"
        subject_en = "[SME Overseas Safety Network Newsletter No. 2] Year-end overseas safety campaign"
        assert issue.subject_en == subject_en
        assert "winter-campaign" in [item.promotion.slug for item in issue.items if item.promotion]


def test_the_summer_safety_month_opens_with_its_own_issue(ready: Database, smtp_server: SmtpServer) -> None:
    run("issue", "compose", "--meeting", "plenary:8", "--date", "2027-06-01")
    opening_day = datetime(2027, 7, 1, 10, 0, tzinfo=JST)  # a Thursday

    outcome = asyncio.run(edition_issue(runtime(ready, opening_day), SUMMER))

    assert outcome.result == RunResult.OK, outcome.detail
    with ready.session() as session:
        issue = get_issue(session, 2)
        assert issue.subject_ja == "【海外安全メールマガジン 第2号】夏の海外安全強化月間が始まりました"
        assert issue.subject_en.endswith("The Summer Overseas Safety Month begins")
        assert issue.items[0].promotion is not None
        assert issue.items[0].promotion.slug == "summer-safety-month"
    subjects = {message.parsed()["Subject"] for message in smtp_server.handler.messages}
    assert any("夏の海外安全強化月間" in subject for subject in subjects)

    august = datetime(2027, 8, 2, 10, 0, tzinfo=JST)
    assert asyncio.run(edition_issue(runtime(ready, august), REGULAR)).result == RunResult.SKIPPED


def test_the_regular_issue_leaves_old_and_already_published_outcomes_out(ready: Database) -> None:
    # A freshly seeded network has thirteen past meetings and no issue: news, not history.
    with ready.session() as session:
        news = whats_new(session, date(2026, 12, 1))
        assert news.meetings == []
        assert news.last_issue is None
        assert len(news.promotions) == 7  # every active one: no issue carried them yet
        assert session.scalar(select(func.count()).select_from(Meeting)) == 13


# --- settings ---------------------------------------------------------------------------------------


def test_settings_have_defaults_and_refuse_nonsense() -> None:
    defaults = load_scheduler_settings({}, env_file=None)
    assert defaults == SchedulerSettings(grace=timedelta(minutes=120), poll=10.0, regular=True)
    custom = load_scheduler_settings(
        {
            "OUTREACH_SCHEDULER_GRACE": "30",
            "OUTREACH_SCHEDULER_SEND_AT": "09:30",
            "OUTREACH_SCHEDULER_REGULAR": "off",
        },
        env_file=None,
    )
    assert (custom.grace, custom.send_at.hour, custom.send_at.minute, custom.editions()) == (
        timedelta(minutes=30), 9, 30, ()
    )  # fmt: skip
    with pytest.raises(ValueError, match="OUTREACH_SCHEDULER_GRACE is a whole number of minutes"):
        load_scheduler_settings({"OUTREACH_SCHEDULER_GRACE": "2h"}, env_file=None)


# --- the job store ----------------------------------------------------------------------------------


def test_a_recurring_job_stored_before_the_planner_moved_out_of_the_scheduler_module_still_loads(
    db: Database,
) -> None:
    # APScheduler pickles a job's trigger with its class's module: jobs stored by earlier versions name
    # outreach.scheduler.BusinessMorningTrigger, and must not be dropped as unloadable after an upgrade.
    with JobBook(db) as book:
        book.ensure_editions([REGULAR])
        [stored] = book.jobs()
    with db.session() as session:
        job = session.get(SchedulerJob, REGULAR.job_id)
        assert job is not None
        state = pickle.dumps(pickle.loads(job.job_state), protocol=0)  # names classes as "module\nname"
        assert b"coutreach.planner\nBusinessMorningTrigger\n" in state
        job.job_state = state.replace(b"coutreach.planner\n", b"coutreach.scheduler\n")

    with JobBook(db) as book:
        assert book.jobs() == [stored]


# --- the service ------------------------------------------------------------------------------------


async def until(condition: Callable[[], bool], *, timeout: float = 15.0) -> None:
    """Wait for `condition` to hold, looking again after each turn of the loop; fail after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting for a condition"
        await asyncio.sleep(0.02)


async def serving(service: SchedulerService, body: Callable[[], Awaitable[None]]) -> None:
    """Run `service` while `body` runs, then stop it as SIGTERM would, and wait for it to end."""
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    try:
        await asyncio.wait_for(service.leading.wait(), timeout=15)
        await body()
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)


def service_for(
    db: Database, *, grace: timedelta = timedelta(minutes=120), worker: DeliveryLoop | None = None
) -> SchedulerService:
    settings = SchedulerSettings(poll=0.05, grace=grace)
    runtime = JobRuntime(db=db, send=send_with(App()), grace=grace)
    return SchedulerService(db, runtime, settings=settings, worker=worker)


def test_jobs_survive_a_restart_and_a_send_due_meanwhile_goes_out(
    ready: Database, smtp_server: SmtpServer
) -> None:
    run("issue", "compose", "--meeting", "plenary:8")
    run("issue", "compose", "--meeting", "plenary:7")
    far = datetime(2027, 3, 1, 10, 0, tzinfo=JST)
    seen: dict[str, list[tuple[str, datetime | None]]] = {}

    async def add_a_job() -> None:
        schedule_issue(ready, 1, far, now=utcnow())
        await until(lambda: "issue:1" in [job.id for job in first.planned()])
        seen["first"] = [(job.id, job.next_run) for job in first.planned()]

    first = service_for(ready)
    asyncio.run(serving(first, add_a_job))
    assert not first.leading.is_set()

    # While no scheduler runs, issue No. 2 falls due: a minute ago, well within the grace period.
    with JobBook(ready) as book:
        book.add_send(2, utcnow() - timedelta(minutes=1))
    with ready.session() as session:
        get_issue(session, 2).status = IssueStatus.SCHEDULED

    async def look() -> None:
        await until(lambda: any(r.job_id == "issue:2" and r.result != "running" for r in runs(ready)))
        seen["second"] = [(job.id, job.next_run) for job in second.planned()]

    second = service_for(ready)
    asyncio.run(serving(second, look))

    assert seen["second"] == seen["first"]  # the job added to the first, and the recurring ones
    assert ("issue:1", far) in seen["second"]
    assert {"regular-issue", "summer-opener"} <= {job_id for job_id, _ in seen["second"]}
    assert [(r.job_id, r.result) for r in runs(ready)] == [("issue:2", "ok")]
    assert issue_state(ready, 2)[0] == IssueStatus.SENT
    assert issue_state(ready, 1) == (IssueStatus.SCHEDULED, far)
    assert len(smtp_server.handler.messages) == 3


def test_with_a_worker_the_service_delivers_sends_started_elsewhere(
    ready: Database, smtp_server: SmtpServer
) -> None:
    run("issue", "compose", "--meeting", "plenary:8")
    run("issue", "send", "1", "--detach")  # only starts the send: the rows wait for a worker
    assert issue_state(ready, 1)[0] == IssueStatus.SENDING
    service = service_for(ready, worker=delivery_loop(App()))

    async def delivered() -> None:
        await until(lambda: len(smtp_server.handler.messages) == 3)

    asyncio.run(serving(service, delivered))

    assert issue_state(ready, 1)[0] == IssueStatus.SENT  # the worker settled the issue as it stopped
    assert len(smtp_server.handler.messages) == 3


def test_a_scheduled_issue_without_a_job_gets_it_back(ready: Database) -> None:
    run("issue", "compose", "--meeting", "plenary:8")
    far = datetime(2027, 3, 1, 10, 0, tzinfo=JST)
    with ready.session() as session:  # as if its scheduler died between the two steps of scheduling
        issue = get_issue(session, 1)
        issue.status, issue.scheduled_at = IssueStatus.SCHEDULED, far

    async def look() -> None:
        assert ("issue:1", far) in [(job.id, job.next_run) for job in service.planned()]

    service = service_for(ready)
    asyncio.run(serving(service, look))


def test_a_run_left_running_by_a_dead_scheduler_is_closed_by_the_next(ready: Database) -> None:
    with ready.session() as session:
        session.add(JobRun(job_id="issue:9", job_name="send issue No. 9", result="running"))

    async def nothing() -> None:
        return None

    asyncio.run(serving(service_for(ready), nothing))

    [record] = runs(ready)
    assert record.result == "error"
    assert record.detail == "interrupted: the scheduler running it stopped before it ended"


def test_a_second_scheduler_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    database.upgrade()
    lock = LockFile(tmp_path / "one.sqlite3.scheduler.lock")
    assert lock.try_acquire()
    settings = SchedulerSettings(poll=0.05)
    second = SchedulerService(
        database, JobRuntime(db=database, send=send_with(App()), grace=timedelta()), settings=settings
    )
    try:
        with pytest.raises(SchedulerBusy, match=rf"another scheduler \(process {os.getpid()}\) already runs"):
            asyncio.run(second.run(asyncio.Event()))
    finally:
        lock.release()
        install_runtime(None)
        database.dispose()


# --- two scheduler processes on PostgreSQL ----------------------------------------------------------


class SchedulerProcess:
    """`python -m outreach scheduler` in a child process, whose log lines the test reads as they come."""

    def __init__(self, environ: dict[str, str], cwd: Path, *options: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "outreach", "scheduler", *options],
            cwd=cwd,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []

    def wait_for(self, text: str, *, timeout: float = 20.0) -> str:
        """Read log lines until one contains `text`; fail after `timeout` seconds or if the process ends."""
        deadline = wall_clock.monotonic() + timeout
        assert self.process.stdout is not None
        while True:
            for line in self.lines:
                if text in line:
                    return line
            left = deadline - wall_clock.monotonic()
            assert left > 0, f"no {text!r} in {timeout}s; the log so far:\n{''.join(self.lines)}"
            ready, _, _ = select_module.select([self.process.stdout], [], [], left)
            if ready:
                line = self.process.stdout.readline()
                assert line, f"the scheduler ended ({self.process.wait()}):\n{''.join(self.lines)}"
                self.lines.append(line)

    def wait_until(self, condition: Callable[[], bool], *, what: str, timeout: float = 30.0) -> None:
        """Look at `condition` after each log line or 0.05 s; reading the log keeps the pipe from filling."""
        deadline = wall_clock.monotonic() + timeout
        assert self.process.stdout is not None
        while not condition():
            assert wall_clock.monotonic() < deadline, f"no {what} in {timeout}s:\n{''.join(self.lines)}"
            assert self.process.poll() is None, f"the scheduler ended:\n{''.join(self.lines)}"
            ready, _, _ = select_module.select([self.process.stdout], [], [], 0.05)
            if ready:
                self.lines.append(self.process.stdout.readline())

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)
        if self.process.stdout is not None:
            self.process.stdout.close()


def child_environment(env: dict[str, str], **overrides: str) -> dict[str, str]:
    """This process's environment without its OUTREACH_* variables, with the test's and `overrides`."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("OUTREACH_")}
    environ.update(env)
    environ.update(overrides)
    # The child imports this very checkout, wherever pytest was started from.
    environ["PYTHONPATH"] = str(Path(outreach.__file__).resolve().parent.parent)
    return environ


@pytest.fixture
def postgres_env(env: dict[str, str], database_url: str) -> dict[str, str]:
    if not database_url.startswith("postgresql"):
        pytest.skip("two schedulers share a database on PostgreSQL only")
    return child_environment(env, OUTREACH_SCHEDULER_POLL="0.2")


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason=SKIP_POSTGRES)
def test_two_schedulers_on_postgresql_one_leads_the_other_takes_over(
    postgres_env: dict[str, str], db: Database, tmp_path: Path
) -> None:
    run("seed")
    first = SchedulerProcess(postgres_env, tmp_path)
    second: SchedulerProcess | None = None
    try:
        first.wait_for("leading (PostgreSQL advisory lock)")
        second = SchedulerProcess(postgres_env, tmp_path)
        second.wait_for("standing by: another scheduler leads")
        assert not any("leading" in line for line in second.lines)
        with JobBook(db) as book:
            assert {"regular-issue", "summer-opener"} <= {job.id for job in book.jobs()}

        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=20)

        second.wait_for("leading (PostgreSQL advisory lock)")
        # The new leader runs what falls due: a send that was due a moment ago goes to the history.
        run("issue", "compose", "--meeting", "plenary:8")
        with JobBook(db) as book:
            book.add_send(1, utcnow() - timedelta(seconds=1))
        with db.session() as session:
            get_issue(session, 1).status = IssueStatus.SCHEDULED
        second.wait_for("job issue:1: ok")
        assert [(r.job_id, r.result) for r in runs(db)] == [("issue:1", "ok")]
    finally:
        first.stop()
        if second is not None:
            second.stop()


# --- the service with its resident worker, as systemd runs it on SQLite ------------------------------


def test_with_worker_on_sqlite_a_scheduled_send_is_delivered_once_by_the_resident_worker_and_recorded_ok(
    ready: Database, env: dict[str, str], smtp_server: SmtpServer, tmp_path: Path
) -> None:
    # The README's systemd unit: `outreach scheduler --with-worker` on one machine. SQLite allows one worker,
    # the resident one, so the scheduled send must leave the delivery to it instead of starting a second.
    if not ready.is_sqlite:
        pytest.skip("on SQLite only one worker may run: the case where a second one was refused")
    run("issue", "compose", "--meeting", "plenary:8")
    environ = child_environment(
        env,
        OUTREACH_SMTP_URL=smtp_server.url,
        OUTREACH_SCHEDULER_POLL="0.1",
        # No regular issue of its own when the test happens to run on the first business day of a month.
        OUTREACH_SCHEDULER_REGULAR="off",
    )
    service = SchedulerProcess(environ, tmp_path, "--with-worker")
    try:
        service.wait_for("leading (")
        service.wait_for("delivering as worker")
        at = (utcnow() + timedelta(seconds=2)).astimezone(JST)
        run("issue", "schedule", "1", "--at", at.isoformat(timespec="seconds"))
        emails = {email for email, _ in SUBSCRIBERS}
        service.wait_until(lambda: set(smtp_server.handler.copies()) == emails, what="delivery to everyone")
        service.wait_until(
            lambda: any(r.job_id == "issue:1" and r.result != "running" for r in runs(ready)),
            what="a finished run of issue:1",
        )
    finally:
        service.stop()

    assert service.process.returncode == 0, "".join(service.lines)
    [record] = runs(ready)
    assert (record.job_id, record.result) == ("issue:1", "ok"), record.detail
    assert "queued for the resident worker" in (record.detail or "")
    assert smtp_server.handler.copies() == dict.fromkeys(emails, 1)
    assert issue_state(ready, 1)[0] == IssueStatus.SENT
