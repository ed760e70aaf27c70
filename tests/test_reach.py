"""`outreach report`: the reach report per organization, after two real sends through a real SMTP server.

The scenario below says what happens to each subscriber in each issue; every expected figure is counted
from it, so that the report is checked against what was done, not against numbers copied from its output.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import select

from outreach.calendar import JST
from outreach.config import Settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue
from outreach.models import (
    AttemptKind,
    BounceClass,
    Delivery,
    DeliveryAttempt,
    Issue,
    Organization,
    Subscriber,
)
from outreach.outbox import record_bounce, record_complaint
from outreach.reach import FIGURES
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases.approval import Acting
from outreach.usecases.sends import start_send
from subscribers.consent import ConsentSource, Origin
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.lifecycle import unsubscribe
from tests.smtp_server import SmtpServer
from tests.test_cli import run
from tests.test_worker import _lanes, _run

DAY = timedelta(days=1)
STARTS = (datetime(2026, 10, 1, 1, 0, tzinfo=UTC), datetime(2026, 11, 2, 1, 0, tzinfo=UTC))  # 10:00 JST
T1, T2 = STARTS
EARLY = T1 - 30 * DAY  # when the first subscribers joined
OK, REFUSED, COMPLAINT = "ok", "refused", "complaint"  # or a bounce class after delivery: hard, soft, policy
BOUNCES = tuple(kind.value for kind in BounceClass)
STATUS_CODES = {"hard": "5.1.1", "soft": "4.2.2", "policy": "5.7.1"}
OPT_OUT_DAYS = 14


@dataclass(frozen=True)
class Person:
    """A subscriber: organization, when they joined, their fate in issues 1 and 2 ("": not a recipient),
    and when they opted out (through a complaint when one of their fates is a complaint)."""

    email: str
    org: str | None
    joined: datetime
    fates: tuple[str, str]
    left: datetime | None = None


PEOPLE = (
    Person("j1@example.jp", "jetro", EARLY, (OK, OK)),
    Person("j2@example.jp", "jetro", EARLY, (OK, "hard")),
    Person("j3@example.jp", "jetro", EARLY, (REFUSED, "")),
    Person("j4@example.jp", "jetro", EARLY, ("hard", "")),
    Person("j5@example.jp", "jetro", EARLY, (COMPLAINT, ""), left=T1 + 2 * DAY),
    Person("j6@example.jp", "jetro", EARLY, (OK, ""), left=T1 + 5 * DAY),
    Person("j7@example.jp", "jetro", T1 + 10 * DAY, ("", OK)),
    Person("j8@example.jp", "jetro", T1 + 10 * DAY, ("", COMPLAINT), left=T2 + DAY),
    Person("c1@example.jp", "jcci", EARLY, (OK, OK)),
    Person("c2@example.jp", "jcci", EARLY, ("soft", "soft")),
    Person("c3@example.jp", "jcci", EARLY, ("policy", OK)),
    Person("c4@example.jp", "jcci", EARLY, (OK, ""), left=T1 + 20 * DAY),  # after the 14 days
    Person("c5@example.jp", "jcci", EARLY, (REFUSED, "")),
    Person("c6@example.jp", "jcci", T1 + 10 * DAY, ("", OK), left=T2 + 3 * DAY),
    Person("k1@example.jp", "chuokai", EARLY, (OK, OK)),
    Person("k2@example.jp", "chuokai", EARLY, (OK, OK), left=T2 + 20 * DAY),
    Person("k3@example.jp", "chuokai", T1 + 15 * DAY, ("", REFUSED)),
    Person("n1@example.jp", None, EARLY, (OK, OK)),
    Person("n2@example.jp", None, T1 + 10 * DAY, ("", OK)),
)
ORGS = ("jetro", "jcci", "chuokai", "network")


# --- the scenario, played through the real engine -------------------------------------------------------


def _join(db: Database, since: datetime | None, until: datetime) -> None:
    with db.session() as session:
        for person in PEOPLE:
            if (since is None or since <= person.joined) and person.joined < until:
                organization = organization_or_none(session, person.org)
                add_subscriber(session, person.email, organization=organization, now=person.joined)


def _send_issue(db: Database, settings: Settings, server: SmtpServer, index: int) -> None:
    """Compose an issue and send it at STARTS[index]; the relay refuses those whose fate says so."""
    server.handler.rcpt_replies.clear()
    for person in PEOPLE:
        if person.fates[index] == REFUSED:
            server.handler.rcpt_replies[person.email] = f"550 5.1.1 <{person.email}>: user unknown"
    with db.session() as session:
        issue = compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 8))])
        start_send(session, issue, now=STARTS[index], by=Acting("cli:tester", ApprovalPolicy.NONE))
    _run(db, settings, _lanes(server), clock=STARTS[index])


def _delivery_id(db: Database, email: str, number: int) -> int:
    with db.session() as session:
        found = session.scalar(
            select(Delivery.id).join(Issue).where(Delivery.email == email, Issue.number == number)
        )
    assert found is not None, (email, number)
    return found


def _subscriber_id(db: Database, email: str) -> int:
    with db.session() as session:
        found = session.scalar(select(Subscriber.id).where(Subscriber.email == email))
    assert found is not None
    return found


def _bounce(db: Database, person: Person, index: int) -> None:
    """Bounce reports a day after the send; a hard one is reported twice, the second time as soft."""
    delivery_id = _delivery_id(db, person.email, index + 1)
    fate = person.fates[index]
    with db.session() as session:
        for days, kind in enumerate([fate, "soft"] if fate == "hard" else [fate], start=1):
            record_bounce(
                session,
                delivery_id,
                bounce_class=BounceClass(kind),
                status_code=STATUS_CODES[kind],
                diagnostic=f"{STATUS_CODES[kind]} test bounce",
                limit=3,
                window=timedelta(days=30),
                now=STARTS[index] + days * DAY,
            )


def _complain(db: Database, person: Person, index: int) -> None:
    """A feedback-loop complaint, and the unsubscription it leads to, when the person left."""
    assert person.left is not None
    delivery_id = _delivery_id(db, person.email, index + 1)
    with db.session() as session:
        returned = record_complaint(session, delivery_id, feedback_type="abuse", now=person.left)
        unsubscribe(session, returned.subscriber_id, Origin(ConsentSource.COMPLAINT), now=person.left)


def _reports_back(db: Database, index: int) -> None:
    for person in PEOPLE:
        if person.fates[index] in BOUNCES:
            _bounce(db, person, index)
        elif person.fates[index] == COMPLAINT:
            _complain(db, person, index)


def _opt_out(db: Database, since: datetime, until: datetime) -> None:
    """The opt-outs (not complaints) between the two moments, through the subscription lifecycle."""
    for person in PEOPLE:
        if COMPLAINT in person.fates or person.left is None or not since <= person.left < until:
            continue
        subscriber_id = _subscriber_id(db, person.email)
        with db.session() as session:
            unsubscribe(session, subscriber_id, Origin(ConsentSource.WEB), now=person.left)


def _play(db: Database, settings: Settings, server: SmtpServer) -> None:
    ends = (*STARTS[1:], STARTS[-1] + 60 * DAY)
    _join(db, None, STARTS[0])
    for index, (start, end) in enumerate(zip(STARTS, ends, strict=True)):
        _send_issue(db, settings, server, index)
        _reports_back(db, index)
        _opt_out(db, start, end)
        _join(db, start, end)


@pytest.fixture
def played(seeded_db: Database, settings: Settings, smtp_server: SmtpServer) -> Database:
    _play(seeded_db, settings, smtp_server)
    return seeded_db


# --- what the report should say, counted from the scenario -----------------------------------------------


Rows = dict[str, dict[str, int]]


def _expected(indexes: list[int], joined: tuple[datetime | None, datetime], opt_outs_from: datetime) -> Rows:
    """Per organization: the messages of these issues, opt-outs from `opt_outs_from` for OPT_OUT_DAYS
    after the window's end by their recipients, and the subscribers who joined within `joined`."""
    opt_outs_until = max(joined[1], opt_outs_from) + OPT_OUT_DAYS * DAY
    rows: dict[str, Counter[str]] = {slug: Counter() for slug in ORGS}
    for person in PEOPLE:
        row = rows[person.org or "network"]
        since, until = joined
        row["new_subscribers"] += (since is None or since <= person.joined) and person.joined < until
        fates = [person.fates[index] for index in indexes if person.fates[index]]
        left = person.left
        row["unsubscribed"] += bool(fates) and left is not None and opt_outs_from <= left < opt_outs_until
        for fate in fates:
            row["subscribers"] += 1
            row["accepted"] += fate != REFUSED
            row["complaints"] += fate == COMPLAINT
            row["delivered"] += fate not in (REFUSED, *BOUNCES)
            if fate in BOUNCES:
                row[f"bounced_{fate}"] += 1
    return {slug: {name: row[name] for name in FIGURES} for slug, row in rows.items()}


