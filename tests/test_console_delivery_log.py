"""The delivery log over real HTTP (uvicorn, httpx, both databases): its filters (organization, state, SMTP
code or class, a part of the address with `%` and `_` taken literally), its paging, its refusals, its CSV.

The ledger is tests/test_console_delivery.py's: a real worker run against a test SMTP server that refuses
some recipients; or `start_send` alone, for 121 rows still queued.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import httpx
import pytest

from outreach.config import Settings
from outreach.console.delivery_csv import inert
from outreach.db import Database
from outreach.issues import get_issue
from outreach.models import utcnow
from outreach.staff.models import StaffRole
from outreach.usecases.sends import start_send
from tests.conftest import snapshot
from tests.console_support import add_user, served
from tests.smtp_server import SmtpServer
from tests.test_console_delivery import RECIPIENTS, Ledger, compose, logged, sending, subscribe
from tests.test_console_http import UNCHECKED, logged_in, without


@pytest.fixture
def ledger(seeded_db: Database, settings: Settings, smtp_server: SmtpServer) -> Iterator[Ledger]:
    with sending(seeded_db, settings, smtp_server) as made:
        yield made


# The delivery log


def test_the_log_lists_each_recipient_with_its_reply_and_keeps_the_filters(ledger: Ledger) -> None:
    with logged_in(ledger.console, StaffRole.STAFF) as staff:
        everyone = staff.get("/admin/issues/1/log")
        jetro = staff.get("/admin/issues/1/log", params={"organization": "jetro"})
        network = staff.get("/admin/issues/1/log", params={"organization": "network"})
        failed = staff.get("/en/admin/issues/1/log", params={"state": "failed"})
        exact = staff.get("/admin/issues/1/log", params={"code": "550"})
        permanent = staff.get("/admin/issues/1/log", params={"code": "5xx"})
        wide = staff.get("/admin/issues/1/log", params={"code": "５XX"})  # typed with a Japanese IME
        temporary = staff.get("/admin/issues/1/log", params={"code": "4xx", "organization": "chuokai"})
        percent = staff.get("/admin/issues/1/log", params={"address": "T%O"})
        underscore = staff.get("/admin/issues/1/log", params={"address": "r_s"})
        nothing = staff.get("/admin/issues/1/log", params={"address": "nobody", "state": "sent"})
    answers = (
        everyone,
        jetro,
        network,
        failed,
        exact,
        permanent,
        wide,
        temporary,
        percent,
        underscore,
        nothing,
    )
    assert {answer.status_code for answer in answers} == {200}
    assert logged(everyone.text) == [email for email, *_ in RECIPIENTS]  # in the ledger's order
    assert "10件中 1 / 1ページ（配信順）" in everyone.text
    assert "5.1.1 &lt;b.suzuki@example.jp&gt;: user unknown" in everyone.text
    assert logged(jetro.text) == [
        "a.tanaka@example.jp",
        "pct%off@example.jp",
        "pctxoff@example.jp",
        "=sum@example.jp",
    ]
    assert '<option value="jetro" selected>' in jetro.text
    assert logged(network.text) == ["d.yamada@example.jp"]  # the unaffiliated get the network's rendition
    assert logged(failed.text) == ["=sum@example.jp", "+tag@example.jp"]
    assert '<option value="failed" selected>Failed</option>' in failed.text
    assert logged(exact.text) == ["b.suzuki@example.jp"]
    assert (
        logged(permanent.text)
        == logged(wide.text)
        == ["b.suzuki@example.jp", "=sum@example.jp", "+tag@example.jp"]
    )
    assert 'name="code" value="5xx"' in permanent.text
    assert logged(temporary.text) == ["c.smith@example.com"]
    assert logged(percent.text) == ["pct%off@example.jp"]  # not pctxoff, nor c.smith@example.com
    assert logged(underscore.text) == ["under_score@example.jp"]  # not underxscore
    assert 'value="r_s"' in underscore.text
    assert "条件に合う配信先はありません。" in nothing.text
    assert 'value="nobody"' in nothing.text
    assert '<option value="sent" selected>' in nothing.text


def test_a_filter_that_names_nothing_is_refused_at_its_field(ledger: Ledger) -> None:
    with logged_in(ledger.console, StaffRole.STAFF) as staff:
        before = snapshot(ledger.db)
        answers = {
            "organization": staff.get("/admin/issues/1/log", params={"organization": "nowhere"}),
            "state": staff.get("/admin/issues/1/log", params={"state": "lost"}),
            "code": staff.get("/admin/issues/1/log", params={"code": "55O"}),
            "address": staff.get("/admin/issues/1/log", params={"address": "a" * 300}),
            "page": staff.get("/admin/issues/1/log", params={"page": "二"}),
            "csv": staff.get("/admin/issues/1/log.csv", params={"code": "600"}),
            "english": staff.get("/en/admin/issues/1/log", params={"code": "abc", "state": "sent"}),
        }
        assert without(snapshot(ledger.db), "staff_sessions") == without(before, "staff_sessions")
    for name, answer in answers.items():
        assert answer.status_code == 400, name
        assert answer.headers["content-type"].startswith("text/html"), name
        assert '<div class="error-summary"' in answer.text, name
        assert logged(answer.text) == [], name
    assert "絞り込む団体を一覧から選んでください。" in answers["organization"].text
    assert 'id="organization" name="organization" aria-invalid="true"' in answers["organization"].text
    assert "絞り込む状態を一覧から選んでください。" in answers["state"].text
    assert "「5xx」のような種類で入力してください" in answers["code"].text
    assert 'name="code" value="55O"' in answers["code"].text
    assert "254文字以内" in answers["address"].text
    assert "ページ番号が正しくありません" in answers["page"].text
    assert "Enter an SMTP code of 3 digits, like 550, or a class, like 5xx." in answers["english"].text
    assert '<option value="sent" selected>' in answers["english"].text  # the other filter is kept


def test_the_log_pages_50_at_a_time_and_its_page_links_keep_the_filters(
    seeded_db: Database, settings: Settings
) -> None:
    add_user(seeded_db, StaffRole.STAFF)
    subscribe(seeded_db, [(f"r{index:03d}@example.jp", "jetro", "ja") for index in range(120)])
    subscribe(seeded_db, [("other@example.jp", "jcci", "ja")])
    number = compose(seeded_db)
    with seeded_db.session() as session:
        assert start_send(session, get_issue(session, number), now=utcnow(), by=UNCHECKED) == 121
    with served(seeded_db, settings) as console, logged_in(console, StaffRole.STAFF) as staff:
        first = staff.get("/admin/issues/1/log", params={"organization": "jetro"})
        third = staff.get(
            "/admin/issues/1/log", params={"organization": "jetro", "state": "queued", "page": "3"}
        )
        beyond = staff.get("/admin/issues/1/log", params={"organization": "jetro", "page": "99"})
        progress = staff.get("/admin/issues/1/progress")
    assert logged(first.text) == [f"r{index:03d}@example.jp" for index in range(50)]
    assert "120件中 1 / 3ページ（配信順）" in first.text
    assert 'href="/admin/issues/1/log?organization=jetro&amp;page=2" rel="next"' in first.text
    assert 'href="/admin/issues/1/log?organization=jetro&amp;page=3">最後のページ' in first.text
    assert 'rel="prev"' not in first.text
    assert logged(third.text) == [f"r{index:03d}@example.jp" for index in range(100, 120)]
    assert (
        'href="/admin/issues/1/log?organization=jetro&amp;state=queued&amp;page=2" rel="prev"' in third.text
    )
    assert 'rel="next"' not in third.text
    assert "3 / 3ページ" in third.text
    assert logged(beyond.text) == logged(third.text)  # a page past the last shows the last
    # queued, none sent yet: nothing handled, and no rate to tell the time left by
    assert '<progress id="send-progress" max="121" value="0">0%</progress>' in progress.text
    assert "<dt>残り時間の見込み</dt><dd>—</dd>" in progress.text


# The CSV


def _csv(answer: httpx.Response) -> list[list[str]]:
    assert answer.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))


def test_the_csv_holds_the_filtered_rows_under_a_header_in_the_pages_language_and_runs_no_formula(
    ledger: Ledger,
) -> None:
    with logged_in(ledger.console, StaffRole.APPROVER) as approver:
        everything = approver.get("/admin/issues/1/log.csv")
        failed = approver.get("/en/admin/issues/1/log.csv", params={"code": "5xx", "organization": "jetro"})
        percent = approver.get("/admin/issues/1/log.csv", params={"address": "%off"})
    assert everything.status_code == failed.status_code == percent.status_code == 200
    assert everything.headers["content-type"] == "text/csv; charset=utf-8"
    assert everything.headers["content-disposition"] == 'attachment; filename="issue-1-log.csv"'
    rows = _csv(everything)
    assert rows[0] == [
        "メールアドレス",
        "団体",
        "配信言語",
        "状態",
        "SMTPコード",
        "最後の応答",
        "試行回数",
        "更新日時（日本時間）",
    ]
    assert [row[0] for row in rows[1:]] == [
        email if not email.startswith(("=", "+")) else f"'{email}" for email, *_ in RECIPIENTS
    ]
    by_address = {row[0]: row for row in rows[1:]}
    assert by_address["b.suzuki@example.jp"][1:7] == [
        "日本商工会議所",
        "日本語",
        "宛先不明",
        "550",
        "5.1.1 <b.suzuki@example.jp>: user unknown",
        "1",
    ]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", by_address["b.suzuki@example.jp"][7])
    assert by_address["'=sum@example.jp"][5] == "'@SUM(1+1) refused"  # a formula to Excel: made inert
    assert by_address["'+tag@example.jp"][5] == "5.2.2 mailbox full"
    english = _csv(failed)
    assert english == [
        [
            "Email address",
            "Organization",
            "Language",
            "State",
            "SMTP code",
            "Last reply",
            "Attempts",
            "Updated (JST)",
        ],
        [
            "'=sum@example.jp",
            "Japan External Trade Organization (JETRO)",
            "Japanese",
            "Failed",
            "554",
            "'@SUM(1+1) refused",
            "1",
            english[1][7],
        ],
    ]
    assert [row[0] for row in _csv(percent)[1:]] == ["pct%off@example.jp"]


def test_a_cell_that_starts_like_a_formula_is_made_text() -> None:
    cells = ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "a=1", "", "5.1.1 -")
    assert [inert(cell) for cell in cells] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\t=1",
        "'\r=1",
        "a=1",
        "",
        "5.1.1 -",
    ]
