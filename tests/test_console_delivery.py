"""Watching a send over real HTTP (uvicorn, httpx, both databases): the progress page and the delivery log.

The ledger is made the way a send makes it: a real worker run against a test SMTP server that refuses some
recipients (a 550 at RCPT, a 451 at DATA, a 554 and a 552), or `start_send` alone for rows still queued. The
pages' figures are checked against the database; the log's filters (organization, state, code, address with
`%` and `_` taken literally), its paging and its CSV against the rows they should hold.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import select

from outreach.config import Settings, SmtpRelay
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.errors import RelayUnavailable
from outreach.issues import compose_issue, get_issue
from outreach.mailer import SmtpMailer
from outreach.models import Delivery, DeliveryStatus, IssueStatus, Organization
from outreach.staff.models import StaffRole
from outreach.usecases import sends
from outreach.usecases.sends import RELAY_DOWN, send_now
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.links import SignedLinks
from tests.conftest import snapshot
from tests.console_support import Console, add_user, served
from tests.smtp_server import SmtpServer, free_port
from tests.test_console_http import UNCHECKED, logged_in, without

# (address, organization, language, the test server's reply to it: None for "250 OK")
RECIPIENTS = [
    ("a.tanaka@example.jp", "jetro", "ja", None),
    ("b.suzuki@example.jp", "jcci", "ja", "550 5.1.1 <b.suzuki@example.jp>: user unknown"),
    ("c.smith@example.com", "chuokai", "en", "451 4.3.0 try again later"),  # at DATA: deferred
    ("d.yamada@example.jp", None, "ja", None),  # unaffiliated: the network's row
    ("pct%off@example.jp", "jetro", "ja", None),
    ("pctxoff@example.jp", "jetro", "ja", None),
    ("under_score@example.jp", "jcci", "en", None),
    ("underxscore@example.jp", "jcci", "ja", None),
    ("=sum@example.jp", "jetro", "ja", "554 @SUM(1+1) refused"),
    ("+tag@example.jp", "chuokai", "ja", "552 5.2.2 mailbox full"),
]
DATA_REFUSALS = {"c.smith@example.com"}


@dataclass
class Ledger:
    console: Console
    smtp: SmtpServer
    number: int

    @property
    def db(self) -> Database:
        return self.console.db


def subscribe(db: Database, recipients: list[tuple[str, str | None, str]]) -> None:
    with db.session() as session:
        for email, slug, language in recipients:
            organization = organization_or_none(session, slug) if slug else None
            add_subscriber(session, email, language=language, organization=organization)


def compose(db: Database, plenary: int = 8) -> int:
    with db.session() as session:
        return compose_issue(session, meetings=[find_meeting(session, MeetingKey("plenary", plenary))]).number


def deliver(db: Database, settings: Settings, port: int, number: int) -> None:
    """A real worker run, in this process, until nothing is due, through the relay at 127.0.0.1:PORT."""
    relay = SmtpRelay(host="127.0.0.1", port=port, security="none")
    asyncio.run(
        send_now(
            db,
            replace(settings, smtp=relay),
            number,
            mailer=SmtpMailer(relay),
            links=SignedLinks(settings),
            by=UNCHECKED,
        )
    )


@contextmanager
def sending(db: Database, settings: Settings, smtp: SmtpServer) -> Iterator[Ledger]:
    """Issue No. 1 sent to RECIPIENTS: sent, bounced (550), deferred (451), failed (554, 552): sending;
    a user of each role, and the console serving it."""
    for role in StaffRole:
        add_user(db, role)
    subscribe(db, [(email, slug, language) for email, slug, language, _ in RECIPIENTS])
    for email, _, _, reply in RECIPIENTS:
        if reply is not None:
            refusing = smtp.handler.data_replies if email in DATA_REFUSALS else smtp.handler.rcpt_replies
            refusing[email] = reply
    number = compose(db)
    deliver(db, settings, smtp.port, number)
    with served(db, settings) as console:
        yield Ledger(console, smtp, number)


@pytest.fixture
def ledger(seeded_db: Database, settings: Settings, smtp_server: SmtpServer) -> Iterator[Ledger]:
    with sending(seeded_db, settings, smtp_server) as made:
        yield made


def _states(db: Database) -> dict[str, tuple[DeliveryStatus, int | None]]:
    with db.session() as session:
        return {
            email: (status, code)
            for email, status, code in session.execute(
                select(Delivery.email, Delivery.status, Delivery.smtp_code)
            )
        }


def logged(rows: str) -> list[str]:
    """The addresses in a log page's table, in order."""
    return [html.unescape(found) for found in re.findall(r'<td class="address">([^<]*)</td>', rows)]