def _expected_issue(index: int) -> Rows:
    start = STARTS[index]
    return _expected([index], (STARTS[index - 1] if index else None, start), start)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=JST)


def _expected_period(first: date, last: date) -> Rows:
    start, end = _midnight(first), _midnight(last + DAY)
    indexes = [index for index, started in enumerate(STARTS) if start <= started < end]
    return _expected(indexes, (start, end), start)


def _minus(now: Rows, before: Rows) -> Rows:
    return {slug: {name: now[slug][name] - before[slug][name] for name in FIGURES} for slug in now}


def _total(rows: Rows) -> dict[str, int]:
    return {name: sum(row[name] for row in rows.values()) for name in FIGURES}


def _report(*args: str) -> dict[str, Any]:
    result = run("report", *args, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _figures_of(data: dict[str, Any]) -> Rows:
    """The JSON's rows, checking that every organization not in the scenario shows only zeros."""
    rows = {row["slug"]: {name: row[name] for name in FIGURES} for row in data["rows"]}
    for slug, row in rows.items():
        if slug not in ORGS:
            assert set(row.values()) == {0}, slug
    return {slug: rows[slug] for slug in ORGS}


def _changes_of(data: dict[str, Any]) -> Rows:
    return {row["slug"]: row["change"] for row in data["rows"] if row["slug"] in ORGS}


# --- the tests ---------------------------------------------------------------------------------------------


def test_an_issue_report_counts_what_became_of_each_message_per_organization(played: Database) -> None:
    first, second = _report("--issue", "1"), _report("--issue", "2")

    assert _figures_of(first) == _expected_issue(0)
    assert first["totals"]["change"] is None
    assert {name: first["totals"][name] for name in FIGURES} == _total(_expected_issue(0))
    assert first["compared_with"] is None
    assert all(row["change"] is None for row in first["rows"])
    assert _figures_of(second) == _expected_issue(1)
    assert second["compared_with"]["issues"] == [1]
    assert _changes_of(second) == _minus(_expected_issue(1), _expected_issue(0))
    assert second["totals"]["change"] == {
        name: _total(_expected_issue(1))[name] - _total(_expected_issue(0))[name] for name in FIGURES
    }
    assert second["issues"] == [2]
    assert second["send_started_at"] == T2.astimezone(JST).isoformat()
    assert second["status"] == "sent"
    with played.session() as session:
        order = list(session.scalars(select(Organization.slug).order_by(Organization.position)))
    assert [row["slug"] for row in second["rows"]] == order
    assert order[0] == "network"


def test_the_scenario_covers_every_figure(played: Database) -> None:
    """Guard the test itself: each figure is non-zero somewhere, the late opt-outs are left out, and a
    bounce reported twice is in the ledger twice."""
    first, second = _expected_issue(0), _expected_issue(1)
    for name in FIGURES:
        assert _total(first)[name] or _total(second)[name], name
    assert first["jcci"]["unsubscribed"] == 0  # c4 left after 14 days
    assert second["chuokai"]["unsubscribed"] == 0  # k2 too
    # j4's hard bounce was reported twice, the second time as soft: it counts once, as hard
    with played.session() as session:
        reports = session.scalars(
            select(DeliveryAttempt.bounce_class).where(
                DeliveryAttempt.delivery_id == _delivery_id(played, "j4@example.jp", 1),
                DeliveryAttempt.kind == AttemptKind.BOUNCE,
            )
        ).all()
    assert sorted(reports) == [BounceClass.HARD, BounceClass.SOFT]
    jetro = _figures_of(_report("--issue", "1"))["jetro"]
    assert (jetro["bounced_hard"], jetro["bounced_soft"]) == (1, 0)


def test_a_period_sums_its_issues_and_compares_with_the_period_before(played: Database) -> None:
    both = _report("--from", "2026-10-01", "--to", "2026-11-02")
    assert both["issues"] == [1, 2]
    assert both["period"] == {"from": "2026-10-01", "to": "2026-11-02"}
    assert _figures_of(both) == _expected_period(date(2026, 10, 1), date(2026, 11, 2))
    before = _expected_period(date(2026, 8, 29), date(2026, 9, 30))
    assert both["compared_with"] == {
        "issues": [],
        "period": {"from": "2026-08-29", "to": "2026-09-30"},
        "send_started_at": None,
        "status": None,
    }
    assert _changes_of(both) == _minus(_expected_period(date(2026, 10, 1), date(2026, 11, 2)), before)

    second = _report("--from", "2026-10-16", "--to", "2026-11-15")
    assert (second["issues"], second["compared_with"]["issues"]) == ([2], [1])
    now = _expected_period(date(2026, 10, 16), date(2026, 11, 15))
    assert _figures_of(second) == now
    assert _changes_of(second) == _minus(now, _expected_period(date(2026, 9, 15), date(2026, 10, 15)))

    text = run("report", "--from", "2026-10-01", "--to", "2026-11-02").stdout
    assert "期間：2026年10月1日〜2026年11月2日（日本時間）　対象：第1号〜第2号（計2号）" in text
    assert "前期比：2026年8月29日〜2026年9月30日との差　対象：なし" in text
    english = run("report", "--from", "2026-10-01", "--to", "2026-11-02", "--lang", "en").stdout
    assert "Period: 1 October 2026 to 2 November 2026 (Japan time); issues: No. 1–2 (2 issues)" in english


def _masked(count: int) -> int | str:
    return "<5" if 0 < count < 5 else count


def test_mask_small_hides_counts_under_five_in_every_format(played: Database) -> None:
    data = _report("--issue", "2", "--mask-small")
    now, before = _expected_issue(1), _expected_issue(0)

    assert data["masked"] is True
    for row in data["rows"]:
        if row["slug"] not in ORGS:
            continue
        for name in FIGURES:
            count, earlier = now[row["slug"]][name], before[row["slug"]][name]
            assert row[name] == _masked(count)
            hidden = any(0 < number < 5 for number in (count, earlier))  # a masked count on either side
            assert row["change"][name] == ("–" if hidden else count - earlier)
    total = _total(now)
    assert {name: data["totals"][name] for name in FIGURES} == {n: _masked(c) for n, c in total.items()}

    table = run("report", "--issue", "2", "--mask-small").stdout
    assert "<5" in table
    assert "「<5」" in table  # the note says what it means
    sheet = run("report", "--issue", "2", "--mask-small", "--csv").stdout_bytes.decode("utf-8-sig")
    assert "<5" in sheet
    assert "–" in sheet


def _csv(*args: str) -> list[list[str]]:
    result = run("report", *args, "--csv")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(result.stdout_bytes.decode("utf-8-sig"))))


