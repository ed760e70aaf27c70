"""The organizations' reach pages over real HTTP (uvicorn, httpx, both databases), and `outreach report`'s
forwarding column.

The ledger is made the way sends make it: three issues, each started with `start_send` at its own moment and
delivered by a real worker run through a test SMTP server that refuses some recipients (550: they bounce, and
their subscription ends); subscribers join and opt out between the issues through the subscription
lifecycle, and two organizations report forwarding. Every figure a page shows is counted from the scenario
below, not copied from the page.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from outreach.config import Settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue, get_issue
from outreach.members.models import ForwardReport
from outreach.models import Organization, Subscriber
from outreach.staff.models import AuditEvent, StaffRole
from outreach.usecases.sends import start_send
from subscribers.consent import ConsentSource, Origin
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.lifecycle import unsubscribe
from tests.conftest import snapshot
from tests.console_support import Console, add_user, served
from tests.smtp_server import SmtpServer
from tests.test_cli import run
from tests.test_console_http import UNCHECKED, logged_in, without
from tests.test_worker import _lanes, _run

DAY = timedelta(days=1)
STARTS = (  # 10:00 JST
    datetime(2026, 9, 1, 1, 0, tzinfo=UTC),
    datetime(2026, 10, 1, 1, 0, tzinfo=UTC),
    datetime(2026, 11, 2, 1, 0, tzinfo=UTC),
)
EARLY = STARTS[0] - 30 * DAY
AFTER = STARTS[-1] + 60 * DAY


@dataclass(frozen=True)
class Person:
    """A subscriber: organization, when they joined, the issue (index) whose message the relay refused
    (their subscription then ends: a hard bounce), when they opted out."""

    email: str
    org: str | None
    joined: datetime
    refused: int | None = None
    left: datetime | None = None
    language: str = "ja"


PEOPLE = (
    Person("j1@example.jp", "jetro", EARLY),
    Person("j2@example.jp", "jetro", EARLY, refused=0),
    Person("j3@example.jp", "jetro", EARLY, left=STARTS[0] + 3 * DAY),
    Person("j4@example.jp", "jetro", STARTS[0] + 5 * DAY),
    Person("j5@example.jp", "jetro", STARTS[1] + 2 * DAY, refused=2),
    Person("j6@example.jp", "jetro", STARTS[0] + 6 * DAY, left=STARTS[1] + 20 * DAY),
    Person("j7@example.jp", "jetro", STARTS[1] + 4 * DAY, language="en"),
    Person("c1@example.jp", "jcci", EARLY),
    Person("c2@example.jp", "jcci", EARLY, refused=1),
    Person("c3@example.jp", "jcci", EARLY, left=STARTS[1] + DAY, language="en"),
    Person("c4@example.jp", "jcci", STARTS[1] + 3 * DAY),
    Person("k1@example.jp", "chuokai", EARLY),
    Person("k2@example.jp", "chuokai", STARTS[0] + DAY),
    Person("n1@example.jp", None, EARLY),
    Person("n2@example.jp", None, EARLY, refused=0),
)
FORWARDED = {("jetro", 2): 120, ("jetro", 3): 135, ("jcci", 3): 40}
ORGS = ("network", "jetro", "jcci", "chuokai")


# --- the scenario, played through the real engine -------------------------------------------------------


def crowd(counts: dict[str | None, int]) -> tuple[Person, ...]:
    """Many more subscribers, for a screenshot whose charts say something: most join early, some between
    the issues; a few are refused once, a few opt out."""
    people = []
    for org, count in counts.items():
        for k in range(count):
            joined = EARLY if k < count * 0.6 else STARTS[k % 2] + (k % 5 + 1) * DAY
            left = STARTS[k % 3] + (k % 6 + 1) * DAY if k % 9 == 4 else None
            left = left if left is not None and left > joined else None
            refused = None if left else {5: 0, 6: 1, 10: 2}.get(k % 13)
            if refused is not None and joined >= STARTS[refused]:
                refused = None
            people.append(Person(f"{org or 'none'}{k}@crowd.example.jp", org, joined, refused, left))
    return tuple(people)


def _join(db: Database, people: tuple[Person, ...], since: datetime | None, until: datetime) -> None:
    with db.session() as session:
        for person in people:
            if (since is None or since <= person.joined) and person.joined < until:
                organization = organization_or_none(session, person.org) if person.org else None
                add_subscriber(
                    session,
                    person.email,
                    language=person.language,
                    organization=organization,
                    now=person.joined,
                )


def _leave(db: Database, people: tuple[Person, ...], since: datetime, until: datetime) -> None:
    for person in people:
        if person.left is not None and since <= person.left < until:
            with db.session() as session:
                found = session.scalar(select(Subscriber.id).where(Subscriber.email == person.email))
                assert found is not None
                unsubscribe(session, found, Origin(ConsentSource.WEB), now=person.left)


def _send(
    db: Database, settings: Settings, server: SmtpServer, people: tuple[Person, ...], index: int
) -> None:
    server.handler.rcpt_replies.clear()
    for person in people:
        if person.refused == index:
            server.handler.rcpt_replies[person.email] = f"550 5.1.1 <{person.email}>: user unknown"
    with db.session() as session:
        issue = compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", 8))])
        start_send(session, issue, now=STARTS[index], by=UNCHECKED)
    _run(db, settings, _lanes(server), clock=STARTS[index])


def _report_forwarding(db: Database) -> None:
    with db.session() as session:
        for (slug, number), companies in FORWARDED.items():
            organization = organization_or_none(session, slug)
            assert organization is not None
            session.add(
                ForwardReport(
                    issue_id=get_issue(session, number).id,
                    organization_id=organization.id,
                    companies=companies,
                    reported_by=f"{slug}-editor@example.jp",
                )
            )


def play(db: Database, settings: Settings, server: SmtpServer, people: tuple[Person, ...] = PEOPLE) -> None:
    """The three issues of the scenario, sent; what came between them; the forwarding reported."""
    ends = (*STARTS[1:], AFTER)
    _join(db, people, None, STARTS[0])
    for index, (start, end) in enumerate(zip(STARTS, ends, strict=True)):
        _send(db, settings, server, people, index)
        _leave(db, people, start, end)
        _join(db, people, start, end)
    _report_forwarding(db)


# --- what the pages should say, counted from the scenario ---------------------------------------------


def _recipient(person: Person, index: int) -> bool:
    start = STARTS[index]
    bounced_before = person.refused is not None and person.refused < index
    left_before = person.left is not None and person.left < start
    return person.joined < start and not bounced_before and not left_before


def expected(slug: str, index: int, people: tuple[Person, ...] = PEOPLE) -> dict[str, int | None]:
    """An organization's (or, with "all", the network's) figures for issue index+1."""
    start = STARTS[index]
    since = STARTS[index - 1] if index else None
    row = {"subscribers": 0, "delivered": 0, "undelivered": 0, "unsubscribed": 0, "new": 0, "left": 0}
    for person in people:
        if slug != "all" and (person.org or "network") != slug:
            continue
        if _recipient(person, index):
            row["subscribers"] += 1
            row["undelivered" if person.refused == index else "delivered"] += 1
            row["unsubscribed"] += person.left is not None and start <= person.left < start + 14 * DAY
        row["new"] += (since is None or since <= person.joined) and person.joined < start
        ended = [moment for moment in (person.left,) if moment is not None]
        ended += [STARTS[person.refused]] if person.refused is not None else []
        row["left"] += any((since is None or since <= moment) and moment < start for moment in ended)
    forwarded = [n for (s, number), n in FORWARDED.items() if number == index + 1 and slug in (s, "all")]
    return {
        "subscribers": row["subscribers"],
        "delivered": row["delivered"],
        "undelivered": row["undelivered"],
        "unsubscribed": row["unsubscribed"],
        "growth": row["new"] - row["left"],
        "forwarded": sum(forwarded) if forwarded else None,
    }


def rate(count: int | None, subscribers: int | None) -> str:
    return "—" if not subscribers or count is None else f"{round(count * 100 / subscribers, 1):.1f}%"


def shown(value: int | None, *, signed: bool = False) -> str:
    if value is None:
        return "—"
    if signed:
        return f"+{value:,}" if value > 0 else f"−{-value:,}" if value < 0 else "±0"
    return f"{value:,}"


def cells(row: str) -> list[str]:
    return [
        html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]


def table_row(page: str, row_id: str) -> list[str]:
    found = re.search(rf'<tr id="{row_id}">(.*?)</tr>', page, re.S)
    assert found, row_id
    return cells(found.group(1))


# --- fixtures ----------------------------------------------------------------------------------------------


@pytest.fixture
def reached(seeded_db: Database, settings: Settings, smtp_server: SmtpServer) -> Iterator[Console]:
    for role in StaffRole:
        add_user(seeded_db, role)
    play(seeded_db, settings, smtp_server)
    with served(seeded_db, settings) as console:
        yield console


def names(db: Database) -> dict[str, tuple[str, str]]:
    with db.session() as session:
        return {
            slug: (ja, en)
            for slug, ja, en in session.execute(
                select(Organization.slug, Organization.name_ja, Organization.name_en)
            )
        }


# --- the organization's page -------------------------------------------------------------------------------


def test_the_scenario_covers_every_figure() -> None:
    """Guard the test itself: each figure is non-zero somewhere for JETRO, and growth is negative once."""
    jetro = [expected("jetro", index) for index in range(3)]
    for name in ("delivered", "undelivered", "unsubscribed", "growth", "forwarded"):
        assert any(row[name] for row in jetro), name
    assert any((row["growth"] or 0) < 0 for index in range(3) for row in [expected("jcci", index)])


@pytest.mark.parametrize(("role", "slug"), [(StaffRole.ORG_EDITOR, "jetro"), (StaffRole.STAFF, "jcci")])
@pytest.mark.parametrize("base", ["/admin", "/en/admin"])
def test_an_organizations_page_shows_its_figures_per_issue_as_the_ledger_has_them(
    reached: Console, role: StaffRole, slug: str, base: str
) -> None:
    with logged_in(reached, role) as client:
        before = snapshot(reached.db)
        page = client.get(f"{base}/organizations/{slug}/reach")
    assert page.status_code == 200, page.text
    assert without(snapshot(reached.db), "staff_sessions") == without(before, "staff_sessions")
    name_ja, name_en = names(reached.db)[slug]
    assert (f"{name_ja}の到達状況" if base == "/admin" else f"Reach of {name_en}") in html.unescape(page.text)
    for index in range(3):
        figures = expected(slug, index)
        row = table_row(page.text, f"issue-{index + 1}")
        assert row[1:] == [
            shown(figures["subscribers"]),
            shown(figures["delivered"]),
            shown(figures["undelivered"]),
            shown(figures["unsubscribed"]),
            shown(figures["growth"], signed=True),
            shown(figures["forwarded"]),
        ], index
        assert row[0] == f"{STARTS[index].astimezone(UTC) + timedelta(hours=9):%Y-%m-%d}"


def test_the_page_draws_its_charts_inline_as_svg_named_for_screen_readers(reached: Console) -> None:
    with logged_in(reached, StaffRole.ORG_EDITOR) as client:
        page = client.get("/admin/organizations/jetro/reach").text
    charts = re.findall(r"<svg\b[^>]*>", page)
    assert len(charts) == 3
    for key in ("reach-issues", "reach-trend", "reach-compare"):
        assert f'id="chart-{key}"' in page
        assert f'aria-labelledby="chart-{key}-title chart-{key}-desc"' in page
        assert re.search(
            rf'<title id="chart-{key}-title">[^<]+</title><desc id="chart-{key}-desc">[^<]+</desc>', page
        )
    assert '<title id="chart-reach-issues-title">号ごとの到達・不達・配信停止・純増</title>' in page
    assert "<script" not in page  # pygal's scripts are left out: nothing runs, nothing is blocked
    assert "ネットワーク全体" in page


def test_the_page_sets_the_organizations_rates_beside_the_networks(reached: Console) -> None:
    with logged_in(reached, StaffRole.ORG_EDITOR) as client:
        page = client.get("/en/admin/organizations/jetro/reach").text
    rows = re.findall(r'<tr><th scope="row">Issue No. (\d)</th>(.*?)</tr>', page, re.S)
    assert [number for number, _ in rows] == ["1", "2", "3"]
    for number, row in rows:
        own, network = expected("jetro", int(number) - 1), expected("all", int(number) - 1)
        assert cells(row) == [
            rate(own[key], own["subscribers"])
            if side == "own"
            else rate(network[key], network["subscribers"])
            for key in ("delivered", "undelivered", "unsubscribed")
            for side in ("own", "network")
        ]


def test_print_gives_the_page_alone_for_a4_and_the_screen_has_a_print_stylesheet(reached: Console) -> None:
    with logged_in(reached, StaffRole.ORG_EDITOR) as client:
        screen = client.get("/admin/organizations/jetro/reach").text
        printed = client.get("/admin/organizations/jetro/reach?print=1")
    assert printed.status_code == 200
    assert "@media print" in screen
    assert "size: A4" in screen
    assert 'class="topbar"' in screen
    assert 'class="topbar"' not in printed.text
    assert 'class="console-nav"' not in printed.text
    assert len(re.findall(r"<svg\b", printed.text)) == 3
    assert table_row(printed.text, "issue-3") == table_row(screen, "issue-3")


def test_csv_gives_the_figures_per_issue_with_a_header_in_the_pages_language(reached: Console) -> None:
    with logged_in(reached, StaffRole.ORG_EDITOR) as client:
        japanese = client.get("/admin/organizations/jetro/reach.csv")
        english = client.get("/en/admin/organizations/jetro/reach.csv")
    assert japanese.status_code == 200
    assert japanese.headers["content-type"].startswith("text/csv")
    assert japanese.content.startswith(b"\xef\xbb\xbf")
    header, *rows = list(csv.reader(io.StringIO(japanese.content.decode("utf-8-sig"))))
    assert header[:4] == ["号", "配信開始日", "配信対象", "到達"]
    assert next(iter(csv.reader(io.StringIO(english.content.decode("utf-8-sig")))))[:4] == [
        "Issue", "Send started", "Subscribers", "Delivered"
    ]  # fmt: skip
    assert [row[0] for row in rows] == ["1", "2", "3"]
    for index, row in enumerate(rows):
        figures = expected("jetro", index)
        assert [int(cell) for cell in row[2:6]] == [
            figures["subscribers"], figures["delivered"], figures["undelivered"], figures["unsubscribed"]
        ]  # fmt: skip
        assert int(row[8]) == figures["growth"]
        assert row[9] == ("" if figures["forwarded"] is None else str(figures["forwarded"]))
    with reached.db.session() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "reach.export")).all()
        assert [(e.actor, e.target) for e in events] == [
            ("staff:jetro-editor@example.jp", "organization jetro")
        ] * 2


# --- who may see what --------------------------------------------------------------------------------------


@pytest.mark.parametrize("base", ["/admin", "/en/admin"])
def test_an_org_editor_gets_404_for_another_organization_and_403_for_the_overview(
    reached: Console, base: str
) -> None:
    with logged_in(reached, StaffRole.ORG_EDITOR) as client:
        before = snapshot(reached.db)
        assert client.get(f"{base}/organizations/jcci/reach").status_code == 404
        assert client.get(f"{base}/organizations/jcci/reach.csv").status_code == 404
        assert client.get(f"{base}/organizations/no-such-org/reach").status_code == 404
        assert client.get(f"{base}/organizations/{'x' * 300}/reach").status_code == 404
        overview = client.get(f"{base}/reach")
        assert overview.status_code == 403
        assert client.get(f"{base}/organizations/jetro/reach").status_code == 200
    assert without(snapshot(reached.db), "staff_sessions") == without(before, "staff_sessions")
    assert "jcci" not in overview.text


# --- the staff's overview ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [StaffRole.STAFF, StaffRole.ADMIN])
def test_staff_see_every_organization_side_by_side_for_the_latest_issue_or_a_chosen_one(
    reached: Console, role: StaffRole
) -> None:
    with logged_in(reached, role) as client:
        latest = client.get("/admin/reach")
        chosen = client.get("/admin/reach", params={"issue": "2"})
    assert latest.status_code == 200
    assert chosen.status_code == 200
    with reached.db.session() as session:
        order = list(session.scalars(select(Organization.slug).order_by(Organization.position)))
    assert re.findall(r'<tr id="organization-([a-z0-9-]+)">', latest.text) == [*order, "total"]
    for page, index in ((latest, 2), (chosen, 1)):
        assert f'<option value="{index + 1}" selected>' in page.text
        assert 'id="chart-reach-organizations"' in page.text
        for slug in (*ORGS, "total"):
            figures = expected("all" if slug == "total" else slug, index)
            assert table_row(page.text, f"organization-{slug}") == [
                shown(figures["subscribers"]),
                shown(figures["delivered"]),
                rate(figures["delivered"], figures["subscribers"]),
                shown(figures["undelivered"]),
                shown(figures["unsubscribed"]),
                shown(figures["growth"], signed=True),
                shown(figures["forwarded"]),
            ], (slug, index)


@pytest.mark.parametrize("asked", ["99", "abc", "-1", "1" * 40])
def test_an_issue_not_sent_is_refused_with_the_field_marked(reached: Console, asked: str) -> None:
    with logged_in(reached, StaffRole.STAFF) as client:
        page = client.get("/admin/reach", params={"issue": asked})
    assert page.status_code == 400
    assert 'class="error-summary"' in page.text
    assert 'aria-invalid="true"' in page.text
    assert "配信された号を選んでください。" in page.text


def test_before_any_send_the_pages_say_so(seeded_db: Database, settings: Settings) -> None:
    for role in StaffRole:
        add_user(seeded_db, role)
    with served(seeded_db, settings) as console:
        with logged_in(console, StaffRole.ORG_EDITOR) as client:
            page = client.get("/admin/organizations/jetro/reach")
            sheet = client.get("/admin/organizations/jetro/reach.csv")
        with logged_in(console, StaffRole.STAFF) as client:
            overview = client.get("/en/admin/reach")
    assert page.status_code == 200
    assert "まだ配信された号はありません。" in page.text
    assert "<svg" not in page.text
    assert len(sheet.content.decode("utf-8-sig").splitlines()) == 1  # the header alone
    assert overview.status_code == 200
    assert "No issue has been sent yet." in overview.text


# --- `outreach report` shows the forwarding beside outreach's own figures -------------------------------


def test_the_cli_report_shows_the_forwarding_reported(
    env: dict[str, str], seeded_db: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    play(seeded_db, settings, smtp_server)
    data = json.loads(run("report", "--issue", "3", "--json").stdout)
    forwarded = {row["slug"]: row["forwarded"] for row in data["rows"]}
    assert (forwarded["jetro"], forwarded["jcci"], forwarded["chuokai"]) == (135, 40, None)
    assert data["totals"]["forwarded"] == 175
    table = run("report", "--issue", "3").stdout
    assert "転送（団体の報告）" in table
    assert re.search(r"^合計.*\b175$", table, re.M)
    sheet = run("report", "--from", "2026-10-01", "--to", "2026-11-30", "--csv").stdout_bytes.decode(
        "utf-8-sig"
    )
    header, *rows = list(csv.reader(io.StringIO(sheet)))
    assert header[-1] == "転送（団体の報告）"
    assert {row[0]: row[-1] for row in rows}["jetro"] == "255"  # issues 2 and 3
    first = list(
        csv.reader(io.StringIO(run("report", "--issue", "1", "--csv").stdout_bytes.decode("utf-8-sig")))
    )
    assert "転送（団体の報告）" not in first[0]  # nobody reported forwarding issue 1