def figures(cells: str) -> list[int]:
    return [
        int(re.sub(r"<[^>]+>|,", "", cell)) for cell in re.findall(r'<td class="figure">(.*?)</td>', cells)
    ]


# The progress page


def test_the_ledger_is_as_the_refusals_made_it(ledger: Ledger) -> None:
    states = _states(ledger.db)
    assert states["b.suzuki@example.jp"] == (DeliveryStatus.BOUNCED, 550)
    assert states["c.smith@example.com"] == (DeliveryStatus.DEFERRED, 451)
    assert states["=sum@example.jp"] == (DeliveryStatus.FAILED, 554)
    assert states["+tag@example.jp"] == (DeliveryStatus.FAILED, 552)
    assert Counter(state for state, _ in states.values())[DeliveryStatus.SENT] == 6


@pytest.mark.parametrize(
    ("base", "language", "words"),
    [
        (
            "/admin",
            "ja",
            ("第1号の配信の進み具合", "配信中", "未送信", "再送待ち", "宛先不明", "1分あたり", "合計"),
        ),
        (
            "/en/admin",
            "en",
            (
                "Progress of the send of issue No. 1",
                "Sending",
                "Queued",
                "Deferred",
                "Bounced",
                "a minute",
                "Total",
            ),
        ),
    ],
)
def test_the_progress_page_counts_each_organizations_recipients_by_state_as_the_ledger_does(
    ledger: Ledger, base: str, language: str, words: tuple[str, ...]
) -> None:
    with logged_in(ledger.console, StaffRole.STAFF) as staff:
        before = snapshot(ledger.db)
        page = staff.get(f"{base}/issues/1/progress")
    assert page.status_code == 200
    assert without(snapshot(ledger.db), "staff_sessions") == without(before, "staff_sessions")
    for word in words:
        assert word in page.text, word
    with ledger.db.session() as session:
        network = session.scalars(select(Organization).where(Organization.slug == "network")).one()
        expected: dict[tuple[int, str], Counter[str]] = {}
        for row in session.scalars(select(Delivery)):
            organization = row.organization or network  # the unaffiliated: the network's row
            name = organization.name_ja if language == "ja" else organization.name_en
            expected.setdefault((organization.position, name), Counter())[row.status.value] += 1
    states = [s.value for s in DeliveryStatus if s not in (DeliveryStatus.UNKNOWN, DeliveryStatus.CANCELLED)]
    shown = re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', page.text, re.S)
    assert [html.unescape(name) for name, _ in shown] == [name for _, name in sorted(expected)] + [
        {"ja": "合計", "en": "Total"}[language]
    ]
    for (name, cells), (_, counts) in zip(shown, sorted(expected.items()), strict=False):
        assert figures(cells) == [counts[state] for state in states] + [sum(counts.values())], name
    totals = sum(expected.values(), Counter())
    assert figures(shown[-1][1]) == [totals[state] for state in states] + [10]
    # 9 of 10 handled (all but the deferred one), with a label the bar is named by
    assert '<progress id="send-progress" max="10" value="9">90%</progress>' in page.text
    assert '<label for="send-progress">' in page.text
    assert '<meta http-equiv="refresh" content="5">' in page.text  # still sending: the deferred one waits
    # a count links to the log rows it counts
    assert f'href="{base}/issues/1/log?organization=jcci&amp;state=bounced">1</a>' in page.text
    assert "<script" not in page.text


