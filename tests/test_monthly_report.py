"""The monthly reach report by mail: composed from the ledger, sent through a real SMTP server (aiosmtpd) to
each organization that asked for it, in its language, once a month and never twice; a refused mail is one
organization's failure, tried again at the next run. The scheduler's job, its registration on the first
business day, and `outreach report monthly` by hand (both databases).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from outreach.calendar import JST, MonthlyMorning, first_business_day, is_business_day
from outreach.config import Settings, SmtpRelay
from outreach.db import Database
from outreach.jobs import MONTHLY_REPORT_JOB, SCHEDULER, JobRuntime, monthly_reports
from outreach.members.models import MonthlyReport, OrganizationProfile
from outreach.members.monthly import Month, MonthlyReports
from outreach.models import JobRun, Organization
from outreach.schedule_settings import SchedulerSettings
from outreach.staff.models import AuditEvent
from tests.scheduler_support import jobs_planned_on_leading, send_nothing
from tests.smtp_server import SmtpServer
from tests.test_cli import run
from tests.test_console_reach import PEOPLE, STARTS, expected, play

DEC_1 = datetime(2026, 12, 1, 10, 0, tzinfo=JST)  # a Tuesday: the first business day of December
NOVEMBER = Month(2026, 11)
# (organization, monthly report on, address, language): JETRO and JCCI asked for it; Chuokai asked but gave
# no address; SMRJ gave an address but did not ask.
PROFILES = (
    ("jetro", True, "kouhou@jetro.example.jp", "ja"),
    ("jcci", True, "info@jcci.example.jp", "en"),
    ("chuokai", True, "", "ja"),
    ("smrj", False, "report@smrj.example.jp", "ja"),
)


def _profiles(db: Database) -> None:
    with db.session() as session:
        ids = dict(session.execute(select(Organization.slug, Organization.id)).all())
        for slug, wanted, email, language in PROFILES:
            session.add(
                OrganizationProfile(
                    organization_id=ids[slug], monthly_report=wanted, email=email, report_language=language
                )
            )


@pytest.fixture
def relay_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    return replace(settings, smtp=SmtpRelay.from_url(smtp_server.url))


@pytest.fixture
def month_sent(seeded_db: Database, relay_settings: Settings, smtp_server: SmtpServer) -> Iterator[Database]:
    """The scenario's three issues (September, October, November), and the organizations' profiles."""
    play(seeded_db, relay_settings, smtp_server)
    _profiles(seeded_db)
    smtp_server.handler.messages.clear()
    return seeded_db


def _send(db: Database, settings: Settings, month: Month = NOVEMBER) -> list[str]:
    reports = MonthlyReports(db, settings, clock=lambda: DEC_1)
    run_ = asyncio.run(reports.send(month, actor=SCHEDULER))
    return sorted(run_.sent)


def _recorded(db: Database) -> list[tuple[str, str, str]]:
    with db.session() as session:
        rows = session.execute(
            select(Organization.slug, MonthlyReport.month, MonthlyReport.sent_to)
            .join(Organization, Organization.id == MonthlyReport.organization_id)
            .order_by(Organization.slug)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_the_report_reaches_each_organization_that_asked_once_in_its_language(
    month_sent: Database, relay_settings: Settings, smtp_server: SmtpServer
) -> None:
    assert _send(month_sent, relay_settings) == ["jcci", "jetro"]

    received = {copy.parsed()["To"]: copy.parsed() for copy in smtp_server.handler.messages}
    assert sorted(received) == ["info@jcci.example.jp", "kouhou@jetro.example.jp"]
    japanese, english = received["kouhou@jetro.example.jp"], received["info@jcci.example.jp"]
    assert str(japanese["Subject"]) == "【海外安全メールマガジン】2026年11月の到達状況（日本貿易振興機構）"
    assert str(english["Subject"]).startswith("[Overseas Safety Mail Magazine] Reach in November 2026")
    assert japanese["Auto-Submitted"] == "auto-generated"
    text = japanese.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    jetro = expected("jetro", 2)  # issue No. 3 went out in November
    assert "第3号（2026年11月2日）" in text
    assert f"到達：{jetro['delivered']} / 不達：{jetro['undelivered']}" in text
    assert f"転送（団体の報告）：{jetro['forwarded']}" in text
    assert "第2号" not in text  # October's
    assert "/admin/organizations/jetro/reach" in text
    page = japanese.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<table" in page
    assert "到達状況のページを開く" in page
    english_text = english.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Issue No. 3" in english_text
    assert "/en/admin/organizations/jcci/reach" in english_text
    assert "Delivered: " in english_text

    assert _recorded(month_sent) == [
        ("jcci", "2026-11", "info@jcci.example.jp"),
        ("jetro", "2026-11", "kouhou@jetro.example.jp"),
    ]
    with month_sent.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "report.monthly")).all()
        assert sorted((e.actor, e.target) for e in events) == [
            ("scheduler", "organization jcci"),
            ("scheduler", "organization jetro"),
        ]

    assert _send(month_sent, relay_settings) == []  # a second run of the month sends nothing
    assert len(smtp_server.handler.messages) == 2


def test_a_month_without_issues_still_tells_the_months_growth(
    month_sent: Database, relay_settings: Settings, smtp_server: SmtpServer
) -> None:
    assert _send(month_sent, relay_settings, Month(2026, 8)) == ["jcci", "jetro"]
    [jetro] = smtp_server.handler.to("kouhou@jetro.example.jp")
    text = jetro.parsed().get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "2026年8月に配信した号はありません。" in text
    joined = sum(1 for person in PEOPLE if person.org == "jetro" and person.joined.astimezone(JST).month == 8)
    assert joined == 3  # the scenario's early subscribers joined in August
    assert f"新規登録 {joined}、購読終了 0、純増 +{joined}" in text


def test_a_refused_mail_does_not_stop_the_others_and_is_tried_again_at_the_next_run(
    month_sent: Database, relay_settings: Settings, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.rcpt_replies["info@jcci.example.jp"] = (
        "550 5.1.1 <info@jcci.example.jp>: user unknown"
    )
    reports = MonthlyReports(month_sent, relay_settings, clock=lambda: DEC_1)
    first = asyncio.run(reports.send(NOVEMBER, actor=SCHEDULER))
    assert (first.sent, list(first.failed)) == (["jetro"], ["jcci"])
    assert "550" in first.failed["jcci"]
    assert "tried again at the next run" in first.describe()
    assert _recorded(month_sent) == [("jetro", "2026-11", "kouhou@jetro.example.jp")]

    smtp_server.handler.rcpt_replies.clear()
    assert _send(month_sent, relay_settings) == ["jcci"]
    assert [copy.parsed()["To"] for copy in smtp_server.handler.messages] == [
        "kouhou@jetro.example.jp",
        "info@jcci.example.jp",
    ]


# --- the scheduler ------------------------------------------------------------------------------------


def test_the_scheduler_job_reports_the_month_before_it_was_due_once(
    month_sent: Database, relay_settings: Settings, smtp_server: SmtpServer
) -> None:
    async def nothing(number: int) -> str:
        raise AssertionError("the monthly report sends no issue")

    late = DEC_1 + timedelta(days=3)  # found late: still the report of November, as it was due on Dec 1
    runtime = JobRuntime(
        db=month_sent, send=nothing, grace=timedelta(minutes=120), clock=lambda: late, site=relay_settings
    )
    first = asyncio.run(monthly_reports(runtime, MonthlyMorning()))
    again = asyncio.run(monthly_reports(runtime, MonthlyMorning()))

    assert (first.result, again.result) == ("ok", "skipped")
    assert "the report of 2026-11 sent to 2 organization(s)" in first.detail
    assert len(smtp_server.handler.messages) == 2
    with month_sent.session() as session:
        runs = session.scalars(select(JobRun).order_by(JobRun.id)).all()
        assert [(r.job_id, r.result, r.scheduled_for) for r in runs] == [
            (MONTHLY_REPORT_JOB, "ok", DEC_1),
            (MONTHLY_REPORT_JOB, "skipped", DEC_1),
        ]


def test_the_scheduler_registers_the_job_on_the_first_business_day_at_the_morning_send_time(
    db: Database,
) -> None:
    settings = SchedulerSettings(poll=0.05, send_at=time(9, 30))

    seen = jobs_planned_on_leading(
        db, JobRuntime(db=db, send=send_nothing, grace=timedelta(minutes=120)), settings
    )
    next_run = seen[MONTHLY_REPORT_JOB]
    assert next_run is not None
    local = next_run.astimezone(JST)
    assert is_business_day(local.date())
    assert local.date() == first_business_day(local.year, local.month)
    assert (local.hour, local.minute) == (9, 30)
    assert {"regular-issue", "summer-opener"} <= set(seen)


# --- by hand ------------------------------------------------------------------------------------------


def test_outreach_report_monthly_by_hand(
    env: dict[str, str],
    month_sent: Database,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OUTREACH_SMTP_URL", smtp_server.url)
    dry = run("report", "monthly", "--month", "2026-11", "--dry-run")
    assert dry.exit_code == 0, dry.output
    # in the network's order
    assert (
        "would go to jcci <info@jcci.example.jp> (en), jetro <kouhou@jetro.example.jp> (ja)\n" in dry.stdout
    )
    assert smtp_server.handler.messages == []
    assert _recorded(month_sent) == []

    sent = run("report", "monthly", "--month", "2026-11")
    assert sent.exit_code == 0, sent.output
    assert "sent to 2 organization(s): jcci, jetro" in sent.stdout
    assert run("report", "monthly", "--month", "2026-11").stdout.startswith(
        "the report of 2026-11: nobody is due"
    )
    assert len(smtp_server.handler.messages) == 2

    wrong = run("report", "monthly", "--month", "2026-13")
    assert wrong.exit_code == 2
    assert "is not a month written YYYY-MM" in wrong.stderr
    assert STARTS[-1].astimezone(JST).month == 11  # the scenario's last issue is November's