def test_csv_carries_every_figure_and_change_and_reads_back(played: Database) -> None:
    header, *rows = _csv("--issue", "2")
    data = _report("--issue", "2")

    assert header[:4] == ["組織コード", "組織", "配信対象", "受理"]
    assert "到達の前号比" in header
    assert len(header) == 2 + 2 * len(FIGURES)
    assert [row[0] for row in rows] == [row["slug"] for row in data["rows"]] + ["total"]
    for line, item in zip(rows, [*data["rows"], data["totals"]], strict=True):
        figures = [int(cell) for cell in line[2 : 2 + len(FIGURES)]]
        changes = [int(cell) for cell in line[2 + len(FIGURES) :]]
        assert figures == [item[name] for name in FIGURES]
        assert changes == [item["change"][name] for name in FIGURES]
    assert rows[-1][1] == "合計"
    with played.session() as session:
        jcci = session.scalars(select(Organization).where(Organization.slug == "jcci")).one()
    assert [row[1] for row in rows if row[0] == "jcci"] == [jcci.name_ja]

    english_header, *english_rows = _csv("--issue", "1", "--lang", "en")
    assert english_header[:3] == ["slug", "organization", "Subscribers"]
    assert len(english_header) == 2 + len(FIGURES)  # no earlier issue: no change columns
    assert [row[1] for row in english_rows if row[0] == "jcci"] == [jcci.name_en]