def test_the_progress_page_reloads_itself_while_sending_and_not_once_sent(
    ledger: Ledger, settings: Settings
) -> None:
    with logged_in(ledger.console, StaffRole.APPROVER) as approver:
        sending = approver.get("/admin/issues/1/progress")
        del ledger.smtp.handler.data_replies["c.smith@example.com"]
        with ledger.db.session() as session:  # the deferred recipient's retry time has come
            deferred = session.scalars(
                select(Delivery).where(Delivery.status == DeliveryStatus.DEFERRED)
            ).one()
            deferred.next_attempt_at = deferred.created_at
        deliver(ledger.db, settings, ledger.smtp.port, 1)
        with ledger.db.session() as session:
            assert get_issue(session, 1).status == IssueStatus.SENT
        sent = approver.get("/en/admin/issues/1/progress")
    assert sending.status_code == sent.status_code == 200
    assert '<meta http-equiv="refresh" content="5">' in sending.text
    assert "5秒ごとに自動で更新" in sending.text
    assert re.search(r"<dt>残り時間の見込み</dt><dd>(1分以内|約\d+分)</dd>", sending.text)
    assert 'http-equiv="refresh"' not in sent.text
    assert "Send finished (JST)" in sent.text
    assert '<progress id="send-progress" max="10" value="10">100%</progress>' in sent.text
    assert "<dt>Time left (estimate)</dt><dd>—</dd>" in sent.text
    assert "<dt>Rate</dt><dd>—</dd>" in sent.text


def test_a_draft_has_no_progress_yet_and_an_unknown_issue_none_at_all(ledger: Ledger) -> None:
    draft = compose(ledger.db, plenary=7)
    with logged_in(ledger.console, StaffRole.STAFF) as staff:
        page = staff.get(f"/admin/issues/{draft}/progress")
        english = staff.get(f"/en/admin/issues/{draft}/progress")
        log = staff.get(f"/admin/issues/{draft}/log")
        missing = [
            staff.get(f"/admin/issues/{n}{path}")
            for n in (99, 2**31, 0)
            for path in ("/progress", "/log", "/log.csv")
        ]
    assert page.status_code == english.status_code == log.status_code == 200
    assert "この号の配信はまだ始まっていません。" in page.text
    assert f'href="/admin/issues/{draft}"' in page.text
    assert "The send of this issue has not started yet." in english.text
    assert 'http-equiv="refresh"' not in page.text
    assert "<progress" not in page.text
    assert "この号の配信はまだ始まっていません。" in log.text
    assert [answer.status_code for answer in missing] == [404] * 9


def test_a_send_the_relay_stopped_still_reloads_one_staff_paused_does_not(
    seeded_db: Database, settings: Settings
) -> None:
    add_user(seeded_db, StaffRole.STAFF)
    subscribe(seeded_db, [("a.tanaka@example.jp", "jetro", "ja")])
    number = compose(seeded_db)
    with pytest.raises(RelayUnavailable):
        deliver(seeded_db, settings, free_port(), number)  # nobody listens: the send pauses itself
    with served(seeded_db, settings) as console, logged_in(console, StaffRole.STAFF) as staff:
        relay_down = staff.get("/admin/issues/1/progress")
        with seeded_db.session() as session:
            sends.resume_send(session, number, actor="cli:tester")
            sends.pause_send(session, number, actor="cli:tester")
        held = staff.get("/admin/issues/1/progress")
    assert '<meta http-equiv="refresh" content="5">' in relay_down.text
    assert RELAY_DOWN in relay_down.text  # the reason, shown
    assert 'http-equiv="refresh"' not in held.text  # it waits for staff: nothing to watch
    assert "paused by staff" in held.text
    assert "<dt>残り時間の見込み</dt><dd>—</dd>" in held.text


def test_approvers_watch_a_send_org_editors_may_not(ledger: Ledger) -> None:
    with logged_in(ledger.console, StaffRole.APPROVER) as approver:
        read = [approver.get(f"/admin/issues/1{path}") for path in ("/progress", "/log", "/log.csv")]
    with logged_in(ledger.console, StaffRole.ORG_EDITOR) as editor:
        refused = [editor.get(f"/admin/issues/1{path}") for path in ("/progress", "/log", "/log.csv")]
    assert [answer.status_code for answer in read] == [200, 200, 200]
    assert [answer.status_code for answer in refused] == [403, 403, 403]
    assert all("a.tanaka@example.jp" not in answer.text for answer in refused)
