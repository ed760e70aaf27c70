"""An organization's roster in the console over real HTTP (uvicorn, httpx, SQLite and PostgreSQL): import
(all or nothing, every problem with its line, CP932, check only, confirmation mails), export (it imports back
as no change), the list (search with LIKE's wildcards taken literally, state filter, paging), one subscriber
with the consent record, unsubscribing at the organization's request (final: a later send leaves them out),
and an org-editor of JETRO finding none of JCCI's roster pages.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from outreach.config import Settings
from outreach.db import Database
from outreach.errors import RosterError
from outreach.issues import get_issue
from outreach.models import ConsentEvent, Delivery, Subscriber, SubscriberStatus, utcnow
from outreach.staff import audit
from outreach.staff.models import StaffRole
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases import approval, drafts
from outreach.usecases.approval import Acting
from outreach.usecases.sends import start_send
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.roster import parse_roster
from tests.conftest import snapshot
from tests.console_support import Console, add_user, served
from tests.test_console_http import csrf_in, logged_in, without

EDITOR = StaffRole.ORG_EDITOR  # jetro-editor@example.jp, an org-editor of jetro
JETRO = "/admin/organizations/jetro/roster"
JCCI = "/admin/organizations/jcci/roster"
BAD_LINE_3 = "email,company\r\ngood@example.jp,良い会社\r\nnot-an-address,悪い会社\r\nfine@example.jp,\r\n"


@pytest.fixture
def console(seeded_db: Database, settings: Settings) -> Iterator[Console]:
    """Staff, JETRO's editor, and a subscriber each of JETRO, JCCI and the network (none)."""
    for role in (StaffRole.STAFF, EDITOR):
        add_user(seeded_db, role)
    with seeded_db.session() as session:
        for email, slug in (("a@example.jp", "jetro"), ("b@example.jp", "jcci"), ("c@example.jp", None)):
            organization = organization_or_none(session, slug) if slug else None
            add_subscriber(session, email, company=f"{email} 商事", organization=organization)
    with served(seeded_db, settings) as running:
        yield running


def unchanged(db: Database, before: dict[str, list[tuple[Any, ...]]]) -> bool:
    """Every table as it was, but the session's idle clock, which an allowed request restarts."""
    return without(snapshot(db), "staff_sessions") == without(before, "staff_sessions")


def upload(
    client: httpx.Client, data: bytes, *, url: str = JETRO, consent: str = "vouched", **fields: str
) -> httpx.Response:
    token = csrf_in(client.get(f"{url}/import").text)
    form = {"csrf_token": token, "consent": consent, "language": "ja", **fields}
    return client.post(f"{url}/import", data=form, files={"roster": ("roster.csv", data, "text/csv")})


def states(db: Database) -> dict[str, tuple[SubscriberStatus, str | None]]:
    """Each address: its state and its organization's slug."""
    with db.session() as session:
        return {
            s.email: (s.status, s.organization.slug if s.organization else None)
            for s in session.scalars(select(Subscriber))
        }


def roster_events(db: Database) -> list[audit.AuditEntry]:
    with db.session() as session:
        entries = audit.read_page(session, per_page=1000).entries
    return [entry for entry in entries if entry.action.startswith("roster.")]


@pytest.mark.parametrize(("base", "line"), [("/admin", "3行目"), ("/en/admin", "Line 3")])
def test_a_roster_with_one_bad_line_is_refused_with_the_line_and_nothing_is_written(
    console: Console, base: str, line: str
) -> None:
    with logged_in(console, EDITOR) as client:
        before = snapshot(console.db)
        answer = upload(client, BAD_LINE_3.encode(), url=f"{base}/organizations/jetro/roster")
    assert answer.status_code == 400
    assert line in answer.text
    assert "not-an-address,悪い会社" in answer.text  # the line's own text
    assert (
        "メールアドレスとして使えません" if base == "/admin" else "is not a usable email address"
    ) in answer.text
    assert "2行目" not in answer.text
    assert "Line 2" not in answer.text
    assert unchanged(console.db, before)


