"""The scheduling commands, in-process on real databases: what they print; bad input changes nothing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from outreach.calendar import JST, format_jst, next_business_morning
from outreach.cli import cli
from outreach.cli.common import App
from outreach.cli.schedule import send_with
from outreach.db import Database
from outreach.issues import get_issue
from outreach.jobs import JobRuntime, scheduled_send
from outreach.models import IssueStatus, utcnow
from outreach.planner import JobBook
from tests.conftest import snapshot

SUMMARY_JA = "第9回本会合では、**各参加組織**の取組が紹介されました。"
SUMMARY_EN = "At the 9th plenary, **each member** presented its work."
NEXT_YEAR = utcnow().astimezone(JST).year + 1


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def ready(env: dict[str, str], db: Database, tmp_path: Path) -> Database:
    assert run("seed").exit_code == 0
    assert run("issue", "compose", "--meeting", "plenary:8").exit_code == 0
    (tmp_path / "p9.ja.md").write_text(SUMMARY_JA, encoding="utf-8")
    (tmp_path / "p9.en.md").write_text(SUMMARY_EN, encoding="utf-8")
    return db


def test_schedule_an_issue_list_it_and_cancel_it(ready: Database) -> None:
    scheduled = run("issue", "schedule", "1", "--at", f"{NEXT_YEAR}-11-24 10:00")

    assert scheduled.exit_code == 0, scheduled.output
    assert f"issue No. 1 goes out {NEXT_YEAR}-11-24 10:00 JST (job issue:1)" in scheduled.output
    listing = run("schedule", "list")
    assert listing.exit_code == 0
    assert f"issue:1         {NEXT_YEAR}-11-24 10:00 JST  send issue No. 1 (once)" in listing.output
    with ready.session() as session:
        issue = get_issue(session, 1)
        assert issue.status == IssueStatus.SCHEDULED
        assert issue.scheduled_at == datetime(NEXT_YEAR, 11, 24, 10, 0, tzinfo=JST)

    moved = run("issue", "schedule", "1", "--at", f"{NEXT_YEAR}-11-24 10:00", "--tz", "UTC")
    assert f"goes out {NEXT_YEAR}-11-24 19:00 JST" in moved.output
    with JobBook(ready) as book:
        assert [(job.id, job.next_run) for job in book.jobs()] == [
            ("issue:1", datetime(NEXT_YEAR, 11, 24, 19, 0, tzinfo=JST))
        ]

    cancelled = run("schedule", "cancel", "issue:1")
    assert cancelled.exit_code == 0
    assert "cancelled the send of issue No. 1; it is a draft again" in cancelled.output
    assert "nothing planned" in run("schedule", "list").output
    with ready.session() as session:
        assert (get_issue(session, 1).status, get_issue(session, 1).scheduled_at) == (IssueStatus.DRAFT, None)


def test_a_day_that_is_no_business_day_is_pointed_out(ready: Database) -> None:
    result = run("issue", "schedule", "1", "--at", f"{NEXT_YEAR}-12-30 10:00")

    assert result.exit_code == 0
    assert "note: that day is 年末年始, not a business day in Japan" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("issue", "schedule", "7", "--at", f"{NEXT_YEAR}-12-01 10:00"), "there is no issue No. 7"),
        (("issue", "schedule", "1", "--at", "2020-12-01 10:00"), "2020-12-01 10:00 JST is not in the future"),
        (("issue", "schedule", "1", "--at", "next tuesday"), "cannot read 'next tuesday' as a date and time"),
        (("issue", "schedule", "1", "--at", f"{NEXT_YEAR}-12-01"), "as a date and time"),
        (
            ("issue", "schedule", "1", "--at", f"{NEXT_YEAR}-12-01 10:00", "--tz", "Asia/Edo"),
            "unknown time zone",
        ),
        (("schedule", "cancel", "issue:1"), "issue No. 1 has no planned send"),
        (("schedule", "cancel", "nightly"), "there is no job 'nightly'"),
        (("schedule", "cancel", "regular-issue"), "OUTREACH_SCHEDULER_REGULAR=off"),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(ready: Database, args: tuple[str, ...], message: str) -> None:
    before = snapshot(ready)

    result = run(*args)

    assert result.exit_code == 2
    assert message in result.output
    assert snapshot(ready) == before


def test_an_issue_already_sent_cannot_be_scheduled(ready: Database) -> None:
    assert run("subscribers", "add", "a.tanaka@example.jp", "--org", "jetro").exit_code == 0
    assert run("issue", "send", "1").exit_code == 0  # no SMTP server set: to the outbox folder
    before = snapshot(ready)

    result = run("issue", "schedule", "1", "--at", f"{NEXT_YEAR}-12-01 10:00")

    assert result.exit_code == 2
    assert "issue No. 1 is sent: only a draft or a scheduled issue can be scheduled" in result.output
    assert snapshot(ready) == before


def test_history_shows_each_run_newest_first(ready: Database) -> None:
    assert "no job has run yet" in run("schedule", "history").output
    due = datetime(NEXT_YEAR, 12, 1, 10, 0, tzinfo=JST)
    assert run("issue", "schedule", "1", "--at", f"{NEXT_YEAR}-12-01 10:00").exit_code == 0
    late = JobRuntime(
        db=ready, send=send_with(App()), grace=timedelta(minutes=30), clock=lambda: due + timedelta(hours=1)
    )
    asyncio.run(scheduled_send(late, 1, scheduled_for=due))
    asyncio.run(scheduled_send(late, 1, scheduled_for=due))

    history = run("schedule", "history", "--limit", "5")

    assert history.exit_code == 0
    lines = history.output.splitlines()
    assert lines[0].startswith(f"{NEXT_YEAR}-12-01 11:00 JST to 11:00")
    assert "issue:1" in lines[0]
    assert "skipped" in lines[0]
    assert f"(due {NEXT_YEAR}-12-01 10:00 JST)" in lines[0]
    assert lines[1] == "    issue No. 1 is a draft again (it was unscheduled): nothing sent"
    assert "missed" in lines[2]
    assert "beyond the 30 min grace period" in lines[3]
    assert len(run("schedule", "history", "--limit", "1").output.splitlines()) == 2
    assert "no job has run yet" in run("schedule", "history", "--job", "regular-issue").output


def test_publish_a_plenary_records_composes_previews_and_schedules(ready: Database, tmp_path: Path) -> None:
    before = utcnow()

    result = run(
        "meeting", "publish", "plenary:9", "--summary", "p9.ja.md", "--summary-en", "p9.en.md",
        "--date", "2026-11-20", "--format", "hybrid",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    expected = {format_jst(next_business_morning(before)), format_jst(next_business_morning(utcnow()))}
    assert "recorded plenary:9 held on 2026-11-20" in result.output
    assert "composed issue No. 2: 【海外安全メールマガジン 第2号】第9回本会合の開催結果" in result.output
    assert any(f"goes out {when} (the next business morning)" in result.output for when in expected)
    previews = [
        line.strip() for line in result.output.splitlines() if line.startswith("  ") and ".html" in line
    ]
    assert [Path(p).name for p in previews] == [
        "network.ja.html",
        "network.en.html",
        "jetro.ja.html",
        "jcci.ja.html",
    ]
    assert all(Path(p).parent == tmp_path / "var" / "preview" / "issue-0002" for p in previews)
    jcci = Path(previews[3]).read_text(encoding="utf-8")
    assert "日本商工会議所" in jcci
    assert "<strong>各参加組織</strong>" in jcci
    assert "<strong>each member</strong>" in Path(previews[1]).read_text(encoding="utf-8")
    with ready.session() as session:
        issue = get_issue(session, 2)
        assert issue.status == IssueStatus.SCHEDULED
        assert issue.scheduled_at is not None
        assert format_jst(issue.scheduled_at) in expected
    with JobBook(ready) as book:
        assert [job.id for job in book.jobs()] == ["issue:2"]


def test_publish_at_a_set_time(ready: Database) -> None:
    result = run(
        "meeting", "publish", "plenary:9", "--summary", "p9.ja.md", "--send-at", f"{NEXT_YEAR}-11-24 09:30",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert f"planned: issue No. 2 goes out {NEXT_YEAR}-11-24 09:30 JST\n" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("plenary:8", "--summary", "p9.ja.md"), "meeting plenary:8 is already recorded"),
        (("plenary:9", "--summary", "missing.md"), "cannot read missing.md"),
        (("plenary:9", "--summary", "p9.ja.md", "--send-at", "2021-01-04 10:00"), "is not in the future"),
        (("plenary:9", "--summary", "p9.ja.md", "--send-at", "soon"), "cannot read 'soon'"),
        (("plenary-9", "--summary", "p9.ja.md"), "a meeting is named kind:number"),
    ],
)
def test_publish_refuses_bad_input_and_changes_nothing(
    ready: Database, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    before = snapshot(ready)

    result = run("meeting", "publish", *args)

    assert result.exit_code == 2
    assert message in result.output
    assert snapshot(ready) == before
    assert not (tmp_path / "var" / "preview").exists()


def test_publish_in_iso_2022_jp_refuses_a_summary_it_cannot_carry_then_publishes_one_it_can(
    ready: Database, tmp_path: Path
) -> None:
    (tmp_path / "circled.md").write_text("彅安全対策セミナーの拡充が報告されました。", encoding="utf-8")
    before = snapshot(ready)

    refused = run("meeting", "publish", "plenary:9", "--summary", "circled.md", "--charset", "iso-2022-jp")

    assert refused.exit_code == 2
    assert "彅 (U+5F45) in the Japanese summary of plenary:9" in refused.output
    assert snapshot(ready) == before
    assert not (tmp_path / "var" / "preview").exists()

    published = run("meeting", "publish", "plenary:9", "--summary", "p9.ja.md", "--charset", "iso-2022-jp")

    assert published.exit_code == 0, published.output
    with ready.session() as session:
        issue = get_issue(session, 2)
        assert (issue.charset, issue.status) == ("iso-2022-jp", IssueStatus.SCHEDULED)
