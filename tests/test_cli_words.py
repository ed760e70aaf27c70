"""The words and figures the command line prints (issue 16), read back as a person reads them."""

from __future__ import annotations

import json
import os
import socket
import sys
import tomllib
from datetime import datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from outreach import outbox
from outreach.calendar import JST
from outreach.cli import cli
from outreach.cli.common import org_slug
from outreach.cli.demo import outreach_command
from outreach.db import Database
from outreach.leader import leadership_for
from outreach.models import utcnow
from tests.smtp_server import SmtpServer, free_port
from tests.test_cli import production, ready, run  # noqa: F401 (the fixtures, by name below)

ROOT = Path(__file__).resolve().parent.parent
REACH_HEADER = "  organization  recipients  sent  failed  waiting  name"


def _lines(*args: str) -> list[str]:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def _subscribe_and_compose(*organizations: str) -> None:
    for number, organization in enumerate(organizations):
        where = ("--org", organization) if organization else ()
        assert run("subscribers", "add", f"reader{number}@example.jp", *where).exit_code == 0
    assert run("issue", "compose", "--meeting", "plenary:8").exit_code == 0


# --- per-organization rows, names, order and header rows -------------------------------------------------


@pytest.mark.usefixtures("ready")
def test_status_prints_a_row_per_organization_with_its_name_in_the_networks_order() -> None:
    _subscribe_and_compose("jetro", "", "jcci", "jetro")
    sent = _lines("issue", "send", "1")

    status = _lines("issue", "status", "1")

    assert status[0] == "issue No. 1: sent"
    assert status[1] == REACH_HEADER
    assert [line.split()[0] for line in status[2:5]] == ["network", "jcci", "jetro"]
    assert status[2].split() == ["network", "1", "1", "0", "0", "中堅・中小企業海外安全対策ネットワーク"]
    assert status[3].split() == ["jcci", "1", "1", "0", "0", "日本商工会議所"]
    assert status[4].split() == ["jetro", "2", "2", "0", "0", "日本貿易振興機構"]
    assert status[5] == "  all recipients: 4 sent"
    assert sent[2:7] == status[1:6]  # the send's summary shows the same table


@pytest.mark.usefixtures("ready")
def test_a_draft_has_no_rows_yet_and_says_why() -> None:
    _subscribe_and_compose("jetro")

    assert _lines("issue", "status", "1") == [
        "issue No. 1: draft",
        "  no recipients yet: the send has not started",
    ]
    assert _lines("log", "--issue", "1") == ["no recipients yet: issue No. 1 is draft"]


@pytest.mark.usefixtures("ready")
def test_lists_have_a_header_row() -> None:
    _subscribe_and_compose("jetro")

    issues = _lines("issue", "list")
    meetings = _lines("meeting", "list")
    organizations = _lines("org", "list")

    assert issues[0].split() == ["issue", "date", "status", "subject"]
    assert issues[1].startswith("No. 1  ")
    assert meetings[0].split() == ["meeting", "held", "on", "format", "opened", "by"]
    assert meetings[1].startswith("plenary:1  ")
    assert organizations[0].split() == ["organization", "name", "name", "(en)"]
    assert organizations[1].startswith("network  ")


@pytest.mark.usefixtures("env", "db")
def test_an_empty_list_says_so() -> None:
    assert _lines("issue", "list") == [
        "no issues yet: `outreach issue compose --meeting KIND:NUMBER` makes one"
    ]


# --- the log: Japan time, and a word when it is empty -------------------------------------------------


@pytest.mark.usefixtures("ready")
def test_the_log_shows_japan_time_and_says_so() -> None:
    _subscribe_and_compose("jetro")
    assert run("issue", "send", "1").exit_code == 0
    [entry] = json.loads(run("log", "--issue", "1", "--json").output)
    changed = datetime.fromisoformat(entry["updated_at"])

    log = _lines("log", "--issue", "1")

    assert entry["updated_at"].endswith("+09:00")
    assert log[0].split() == [
        "recipient", "organization", "status", "code", "attempts", "updated", "(JST)", "reply",
    ]  # fmt: skip
    assert log[1].split()[:7] == [
        "reader0@example.jp", "jetro", "sent", "250", "1", f"{changed.astimezone(JST):%Y-%m-%d}",
        f"{changed.astimezone(JST):%H:%M:%S}",
    ]  # fmt: skip


