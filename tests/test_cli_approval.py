"""The sign-off on the command line, against real databases under OUTREACH_APPROVAL=two-person (the default):
`issue approve N --as EMAIL` logs the approver in, `issue compose` and `issue edit` name the composer, `issue
send` and `issue schedule` refuse an unapproved issue, and on a real terminal `issue send` shows what it is
about to do and asks (`--yes` does not), and `outreach demo` signs its own issue off.
"""

from __future__ import annotations

import asyncio
import getpass
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from outreach.calendar import JST
from outreach.cli import cli
from outreach.cli.common import App
from outreach.cli.schedule import send_with
from outreach.db import Database
from outreach.issues import get_issue
from outreach.jobs import JobRuntime, RunResult, scheduled_send
from outreach.models import Delivery, IssueStatus, utcnow
from outreach.staff import users as staff_users
from outreach.staff.models import AuditEvent, StaffUser
from tests.conftest import snapshot
from tests.test_cli_users import _on_a_terminal

PASSWORD = "correct horse battery staple"
APPROVER, STAFF = "approver@example.jp", "staff@example.jp"
ME = f"cli:{getpass.getuser()}"


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


@pytest.fixture
def ready(env: dict[str, str], db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """The seeded network, three subscribers, an approver and a staff user, a draft No. 1 composed on the
    command line, and the two-person rule."""
    monkeypatch.setenv("OUTREACH_APPROVAL", "two-person")
    assert run("seed").exit_code == 0
    for email, org in (("a@example.jp", "jetro"), ("b@example.jp", "jcci"), ("c@example.jp", None)):
        assert run("subscribers", "add", email, *(["--org", org] if org else [])).exit_code == 0
    for email, role in ((APPROVER, "approver"), (STAFF, "staff")):
        added = run("users", "add", email, "--role", role, "--password-stdin", stdin=f"{PASSWORD}\n")
        assert added.exit_code == 0, added.output
    composed = run("issue", "compose", "--meeting", "plenary:8")
    assert composed.exit_code == 0, composed.output
    assert f"composed by {ME}; not approved" in composed.stdout
    return db


def approve(email: str = APPROVER, stdin: str = f"{PASSWORD}\n") -> Result:
    return run("issue", "approve", "1", "--as", email, "--password-stdin", stdin=stdin)


def sign_off(db: Database) -> tuple[IssueStatus, str | None, str | None]:
    with db.session() as session:
        issue = get_issue(session, 1)
        return issue.status, issue.composed_by, issue.approved_by


def deliveries(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(Delivery)) or 0)


def actions(db: Database) -> list[tuple[str, str]]:
    with db.session() as session:
        return [
            (actor, action) for actor, action in session.execute(select(AuditEvent.actor, AuditEvent.action))
        ]


def test_an_approver_approves_with_their_password(ready: Database) -> None:
    approved = approve()

    assert approved.exit_code == 0, approved.output
    assert approved.stdout.startswith("issue No. 1 (draft) approved by staff:approver@example.jp at ")
    assert PASSWORD not in approved.output
    assert sign_off(ready) == (IssueStatus.DRAFT, ME, "staff:approver@example.jp")
    assert ("staff:approver@example.jp", "issue.approve") in actions(ready)
    again = approve()
    assert again.exit_code == 2
    assert again.stderr.startswith("error: issue No. 1 is already approved by staff:approver@example.jp")


@pytest.mark.parametrize(
    ("email", "stdin", "message"),
    [
        (APPROVER, "not the password at all\n", "the password or the code is not right"),
        ("nobody@example.jp", f"{PASSWORD}\n", "the password or the code is not right"),
        (APPROVER, "", "standard input holds no password"),
        (STAFF, f"{PASSWORD}\n", "staff@example.jp is staff: only an approver or an admin approves an issue"),
    ],
)
def test_a_wrong_password_or_role_is_refused_and_approves_nothing(
    ready: Database, email: str, stdin: str, message: str
) -> None:
    before = snapshot(ready)

    refused = approve(email, stdin)

    assert refused.exit_code == 2, refused.output
    assert refused.stdout == ""
    assert len(refused.stderr.splitlines()) == 1
    assert message in refused.stderr
    assert PASSWORD not in refused.stderr
    after = snapshot(ready)
    assert after["issues"] == before["issues"]
    # A wrong password counts against the account, as at the console's login; nothing else changes.
    changed = {name for name, rows in after.items() if rows != before[name]}
    assert changed <= {"staff_users", "audit_events"}
    if "not the password" in stdin:
        assert [action for _, action in actions(ready)][-1] == "login.failed"


def test_an_enrolled_approver_gives_the_code_on_the_next_line(ready: Database) -> None:
    with ready.session() as session:
        secret = staff_users.enrol_totp(session, APPROVER, actor="cli:root", now=utcnow()).secret
    assert approve(stdin=f"{PASSWORD}\n000000\n").exit_code == 2
    assert approve(stdin=f"{PASSWORD}\n").exit_code == 2  # no code
    assert sign_off(ready)[2] is None

    approved = approve(stdin=f"{PASSWORD}\n{pyotp.TOTP(secret).now()}\n")

    assert approved.exit_code == 0, approved.output
    assert sign_off(ready)[2] == "staff:approver@example.jp"
    with ready.session() as session:
        row = session.scalar(select(StaffUser).where(StaffUser.email == APPROVER))
        assert row is not None
        assert row.failed_logins == 0


