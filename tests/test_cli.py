"""The `outreach` command line, run in-process against real databases, a real SMTP server and real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from outreach.cli import cli
from outreach.db import Database
from tests.conftest import snapshot
from tests.smtp_server import SmtpServer, free_port

LONG_SECRET = "a-test-secret-key-long-enough-for-the-guard-0123456789"
SUMMARY = """第9回本会合では、**各参加組織**の取組が紹介されました。

- 安全対策セミナーの拡充
- [海外安全ホームページ](https://www.anzen.mofa.go.jp/)

<script>alert(1)</script>
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def ready(env: dict[str, str], db: Database) -> Database:
    assert run("seed").exit_code == 0
    return db


def test_a_database_that_is_not_migrated_is_named_and_exits_3(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")

    result = run("seed")

    assert result.exit_code == 3
    assert "outreach db upgrade" in result.output
    assert run("db", "upgrade").exit_code == 0
    assert run("db", "status").exit_code == 0
    assert run("seed").exit_code == 0


def test_seed_twice_changes_nothing(ready: Database) -> None:
    before = snapshot(ready)

    result = run("seed")

    assert result.exit_code == 0
    assert "already there" in result.output
    assert snapshot(ready) == before
    orgs = json.loads(run("org", "list", "--json").output)
    assert len(orgs) == 31
    assert {"jetro", "jcci", "mofa", "chuokai", "network"} <= {org["slug"] for org in orgs}


def test_after_a_plenary_staff_record_compose_preview_and_send(ready: Database, tmp_path: Path) -> None:
    (tmp_path / "p9.md").write_text(SUMMARY, encoding="utf-8")
    added = run(
        "meeting", "add", "plenary:9", "--date", "2026-11-20", "--format", "hybrid", "--summary", "p9.md",
        "--opened-by", "外務副大臣", "--link", "開催結果|https://www.anzen.mofa.go.jp/anzen_info/network.html",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "plenary:9" in run("meeting", "list").output
    composed = run("issue", "compose", "--meeting", "plenary:9", "--date", "2026-12-01")
    assert composed.exit_code == 0, composed.output
    assert "issue No. 1" in composed.output
    assert "第9回本会合" in composed.output

    preview = run("issue", "preview", "1", "--org", "jcci", "--out", "out/jcci.html")
    assert preview.exit_code == 0, preview.output
    html = (tmp_path / "out" / "jcci.html").read_text(encoding="utf-8")
    assert "日本商工会議所" in html
    assert "<strong>各参加組織</strong>" in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "2026年" in html  # the date's wording is the renderer's (tests/test_dates.py): here only its parts
    assert "令和8年" in html
    assert "11月20日" in html

    assert (
        run(
            "subscribers", "add", "info@sme-one.example.jp", "--company", "一号精機", "--org", "jcci"
        ).exit_code
        == 0
    )
    assert run("subscribers", "add", "info@sme-two.example.jp", "--lang", "en").exit_code == 0
    sent = run("issue", "send", "1")
    assert sent.exit_code == 0, sent.output
    assert "2 sent" in sent.output
    emls = sorted((tmp_path / "var" / "outbox" / "issue-0001").rglob("*.eml"))
    assert [path.parent.name for path in emls] == ["jcci", "network"]

    status = json.loads(run("issue", "status", "1", "--json").output)
    assert status["status"] == "sent"
    assert status["counts"] == {"sent": 2}
    log = json.loads(run("log", "--issue", "1", "--json").output)
    assert {(entry["email"], entry["organization"], entry["smtp_code"]) for entry in log} == {
        ("info@sme-one.example.jp", "jcci", 250),
        ("info@sme-two.example.jp", "network", 250),
    }
    again = run("issue", "send", "1")
    assert again.exit_code == 0
    assert "already sent" in again.output
    assert len(list((tmp_path / "var" / "outbox").rglob("*.eml"))) == 2


def _roster(tmp_path: Path, text: str, encoding: str = "utf-8-sig") -> str:
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_a_shift_jis_roster_goes_in_whole_and_a_dry_run_changes_nothing(
    ready: Database, tmp_path: Path
) -> None:
    roster = _roster(
        tmp_path,
        "メールアドレス,会社名,氏名\r\nsato@kaisha.example.jp,株式会社髙橋製作所,佐藤 一郎\r\n"
        "ITO@Kaisha.example.jp,伊藤商店,伊藤 二郎\r\n",
        "cp932",
    )
    before = snapshot(ready)

    dry = run("subscribers", "import", roster, "--org", "chuokai", "--dry-run")
    assert dry.exit_code == 0
    assert "would add 2" in dry.output
    assert snapshot(ready) == before

    real = run("subscribers", "import", roster, "--org", "chuokai")
    assert real.exit_code == 0
    assert "added 2" in real.output
    again = run("subscribers", "import", roster, "--org", "chuokai")
    assert "added 0, 2 already subscribed" in again.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["subscribers", "import", "ROSTER", "--org", "nosuch"], "no organization 'nosuch'"),
        (["subscribers", "import", "BAD", "--org", "jetro"], "line 3"),
        (["subscribers", "add", "not-an-address", "--org", "jetro"], "not a usable email address"),
        (["subscribers", "add", "x@example.jp\r\nBcc: y@example.jp"], "control character"),
        (["issue", "compose", "--meeting", "plenary:99"], "no meeting plenary:99"),
        (["issue", "compose", "--meeting", "plenary-8"], "kind:number"),
        (["issue", "send", "42"], "no issue No. 42"),
        (["issue", "preview", "42", "--out", "x.html"], "no issue No. 42"),
        (["log", "--issue", "42"], "no issue No. 42"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message_and_changes_nothing(
    ready: Database, tmp_path: Path, args: list[str], message: str
) -> None:
    good = _roster(tmp_path, "email,company\r\na@example.jp,A\r\n")
    bad = str(tmp_path / "bad.csv")
    Path(bad).write_text("email,company\r\nok@example.jp,A\r\nbroken@@example.jp,B\r\n", encoding="utf-8")
    args = [good if arg == "ROSTER" else bad if arg == "BAD" else arg for arg in args]
    before = snapshot(ready)

    result = CliRunner().invoke(cli, args)

    assert result.exit_code == 2, result.output
    assert message in result.output
    assert snapshot(ready) == before


@pytest.fixture
def production(ready: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """Settings that the production guard lets mail a real relay."""
    monkeypatch.setenv("OUTREACH_SECRET_KEY", LONG_SECRET)
    return ready


def test_an_unreachable_relay_pauses_the_send_with_the_reason_and_sending_again_resumes_it(
    production: Database, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("subscribers", "add", "one@example.jp", "--org", "jetro").exit_code == 0
    assert run("issue", "compose", "--meeting", "plenary:8").exit_code == 0

    monkeypatch.setenv("OUTREACH_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    down = CliRunner().invoke(cli, ["issue", "send", "1"])
    assert down.exit_code == 4
    assert "cannot connect" in down.output
    assert "`outreach issue send 1` resumes it" in down.output
    status = json.loads(run("issue", "status", "1", "--json").output)
    assert status["counts"] == {"queued": 1}
    assert status["status"] == "paused"
    assert status["pause_reason"].startswith("the relay could not be reached: cannot connect")

    monkeypatch.setenv("OUTREACH_SMTP_URL", smtp_server.url)
    detached = run("issue", "send", "1", "--detach")  # a worker would deliver it from here
    assert "issue No. 1 is sending" in detached.output
    up = run("issue", "send", "1")
    assert up.exit_code == 0, up.output
    [received] = smtp_server.handler.to("one@example.jp")
    assert "日本貿易振興機構" in received.parsed().get_body(("plain",)).get_content()
    assert json.loads(run("issue", "status", "1", "--json").output)["status"] == "sent"


def test_a_send_that_paused_itself_exits_6_with_the_reason(
    production: Database, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(4):
        assert run("subscribers", "add", f"gone{index}@example.jp").exit_code == 0
        smtp_server.handler.rcpt_replies[f"gone{index}@example.jp"] = "550 5.1.1 no such user"
    assert run("issue", "compose", "--meeting", "plenary:8").exit_code == 0
    monkeypatch.setenv("OUTREACH_SMTP_URL", smtp_server.url)
    monkeypatch.setenv("OUTREACH_PAUSE_AFTER_ERRORS", "2")
    monkeypatch.setenv("OUTREACH_SMTP_CONNECTIONS", "1")

    result = CliRunner().invoke(cli, ["issue", "send", "1"])

    assert result.exit_code == 6, result.output
    assert "error: issue No. 1 paused itself: 2 errors in a row" in result.output
    assert "then `outreach issue resume 1`" in result.output
    assert json.loads(run("issue", "status", "1", "--json").output)["status"] == "paused"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_missing_database_file_is_named_and_never_made(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the default database, var/outreach.sqlite3, is not in this folder
    monkeypatch.delenv("OUTREACH_DATABASE_URL")
    monkeypatch.delenv("OUTREACH_VAR_DIR")

    for command in (
        ["issue", "list"],
        ["db", "status"],
        ["seed"],
        ["issue", "send", "1"],
        ["worker", "--once"],
    ):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 3, result.output
        assert f"the database file {elsewhere / 'var' / 'outreach.sqlite3'} does not exist" in result.output
        assert "outreach db upgrade" in result.output
    assert list(elsewhere.iterdir()) == []

    assert run("db", "upgrade").exit_code == 0  # it alone makes the file, and the one folder it needs
    assert (elsewhere / "var" / "outreach.sqlite3").is_file()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_database_url_makes_at_most_the_last_folder(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_DATABASE_URL", f"sqlite:///{tmp_path / 'typo' / 'deep' / 'x.sqlite3'}")

    deep = CliRunner().invoke(cli, ["db", "upgrade"])

    assert deep.exit_code == 2, deep.output
    assert f"the folder {tmp_path / 'typo'} does not exist" in deep.output
    assert not (tmp_path / "typo").exists()
    monkeypatch.setenv("OUTREACH_DATABASE_URL", f"sqlite:///{tmp_path / 'data' / 'x.sqlite3'}")
    assert run("db", "upgrade").exit_code == 0
    assert (tmp_path / "data" / "x.sqlite3").is_file()


def test_out_makes_at_most_the_last_folder(ready: Database, tmp_path: Path) -> None:
    assert run("subscribers", "add", "one@example.jp", "--org", "jetro").exit_code == 0
    assert run("issue", "compose", "--meeting", "plenary:8").exit_code == 0

    deep = CliRunner().invoke(cli, ["issue", "preview", "1", "--out", "typo/deep/jetro.html"])
    assert deep.exit_code == 2, deep.output
    assert f"the folder {tmp_path / 'typo'} does not exist" in deep.output
    export = CliRunner().invoke(cli, ["subscribers", "export", "--org", "jetro", "--out", "typo/deep/j.csv"])
    assert export.exit_code == 2, export.output
    assert not (tmp_path / "typo").exists()

    exported = CliRunner().invoke(cli, ["subscribers", "export", "--org", "jetro", "--out", "rosters/j.csv"])
    assert exported.exit_code == 0, exported.output
    assert "one@example.jp" in (tmp_path / "rosters" / "j.csv").read_text(encoding="utf-8-sig")


def test_make_run_demo_runs_as_a_program_and_is_idempotent(env: dict[str, str], tmp_path: Path) -> None:
    first = subprocess.run(
        [sys.executable, "-m", "outreach", "demo"], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert first.returncode == 0, first.stderr
    assert "Where to look" in first.stdout
    sent = len(list((tmp_path / "var" / "outbox").rglob("*.eml")))
    assert sent == 62
    second = subprocess.run(
        [sys.executable, "-m", "outreach", "demo"], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert second.returncode == 0, second.stderr
    assert "already sent" in second.stdout
    assert len(list((tmp_path / "var" / "outbox").rglob("*.eml"))) == sent
    assert "test-secret-key" not in first.stdout + first.stderr + second.stdout
