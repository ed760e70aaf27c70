"""`outreach users`, run in-process against real databases, and once on a real terminal for the prompt.

A password is never echoed, printed, logged or stored; bad input is one line on stderr, exit 2, and every
table as it was.
"""

from __future__ import annotations

import json
import os
import pty
import select
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select as sql_select

from outreach.cli import cli
from outreach.db import Database
from outreach.models import utcnow
from outreach.staff import login, users
from outreach.staff.models import AuditEvent, StaffUser
from outreach.staff.settings import StaffSettings
from tests.conftest import snapshot

PASSWORD = "correct horse battery staple"
SETTINGS = StaffSettings()


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


@pytest.fixture
def ready(env: dict[str, str], db: Database) -> Database:
    assert run("seed").exit_code == 0
    return db


def add(email: str = "a@example.jp", *options: str, password: str = PASSWORD) -> Result:
    return run("users", "add", email, *options, "--password-stdin", stdin=f"{password}\n")


def can_log_in(db: Database, email: str, password: str = PASSWORD, code: str = "") -> bool:
    with db.session() as session:
        done = login.log_in(session, email, password, code, ip=None, now=utcnow(), settings=SETTINGS)
    return done is not None


def audit_log(db: Database) -> list[tuple[str, str, str | None]]:
    with db.session() as session:
        rows = session.execute(
            sql_select(AuditEvent.actor, AuditEvent.action, AuditEvent.target).order_by(AuditEvent.id)
        )
        return [(actor, action, target) for actor, action, target in rows]


def test_add_list_and_log_in(ready: Database) -> None:
    added = add("A@Example.JP", "--role", "staff", "--name", "山田 太郎")
    assert added.exit_code == 0, added.output
    assert added.stdout == "added a@example.jp as staff\n"
    editor = add("editor@example.jp", "--role", "org-editor", "--org", " JETRO ")
    assert editor.stdout == "added editor@example.jp as org-editor for jetro\n"
    assert PASSWORD not in added.output + editor.output

    listed = run("users", "list")
    assert listed.exit_code == 0
    lines = listed.stdout.splitlines()
    assert lines[0].split() == [
        "email",
        "name",
        "role",
        "organization",
        "state",
        "TOTP",
        "last",
        "login",
        "(JST)",
    ]
    assert lines[1].split() == ["a@example.jp", "山田", "太郎", "staff", "-", "active", "no", "-"]
    assert lines[2].split() == ["editor@example.jp", "-", "org-editor", "jetro", "active", "no", "-"]

    assert can_log_in(ready, "a@example.jp")
    data = json.loads(run("users", "list", "--json").stdout)
    assert [(item["email"], item["role"], item["organization"], item["state"]) for item in data] == [
        ("a@example.jp", "staff", None, "active"),
        ("editor@example.jp", "org-editor", "jetro", "active"),
    ]
    assert data[0]["last_login_at"] is not None
    login_name = audit_log(ready)[0][0]
    assert login_name.startswith("cli:")
    assert audit_log(ready)[:2] == [
        (login_name, "user.add", "a@example.jp"),
        (login_name, "user.add", "editor@example.jp"),
    ]
    assert PASSWORD not in repr(snapshot(ready))


def test_an_empty_list_says_how_to_add_the_first(ready: Database) -> None:
    assert "outreach users add EMAIL --role admin" in run("users", "list").stdout
    assert json.loads(run("users", "list", "--json").stdout) == []


def test_disable_enable_and_a_new_password(ready: Database) -> None:
    add("a@example.jp", "--role", "approver")
    assert run("users", "disable", "a@example.jp").stdout == "disabled a@example.jp\n"
    assert run("users", "disable", "a@example.jp").stdout == "a@example.jp was disabled already\n"
    assert not can_log_in(ready, "a@example.jp")
    assert json.loads(run("users", "list", "--json").stdout)[0]["state"] == "disabled"
    assert run("users", "enable", "A@example.jp").stdout == "enabled a@example.jp\n"
    assert can_log_in(ready, "a@example.jp")

    changed = run(
        "users", "password", "a@example.jp", "--password-stdin", stdin="a fresh passphrase 2026\r\n"
    )
    assert changed.exit_code == 0, changed.output
    assert "a fresh passphrase" not in changed.output
    assert not can_log_in(ready, "a@example.jp")
    assert can_log_in(ready, "a@example.jp", "a fresh passphrase 2026")
    assert [action for _, action, _ in audit_log(ready)] == [
        "user.add", "user.disable", "user.enable", "login", "user.password", "login.failed", "login",
    ]  # fmt: skip


def test_enable_lifts_a_lockout(ready: Database) -> None:
    add("a@example.jp", "--role", "staff")
    for _ in range(SETTINGS.lockout_failures):
        assert not can_log_in(ready, "a@example.jp", "not the password")
    assert json.loads(run("users", "list", "--json").stdout)[0]["state"] == "locked"
    assert not can_log_in(ready, "a@example.jp")
    assert run("users", "enable", "a@example.jp").stdout == "enabled a@example.jp\n"
    assert can_log_in(ready, "a@example.jp")
    assert (
        run("users", "enable", "a@example.jp").stdout == "a@example.jp was enabled and not locked already\n"
    )