def test_an_unapproved_issue_is_neither_sent_nor_scheduled(ready: Database) -> None:
    before = snapshot(ready)
    next_year = datetime.now(JST).year + 1

    for args in (
        ("issue", "send", "1"),
        ("issue", "send", "1", "--detach"),
        ("issue", "schedule", "1", "--at", f"{next_year}-12-01 10:00"),
    ):
        refused = run(*args)
        assert refused.exit_code == 2, (args, refused.output)
        assert "error: issue No. 1 is not approved yet: an approver must approve it first" in refused.stderr

    assert snapshot(ready) == before


def test_once_approved_a_script_sends_without_being_asked_and_an_edit_needs_a_new_approval(
    ready: Database,
) -> None:
    assert approve().exit_code == 0
    edited = run("issue", "edit", "1", "--subject", "【臨時号】第8回本会合の開催結果")
    assert edited.exit_code == 0, edited.output
    assert sign_off(ready) == (IssueStatus.DRAFT, ME, None)
    assert run("issue", "send", "1").exit_code == 2
    assert approve().exit_code == 0

    sent = run("issue", "send", "1")  # standard input is no terminal: nothing is asked

    assert sent.exit_code == 0, sent.output
    assert "[y/N]" not in sent.output
    assert sign_off(ready)[0] == IssueStatus.SENT
    assert deliveries(ready) == 3
    assert (ME, "issue.send") in actions(ready)


def test_a_terminal_is_shown_the_send_and_asked(ready: Database) -> None:
    assert approve().exit_code == 0
    before = snapshot(ready)

    code, seen = _on_a_terminal(["issue", "send", "1"], [(b"[y/N]:", b"n\n")])

    assert code == 1, seen
    text = seen.decode()
    assert "issue No. 1 (draft, approved by staff:approver@example.jp at " in text
    assert "subject (ja): 【海外安全メールマガジン 第1号】第8回本会合の開催結果" in text
    assert "subject (en): " in text
    rows = {line.split()[0]: line.split()[1] for line in text.splitlines() if line.startswith("  j")}
    assert rows == {"jetro": "1", "jcci": "1"}
    assert "network" in text  # the unaffiliated get the network's rendition
    assert "Send issue No. 1 to 3 recipients now? [y/N]:" in text
    assert "issue No. 1 was not sent" in text
    assert snapshot(ready) == before

    code, seen = _on_a_terminal(["issue", "send", "1"], [(b"[y/N]:", b"y\n")])

    assert code == 0, seen
    assert deliveries(ready) == 3
    assert sign_off(ready)[0] == IssueStatus.SENT


def test_yes_sends_from_a_terminal_without_asking(ready: Database) -> None:
    assert approve().exit_code == 0

    code, seen = _on_a_terminal(["issue", "send", "1", "--yes"], [])

    assert code == 0, seen
    assert b"[y/N]" not in seen
    assert deliveries(ready) == 3


def test_the_scheduler_misses_an_issue_nobody_approved_and_the_history_says_why(ready: Database) -> None:
    due = datetime(datetime.now(JST).year + 1, 12, 1, 10, 0, tzinfo=JST)
    published = run("issue", "schedule", "1", "--at", due.strftime("%Y-%m-%d %H:%M"))
    assert published.exit_code == 2  # staff cannot plan it unapproved; `meeting publish` can:
    published = run(
        "meeting", "publish", "plenary:9", "--date", "2026-11-20", "--summary", str(_summary()),
        "--send-at", due.strftime("%Y-%m-%d %H:%M"),
    )  # fmt: skip
    assert published.exit_code == 0, published.output
    assert "it goes out only once approved: `outreach issue approve 2 --as EMAIL`" in published.output
    runtime = JobRuntime(db=ready, send=send_with(App()), grace=timedelta(hours=2), clock=lambda: due)

    outcome = asyncio.run(scheduled_send(runtime, 2, scheduled_for=due))

    assert outcome.result == RunResult.MISSED
    with ready.session() as session:
        issue = get_issue(session, 2)
        assert (issue.status, issue.composed_by) == (IssueStatus.DRAFT, ME)
    history = run("schedule", "history")
    assert "missed" in history.output
    assert "not sent: issue No. 2 is not approved yet" in history.output
    assert deliveries(ready) == 0


def _summary() -> Path:
    path = Path("p9.md")
    path.write_text("第9回本会合では、安全対策セミナーの拡充が報告されました。", encoding="utf-8")
    return path


def test_make_run_signs_its_own_issue_off(
    env: dict[str, str], db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_APPROVAL", "two-person")
    demo = subprocess.run(
        [sys.executable, "-m", "outreach", "demo"], capture_output=True, text=True, check=False, cwd=tmp_path
    )

    assert demo.returncode == 0, demo.stderr
    with db.session() as session:
        issue = get_issue(session, 1)
        assert (issue.status, issue.composed_by, issue.approved_by) == (
            IssueStatus.SENT,
            "demo:composer",
            "demo:approver",
        )