def test_a_good_import_adds_the_rows_to_jetro_only_and_is_audited(console: Console) -> None:
    roster = (
        "メールアドレス,会社名,団体\r\n"
        "new1@example.jp,一社,jcci\r\n"  # a column naming another organization: not read
        "new2@example.jp,二社,\r\n"
        "b@example.jp,,\r\n"  # JCCI's subscriber
    )
    with logged_in(console, EDITOR) as client:
        answer = upload(client, roster.encode())
        assert answer.status_code == 303
        page = client.get(answer.headers["location"])
    assert page.status_code == 200
    assert "名簿を取り込みました（3行）" in page.text
    assert "新しく登録：2件" in page.text
    assert "取り込まなかった行（配信停止済み・不達のアドレス、またはほかの団体の登録）：1件" in page.text
    found = states(console.db)
    assert found["new1@example.jp"] == (
        SubscriberStatus.ACTIVE,
        "jetro",
    )  # the column naming jcci is not read
    assert found["new2@example.jp"] == (SubscriberStatus.ACTIVE, "jetro")
    assert found["b@example.jp"] == (SubscriberStatus.ACTIVE, "jcci")  # another organization's stays theirs
    [event] = roster_events(console.db)
    assert (event.action, event.actor, event.target) == (
        "roster.import",
        "staff:jetro-editor@example.jp",
        "roster of jetro",
    )
    assert event.ip == "127.0.0.1"
    assert "2 added" in (event.detail or "")


def test_a_cp932_roster_from_excel_imports(console: Console) -> None:
    roster = "メールアドレス,会社名,氏名\r\nsato@example.jp,株式会社髙橋製作所,佐藤 一郎\r\n".encode("cp932")
    with logged_in(console, EDITOR) as client:
        answer = upload(client, roster)
    assert answer.status_code == 303
    with console.db.session() as session:
        sato = session.scalars(select(Subscriber).where(Subscriber.email == "sato@example.jp")).one()
        assert (sato.company, sato.name, sato.status) == (
            "株式会社髙橋製作所",
            "佐藤 一郎",
            SubscriberStatus.ACTIVE,
        )


def test_check_only_shows_what_would_happen_and_writes_nothing(console: Console) -> None:
    roster = "email\r\nnew1@example.jp\r\nnew2@example.jp\r\na@example.jp\r\n"
    with logged_in(console, EDITOR) as client:
        before = snapshot(console.db)
        answer = upload(client, roster.encode(), consent="confirm", dry_run="yes")
    assert answer.status_code == 200
    assert "確認だけをしました。名簿には何も登録していません（3行）" in answer.text
    assert "新しく登録：2件" in answer.text
    assert "変更なし（すでに名簿にあり、同じ内容）：1件" in answer.text
    assert "確認のメール：2通" in answer.text
    assert unchanged(console.db, before)
    assert list(console.settings.outbox_dir.rglob("*.eml")) == []


def test_a_roster_to_confirm_keeps_the_new_addresses_pending_and_mails_them(console: Console) -> None:
    with logged_in(console, EDITOR) as client:
        answer = upload(client, b"email\r\nnew@example.jp\r\n", consent="confirm", language="en")
    assert answer.status_code == 303
    assert states(console.db)["new@example.jp"] == (SubscriberStatus.PENDING, "jetro")
    [mail] = console.settings.outbox_dir.rglob("*.eml")
    assert "new@example.jp" in mail.name
    assert "/en/confirm/" in mail.read_bytes().decode("ascii", errors="replace")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "UTF-8でもShift_JISでもありません"),
        (b"just some words\r\nand more\r\n", "メールアドレスの列がありません"),
        (b"", "取り込むCSVファイルを選んでください"),
    ],
)
def test_a_file_that_is_no_roster_is_a_400_with_a_message(console: Console, data: bytes, words: str) -> None:
    with logged_in(console, EDITOR) as client:
        before = snapshot(console.db)
        answer = upload(client, data)
    assert answer.status_code == 400
    assert words in answer.text
    assert unchanged(console.db, before)


def test_an_export_is_the_clis_csv_and_imports_back_as_no_change(console: Console) -> None:
    with console.db.session() as session:
        jetro = organization_or_none(session, "jetro")
        add_subscriber(session, "=calc@example.jp", company="+81 商事", name="@taro", organization=jetro)
    with logged_in(console, EDITOR) as client:
        exported = client.get(f"{JETRO}/export")
        everyone = client.get(f"/en{JETRO}/export?all=1")
        assert exported.status_code == everyone.status_code == 200
        assert exported.content.startswith(b"\xef\xbb\xbf")
        assert exported.headers["content-type"].startswith("text/csv")
        lines = exported.content.decode("utf-8-sig").split("\r\n")
        assert (
            lines[0]
            == "メールアドレス,会社名,氏名,言語,状態,受け取る内容,同意の経路,確認日時,文字コード,国・地域"
        )
        assert lines[1].startswith("'=calc@example.jp,'+81 商事,'@taro,")  # no formula for Excel
        assert everyone.content.decode("utf-8-sig").startswith("email,company,name,")
        assert [row.email for row in parse_roster(exported.content)] == ["=calc@example.jp", "a@example.jp"]
        before = snapshot(console.db)
        again = upload(client, exported.content)
    assert again.status_code == 303
    assert "rows=2&added=0&updated=0&unchanged=2&skipped=0" in again.headers["location"]
    assert without(snapshot(console.db), "staff_sessions", "audit_events") == without(
        before, "staff_sessions", "audit_events"
    )
    assert [event.action for event in roster_events(console.db)] == [
        "roster.import",
        "roster.export",
        "roster.export",
    ]