def test_the_table_reads_in_japanese_by_default_and_in_english_on_request(played: Database) -> None:
    result = run("report", "--issue", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    now, before = _total(_expected_issue(1)), _total(_expected_issue(0))

    assert lines[0] == "第2号の到達状況（配信開始：2026年11月2日 10:00 JST）"
    assert lines[1] == "前号比：第1号（2026年10月1日 10:00 JST）との差"
    header = next(line for line in lines if line.startswith("組織"))
    for heading in (
        "配信対象",
        "配信対象の前号比",
        "受理",
        "不達（恒久）",
        "不達（一時）",
        "不達（ポリシー）",
    ):
        assert heading in header
    for heading in ("苦情", "到達", "到達の前号比", "配信停止（14日以内）", "新規登録"):
        assert heading in header
    total = next(line for line in lines if line.startswith("合計")).split()
    delivered_change = now["delivered"] - before["delivered"]
    sign = "+" if delivered_change > 0 else "−" if delivered_change < 0 else "±"
    assert total[1] == f"{now['subscribers']:,}"
    assert total[9] == f"{sign}{abs(delivered_change):,}"
    with played.session() as session:
        names = dict(session.execute(select(Organization.slug, Organization.name_ja)).all())
    assert any(line.startswith(names["jetro"]) for line in lines)
    table = lines[lines.index("") + 1 : lines.index("", lines.index("") + 1)]
    assert len(table) == 1 + 1 + len(names) + 1 + 1  # header, rule, every organization, rule, total
    assert len({_display_width(line) for line in table}) == 1  # right-aligned: every line ends together

    english = run("report", "--issue", "2", "--lang", "en").stdout.splitlines()
    assert english[0] == "Reach of issue No. 2 (send started 2 November 2026, 10:00 JST)"
    assert english[1] == "Change: against No. 1 (send started 1 October 2026, 10:00 JST)"
    assert any(line.startswith("Organization") and "Hard bounces" in line for line in english)
    assert any(line.startswith("Total") for line in english)
    first = run("report", "--issue", "1", "--lang", "en").stdout
    assert "Change: there is no earlier issue." in first
    assert "Subscribers: change" not in first


def _display_width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in line)