def test_totp_prints_the_uri_once_and_the_login_then_needs_the_code(ready: Database) -> None:
    add("a@example.jp", "--role", "admin")
    enrolled = run("users", "totp", "a@example.jp")
    assert enrolled.exit_code == 0, enrolled.output
    uri = next(
        line.split(": ", 1)[1] for line in enrolled.stdout.splitlines() if line.startswith("otpauth URI")
    )
    secret = next(
        line.split(": ", 1)[1] for line in enrolled.stdout.splitlines() if line.startswith("secret")
    )
    app = pyotp.parse_uri(uri)
    assert isinstance(app, pyotp.TOTP)
    assert app.secret == secret.replace(" ", "")
    assert "not shown again" in enrolled.stdout
    assert not can_log_in(ready, "a@example.jp")
    assert can_log_in(ready, "a@example.jp", code=app.now())
    assert json.loads(run("users", "list", "--json").stdout)[0]["totp"] is True
    with ready.session() as session:
        row = session.scalar(sql_select(StaffUser))
        assert row is not None
        assert users.staff_view(row).totp_enrolled


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("add", "not-an-address", "--role", "staff", "--password-stdin"), PASSWORD, "not a usable email"),
        (("add", "a@example.jp", "--role", "staff", "--password-stdin"), PASSWORD, "already a staff user"),
        (
            ("add", "b@example.jp", "--role", "wizard", "--password-stdin"),
            PASSWORD,
            "not one of staff|approver",
        ),
        (("add", "b@example.jp", "--role", "org-editor", "--password-stdin"), PASSWORD, "needs --org"),
        (
            ("add", "b@example.jp", "--role", "org-editor", "--org", "x", "--password-stdin"),
            PASSWORD,
            "no organiz",
        ),
        (
            ("add", "b@example.jp", "--role", "staff", "--org", "jetro", "--password-stdin"),
            PASSWORD,
            "only for",
        ),
        (("add", "b@example.jp", "--role", "staff", "--password-stdin"), "short", "at least 12"),
        (
            ("add", "b@example.jp", "--role", "staff", "--password-stdin"),
            "b@example.jp 2026",
            "email address",
        ),
        (("add", "b@example.jp", "--role", "staff", "--password-stdin"), "", "holds no password"),
        (("add", "b@example.jp", "--role", "staff"), PASSWORD, "no terminal"),
        (("password", "a@example.jp"), PASSWORD, "no terminal"),
        (("password", "a@example.jp", "--password-stdin"), "too short", "at least 12"),
        (("password", "nobody@example.jp", "--password-stdin"), PASSWORD, "no staff user"),
        (("disable", "nobody@example.jp"), None, "no staff user"),
        (("enable", "nobody@example.jp"), None, "no staff user"),
        (("totp", "nobody@example.jp"), None, "no staff user"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    ready: Database, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    assert add("a@example.jp", "--role", "staff").exit_code == 0
    before = snapshot(ready)

    result = run("users", *args, stdin=f"{stdin}\n" if stdin is not None else None)

    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    if stdin:
        assert stdin not in result.stderr
    assert snapshot(ready) == before


def test_users_need_a_migrated_database(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTREACH_DATABASE_URL", f"sqlite:///{tmp_path / 'none.sqlite3'}")
    result = run("users", "list")
    assert result.exit_code == 3
    assert "outreach db upgrade" in result.stderr


def _on_a_terminal(args: list[str], answers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """Run `python -m outreach ARGS` on a new pseudo-terminal, typing each answer once its prompt shows."""
    pid, terminal = pty.fork()
    if pid == 0:  # the child: its terminal is the pty
        os.execv(sys.executable, [sys.executable, "-m", "outreach", *args])
    seen = b""
    deadline = time.monotonic() + 60
    pending = list(answers)
    while time.monotonic() < deadline:
        ready, _, _ = select.select([terminal], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # the child closed the terminal: it is done
                break
            if not chunk:
                break
            seen += chunk
        if pending and seen.rstrip().endswith(pending[0][0]):
            os.write(terminal, pending.pop(0)[1])
    _, status = os.waitpid(pid, 0)
    os.close(terminal)
    return os.waitstatus_to_exitcode(status), seen


def test_the_password_prompt_asks_twice_and_never_echoes(ready: Database) -> None:
    typed = PASSWORD.encode() + b"\n"
    code, seen = _on_a_terminal(
        ["users", "add", "tty@example.jp", "--role", "admin"],
        [(b"Password:", typed), (b"Repeat the password:", typed)],
    )
    assert code == 0, seen
    assert b"Password:" in seen
    assert b"Repeat the password:" in seen
    assert PASSWORD.encode() not in seen
    assert b"added tty@example.jp as admin" in seen
    assert can_log_in(ready, "tty@example.jp")


def test_two_different_passwords_are_asked_again(ready: Database) -> None:
    code, seen = _on_a_terminal(
        ["users", "add", "tty@example.jp", "--role", "staff"],
        [
            (b"Password:", b"first passphrase one\n"),
            (b"Repeat the password:", b"another passphrase\n"),
            (b"Password:", PASSWORD.encode() + b"\n"),
            (b"Repeat the password:", PASSWORD.encode() + b"\n"),
        ],
    )
    assert code == 0, seen
    assert b"do not match" in seen
    assert b"passphrase" not in seen
    assert can_log_in(ready, "tty@example.jp")


def test_times_in_the_list_are_in_japan_time(ready: Database) -> None:
    add("a@example.jp", "--role", "staff")
    with ready.session() as session:
        row = session.scalar(sql_select(StaffUser))
        assert row is not None
        row.last_login_at = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    assert "2026-12-01 09:30:00" in run("users", "list").stdout