def test_the_list_searches_literally_filters_by_state_and_pages(console: Console) -> None:
    with console.db.session() as session:
        jetro = organization_or_none(session, "jetro")
        for number in range(120):
            add_subscriber(session, f"member{number:03}@example.jp", organization=jetro)
        add_subscriber(session, "percent@example.jp", company="100%商事", organization=jetro)
        add_subscriber(session, "plain@example.jp", company="1000商事", organization=jetro)
        add_subscriber(session, "under_score@example.jp", organization=jetro)
        add_subscriber(session, "underxscore@example.jp", organization=jetro)
    with logged_in(console, EDITOR) as client:
        first = client.get(JETRO)
        second = client.get(JETRO, params={"page": "2"})
        past = client.get(JETRO, params={"page": "99"})
        percent = client.get(JETRO, params={"q": "100%"})
        underscore = client.get(JETRO, params={"q": "R_S"})
        none_left = client.get(JETRO, params={"q": "member", "state": "unsubscribed"})
        bad_state = client.get(JETRO, params={"state": "gone"})
    addresses = re.compile(r'<td class="address"><a href="[^"]+">([^<]+)</a>')
    assert first.status_code == 200
    assert len(addresses.findall(first.text)) == 50
    assert "125人中 1 / 3ページ" in first.text  # a@, 120 members, 4 more
    assert addresses.findall(second.text)[0] == "member049@example.jp"
    assert len(addresses.findall(past.text)) == 25  # a page past the last shows the last
    assert addresses.findall(percent.text) == ["percent@example.jp"]
    assert addresses.findall(underscore.text) == ["under_score@example.jp"]
    assert "条件に合う購読者はいません。" in none_left.text
    assert "b@example.jp" not in first.text + second.text + past.text  # JCCI's is not on JETRO's roster
    assert bad_state.status_code == 400
    assert "絞り込む状態を一覧から選んでください。" in bad_state.text


def test_staff_see_the_networks_roster_the_unaffiliated(console: Console) -> None:
    with logged_in(console, StaffRole.STAFF) as client:
        network = client.get("/admin/organizations/network/roster")
        jcci = client.get(JCCI)
    assert network.status_code == jcci.status_code == 200
    assert "c@example.jp" in network.text
    assert "a@example.jp" not in network.text
    assert "b@example.jp" in jcci.text


def _the(db: Database, email: str) -> Subscriber:
    with db.session() as session:
        return session.scalars(select(Subscriber).where(Subscriber.email == email)).one()


def test_a_subscriber_page_shows_the_consent_record(console: Console) -> None:
    with logged_in(console, EDITOR) as client:
        upload(client, b"email,company\r\nnew@example.jp,new\r\n")
        subscriber_id = _the(console.db, "new@example.jp").id
        page = client.get(f"{JETRO}/subscribers/{subscriber_id}")
        english = client.get(f"/en{JETRO}/subscribers/{subscriber_id}")
    assert page.status_code == 200
    assert "名簿からの登録（団体が同意を確認）" in page.text
    assert "団体の名簿" in page.text
    assert "roster of jetro" in page.text
    assert "Imported from a roster" in english.text


def test_unsubscribing_at_the_organizations_request_is_final(console: Console) -> None:
    subscriber = _the(console.db, "a@example.jp")
    page_url = f"{JETRO}/subscribers/{subscriber.id}"
    with logged_in(console, EDITOR) as client:
        token = csrf_in(client.get(page_url).text)
        before = snapshot(console.db)
        unticked = client.post(f"{page_url}/unsubscribe", data={"csrf_token": token})
        assert unticked.status_code == 400
        assert "確認のチェックを入れてください" in unticked.text
        assert unchanged(console.db, before)
        done = client.post(f"{page_url}/unsubscribe", data={"csrf_token": token, "confirm": "yes"})
        assert (done.status_code, done.headers["location"]) == (303, f"{page_url}?done=unsubscribed")
        shown = client.get(done.headers["location"])
        assert "配信を停止しました。" in shown.text
        assert f'action="{page_url}/unsubscribe"' not in shown.text
        again = client.post(f"{page_url}/unsubscribe", data={"csrf_token": token, "confirm": "yes"})
        assert again.status_code == 409
        assert "すでに配信を停止しています" in again.text
    assert _the(console.db, "a@example.jp").status == SubscriberStatus.UNSUBSCRIBED
    with console.db.session() as session:
        event = session.scalars(
            select(ConsentEvent).where(ConsentEvent.email == "a@example.jp").order_by(ConsentEvent.id.desc())
        ).first()
        assert event is not None
        assert (event.action, event.source, event.ip) == ("unsubscribed", "staff", "127.0.0.1")
        assert "unsubscribed at the organization's request (staff:jetro-editor@example.jp)" in (
            event.detail or ""
        )
    assert [(e.action, e.detail) for e in roster_events(console.db)] == [
        ("roster.unsubscribe", "a@example.jp")
    ]
    with console.db.session() as session:
        draft = drafts.NewDraft(meetings=["plenary:8"])
        approval.compose_as(session, draft, "cli:tester", now=utcnow())
        start_send(session, get_issue(session, 1), now=utcnow(), by=Acting("cli:tester", ApprovalPolicy.NONE))
    with console.db.session() as session:
        recipients = set(session.scalars(select(Delivery.email)))
    assert recipients == {"b@example.jp", "c@example.jp"}