def _fails(*args: str) -> Result:
    result = run("report", *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    return result


def test_wrong_options_end_in_one_line_and_exit_2(seeded_db: Database, env: dict[str, str]) -> None:
    with seeded_db.session() as session:
        compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 8))])

    assert "either --issue" in _fails().stderr
    assert "either --issue" in _fails("--issue", "1", "--from", "2026-10-01", "--to", "2026-10-02").stderr
    assert "either --issue" in _fails("--from", "2026-10-01").stderr
    assert "after its last day" in _fails("--from", "2026-11-02", "--to", "2026-10-01").stderr
    assert "'2026-02-30' is not a date" in _fails("--from", "2026-02-30", "--to", "2026-03-01").stderr
    assert "--to 'tomorrow'" in _fails("--from", "2026-02-01", "--to", "tomorrow").stderr
    assert "no issue No. 99" in _fails("--issue", "99").stderr
    assert "has not been sent yet" in _fails("--issue", "1").stderr
    assert "--csv and --json" in _fails("--issue", "1", "--csv", "--json").stderr


def test_a_period_without_issues_says_so(seeded_db: Database, env: dict[str, str]) -> None:
    result = run("report", "--from", "2026-04-01", "--to", "2026-04-30")
    assert result.exit_code == 0, result.output
    assert "対象：なし" in result.stdout
    assert "この期間に配信を始めた号はありません。" in result.stdout


def test_an_issue_still_sending_is_reported_as_not_final(seeded_db: Database, env: dict[str, str]) -> None:
    with seeded_db.session() as session:
        jcci = organization_or_none(session, "jcci")
        add_subscriber(session, "only@example.jp", organization=jcci, now=EARLY)
        issue = compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 8))])
        # No worker runs: the message waits in the queue.
        start_send(session, issue, now=T1, by=Acting("cli:tester", ApprovalPolicy.NONE))

    result = run("report", "--issue", "1", "--lang", "en")

    assert result.exit_code == 0, result.output
    assert "Note: this issue is still sending; the figures are not final." in result.stdout
    jcci = next(row for row in _report("--issue", "1")["rows"] if row["slug"] == "jcci")
    assert (jcci["subscribers"], jcci["accepted"], jcci["delivered"], jcci["new_subscribers"]) == (1, 0, 0, 1)