@pytest.mark.usefixtures("ready")
def test_a_log_with_no_row_in_the_state_asked_for_says_so() -> None:
    _subscribe_and_compose("jetro")
    assert run("issue", "send", "1").exit_code == 0

    assert _lines("log", "--issue", "1", "--status", "failed") == ["no recipients in state failed"]


# --- --org in any case --------------------------------------------------------------------------------


@pytest.mark.usefixtures("ready")
def test_org_takes_a_slug_in_any_case(tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text("email,company\r\na@example.jp,A\r\n", encoding="utf-8")
    assert "added reader0@example.jp (ja, jetro)" in _lines(
        "subscribers", "add", "reader0@example.jp", "--org", "JETRO"
    )
    assert (
        "added 1"
        in _lines("subscribers", "import", "roster.csv", "--org", " ChuoKai ", "--consent", "vouched")[0]
    )
    assert run("issue", "compose", "--meeting", "plenary:8").exit_code == 0

    preview = _lines("issue", "preview", "1", "--org", "Jetro", "--out", "jetro.html")
    export = _lines("subscribers", "export", "--org", "JETRO", "--out", "jetro.csv")
    trial = _lines("issue", "test-send", "1", "--to", "colleague@example.jp", "--org", "JCCI")

    assert preview[0].startswith("wrote jetro.html (jetro, ja)")
    assert export == ["wrote 1 subscriber(s) of jetro to jetro.csv"]
    assert trial[0].startswith("test of issue No. 1 (jcci, ja) to colleague@example.jp: 250")


def _org_options(command: click.Command, path: str = "outreach") -> list[tuple[str, click.Parameter]]:
    found = [(path, option) for option in command.params if "--org" in option.opts]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found += _org_options(sub, f"{path} {name}")
    return found


def test_every_org_option_matches_slugs_in_any_case() -> None:
    options = _org_options(cli)

    assert len(options) >= 5
    assert [path for path, option in options if option.callback is not org_slug] == []


# --- where the mail goes -----------------------------------------------------------------------------


@pytest.mark.usefixtures("production")
def test_the_send_says_plain_smtp_not_none(smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    _subscribe_and_compose("jetro")
    monkeypatch.setenv("OUTREACH_SMTP_URL", smtp_server.url)

    sent = _lines("issue", "send", "1")

    assert sent[1] == f"  to: SMTP relay 127.0.0.1:{smtp_server.port} (plain SMTP, no TLS)"


@pytest.mark.usefixtures("production")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the words do not depend on it
@pytest.mark.parametrize(
    ("scheme", "words"),
    [("smtp", "plain SMTP, no TLS"), ("smtp+starttls", "STARTTLS"), ("smtps", "SMTPS/TLS")],
)
def test_the_worker_names_the_relays_security(
    monkeypatch: pytest.MonkeyPatch, scheme: str, words: str
) -> None:
    port = free_port()  # nothing is due, so the worker never connects
    monkeypatch.setenv("OUTREACH_SMTP_URL", f"{scheme}://mailer:secret@127.0.0.1:{port}")

    started = _lines("worker", "--once", "--connections", "1")

    assert started[0].endswith(f"1 connection(s) to SMTP relay mailer@127.0.0.1:{port} ({words})")


# --- is a scheduler running? ------------------------------------------------------------------------


def _publish(tmp_path: Path) -> list[str]:
    (tmp_path / "p9.md").write_text("第9回本会合の結果です。", encoding="utf-8")
    return _lines("meeting", "publish", "plenary:9", "--summary", "p9.md", "--date", "2026-11-20")


@pytest.mark.usefixtures("ready")
def test_publish_says_when_no_scheduler_runs(tmp_path: Path) -> None:
    published = _publish(tmp_path)

    assert "  no scheduler is running: start `outreach scheduler`, or nothing will be sent" in published


@pytest.mark.usefixtures("ready")
def test_publish_and_schedule_name_the_running_scheduler(db: Database, tmp_path: Path) -> None:
    next_year = utcnow().year + 1
    lead = leadership_for(db)  # what `outreach scheduler` holds while it leads
    assert lead.try_acquire()
    try:
        published = _publish(tmp_path)
        scheduled = _lines("issue", "schedule", "1", "--at", f"{next_year}-12-01 10:00")
    finally:
        lead.release()
    stopped = _lines("issue", "schedule", "1", "--at", f"{next_year}-12-02 10:00")

    running = f"  the scheduler is running (host {socket.gethostname()}, process {os.getpid()}, last seen "
    [said] = [line for line in published if line.startswith(running)]
    assert said.endswith(" s ago): it sends the issue then")
    assert any(line.startswith(running) for line in scheduled)
    assert "  no scheduler is running: start `outreach scheduler`, or nothing will be sent" in stopped


# --- help that reads as sentences --------------------------------------------------------------------


def _groups(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if not isinstance(command, click.Group):
        return []
    found = [path]
    for name, sub in command.commands.items():
        found += _groups(sub, (*path, name))
    return found


@pytest.mark.parametrize("group", _groups(cli), ids=lambda path: " ".join(("outreach", *path)))
def test_every_command_in_a_help_listing_is_a_whole_sentence(group: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*group, "--help"], terminal_width=80)
    listing = result.output.split("Commands:\n", 1)[1].splitlines()
    helps = {line.split(maxsplit=1)[0]: line.split(maxsplit=1)[1] for line in listing if line.strip()}

    cut_or_no_sentence = [
        f"{name}: {text}"
        for name, text in helps.items()
        if not text[0].isupper() or not text.endswith(".") or text.endswith("...")
    ]
    assert cut_or_no_sentence == []
    if group == ("meeting",):
        assert helps["add"] == "Record a meeting's outcome."


# --- the hints after `make run` ---------------------------------------------------------------------


def _virtualenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    program = tmp_path / "venv" / "bin" / "outreach"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n", encoding="ascii")
    program.chmod(0o755)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    return program


def test_the_hints_name_the_virtualenvs_program_when_path_does_not_find_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = _virtualenv(tmp_path, monkeypatch)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert outreach_command() == "venv/bin/outreach"
    monkeypatch.setenv("PATH", f"{program.parent}:/usr/bin:/bin")
    assert outreach_command() == "outreach"


@pytest.mark.usefixtures("env")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_demo_hints_work_after_make_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _virtualenv(tmp_path, monkeypatch)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")

    hints = _lines("demo", "--per-org", "0")

    assert "  delivery log: venv/bin/outreach log --issue 1" in hints
    assert (
        "  console:      venv/bin/outreach users add you@example.jp --role admin,"
        " then venv/bin/outreach serve and open http://127.0.0.1:8000/admin/"
    ) in hints
    assert "  (`outreach` alone works once the virtualenv is active: `source venv/bin/activate`)" in hints


# --- figures ----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("ready")
def test_a_detached_send_counts_the_recipients_it_queued() -> None:
    _subscribe_and_compose("jetro", "jcci")

    assert _lines("issue", "send", "1", "--detach") == [
        "issue No. 1 is sending; 2 recipients queued for the workers"
    ]


@pytest.mark.usefixtures("ready")
def test_a_message_whose_fate_was_unknown_counts_as_an_attempt(db: Database) -> None:
    _subscribe_and_compose("jetro")
    assert run("issue", "send", "1", "--detach").exit_code == 0
    with db.session() as session:  # a worker took the row, then stopped with the message in flight
        [row] = outbox.claim_rows(session, worker="gone", limit=10, now=utcnow(), issue_id=None)
        outbox.mark_unknown(session, [row.id], why="its worker stopped", resend=True, now=utcnow())
    before = _lines("log", "--issue", "1")[1].split()

    assert run("issue", "send", "1").exit_code == 0

    after = _lines("log", "--issue", "1")[1].split()
    assert before[2:5] == ["queued", "-", "1"]
    assert after[2:5] == ["sent", "250", "2"]


# --- packaging --------------------------------------------------------------------------------------


def test_the_package_folder_is_declared_so_editable_installs_need_no_import_hook() -> None:
    """setuptools puts a flat layout on sys.path with one .pth line, and no warning about folders named like
    the package, only when `package-dir` maps the root package to the project's folder."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

    assert config["tool"]["setuptools"]["package-dir"] == {"": "."}