def test_an_editor_of_jetro_finds_none_of_jccis_roster_pages(console: Console) -> None:
    jcci_subscriber = _the(console.db, "b@example.jp").id
    with logged_in(console, EDITOR) as client:
        token = csrf_in(client.get(f"{JETRO}/import").text)
        before = snapshot(console.db)
        answers = [
            client.get(JCCI),
            client.get(f"{JCCI}/import"),
            client.get(f"{JCCI}/export"),
            client.get(f"{JCCI}/subscribers/{jcci_subscriber}"),
            client.get(f"{JETRO}/subscribers/{jcci_subscriber}"),  # JCCI's subscriber under JETRO's roster
            client.get(f"{JETRO}/subscribers/99999"),
            client.post(
                f"{JCCI}/import",
                data={"csrf_token": token, "consent": "vouched", "language": "ja"},
                files={"roster": ("r.csv", b"email\r\nnew@example.jp\r\n", "text/csv")},
            ),
            client.post(
                f"{JCCI}/subscribers/{jcci_subscriber}/unsubscribe",
                data={"csrf_token": token, "confirm": "yes"},
            ),
            client.post(
                f"{JETRO}/subscribers/{jcci_subscriber}/unsubscribe",
                data={"csrf_token": token, "confirm": "yes"},
            ),
            client.get("/en/admin/organizations/nosuch/roster"),
        ]
    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert "ページが見つかりません" in answers[0].text
    assert "b@example.jp" not in "".join(answer.text for answer in answers)
    assert unchanged(console.db, before)


def test_every_problem_the_roster_engine_names_has_a_message_of_the_page() -> None:
    """Each sentence of subscribers.roster is recognised (outreach.console.roster_problems), so the page can
    say it in Japanese; a sentence the engine changes would show here first."""
    from outreach.console.roster_problems import line_problems

    files = [
        b"\x00\x01",
        "email\r\n佐藤@example.jp\r\n".encode("cp932") + "a@example.jp,\r\n髙橋\r\n".encode(),
        b"email\r\na@example.jp\xff\r\n",
        b'email\r\n"unclosed\r\n',
        b"",
        b"email,email\r\n",
        b"name\r\n",
        b"email,company,name,charset\r\n,x,y,\r\nbad,,,\r\na@example.jp,,,\r\na@example.jp,,,\r\n"
        + b"b@example.jp,"
        + b"x" * 201
        + b",,\r\nc@example.jp,,"
        + b"y" * 201
        + b",\r\nd@example.jp,,,jis\r\n",
        b"email\r\na@example.jp\r\nb@example.jp\r\nc@example.jp\r\n",  # more than max_rows, of 2
        "email,国・地域\r\na@example.jp,タイ;ナルニア\r\n".encode(),
    ]
    codes = set()
    for data in files:
        try:
            parse_roster(data, max_rows=2 if data.startswith(b"email\r\na@") else 100)
        except RosterError as error:
            for problem in line_problems(data, error.problems):
                assert problem.code, problem.message
                codes.add(problem.code)
    assert codes == {
        "not-text", "mixed-encoding", "bad-byte", "unreadable", "empty", "two-columns", "no-email-column",
        "no-email", "bad-address", "duplicate", "long-company", "long-name", "bad-charset", "too-many-rows",
        "unknown-places",
    }  # fmt: skip


def test_csv_module_reads_the_export_as_excel_would(console: Console) -> None:
    with logged_in(console, EDITOR) as client:
        exported = client.get(f"{JETRO}/export").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(exported, newline="")))
    assert rows[1][:5] == ["a@example.jp", "a@example.jp 商事", "", "日本語", "配信中"]
