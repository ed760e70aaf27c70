"""The production guard: with a real relay, every command that mails or signs links refuses local-only
settings (a missing, default or short OUTREACH_SECRET_KEY; an OUTREACH_BASE_URL that is not public https)
in one line, exit 2, before it touches anything; OUTREACH_ENV=development and the local outbox allow them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner, Result

from outreach.cli import cli
from outreach.config import load_settings
from outreach.db import Database
from outreach.guard import problems
from tests.conftest import snapshot
from tests.smtp_server import SmtpServer, free_port

LONG_SECRET = "a-test-secret-key-long-enough-for-the-guard-0123456789"
SHORT_SECRET = "only-twenty-chars-ab"
DEVELOPMENT_KEY = "dev-only-insecure-secret-key-set-OUTREACH_SECRET_KEY"  # config.py's default


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def draft(env: dict[str, str], db: Database) -> Database:
    assert run("seed").exit_code == 0
    assert run("subscribers", "add", "one@example.jp", "--org", "jetro").exit_code == 0
    assert run("issue", "compose", "--meeting", "plenary:8").exit_code == 0
    return db


def _refusal(output: str, variable: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert "Traceback" not in output
    assert variable in lines[0]
    assert "OUTREACH_ENV=development" in lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "command",
    [
        ["issue", "send", "1"],
        ["issue", "test-send", "1", "--to", "kouhou@example.jp"],
        ["worker", "--once"],
        ["scheduler"],
        ["serve", "--port", "PORT"],
        ["inbound", "--port", "PORT"],
    ],
    ids=["send", "test-send", "worker", "scheduler", "serve", "inbound"],
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_command_that_mails_or_signs_links_refuses_the_development_key_with_a_relay(
    draft: Database, env: dict[str, str], command: list[str]
) -> None:
    """Real processes: today `scheduler`, `serve` and `inbound` would start and run until stopped."""
    environment = {**os.environ, **env, "OUTREACH_SMTP_URL": f"smtp://127.0.0.1:{free_port()}"}
    del environment["OUTREACH_SECRET_KEY"]
    before = snapshot(draft)

    result = subprocess.run(
        [sys.executable, "-m", "outreach", *(str(free_port()) if arg == "PORT" else arg for arg in command)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert result.returncode == 2, result.stdout + result.stderr
    assert "unset or the development default" in _refusal(result.stderr, "OUTREACH_SECRET_KEY")
    assert result.stdout == ""
    assert snapshot(draft) == before


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("OUTREACH_SECRET_KEY", SHORT_SECRET, "shorter than 32 characters"),
        ("OUTREACH_SECRET_KEY", DEVELOPMENT_KEY, "development default"),
        ("OUTREACH_BASE_URL", "http://mailmag.example.jp", "not https"),
        ("OUTREACH_BASE_URL", "https://127.0.0.1:8000", "local or private address (127.0.0.1)"),
        ("OUTREACH_BASE_URL", "https://localhost", "local or private address (localhost)"),
        ("OUTREACH_BASE_URL", "https://10.1.2.3", "(10.1.2.3)"),
        ("OUTREACH_BASE_URL", "https://192.168.0.10/mail", "(192.168.0.10)"),
        ("OUTREACH_BASE_URL", "https://[::1]:8443", "(::1)"),
        ("OUTREACH_BASE_URL", "https://[::ffff:127.0.0.1]", "(::ffff:127.0.0.1)"),
        ("OUTREACH_BASE_URL", "https://169.254.0.5", "(169.254.0.5)"),
    ],
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_send_to_a_relay_names_the_setting_that_is_not_fit_and_never_prints_the_secret(
    draft: Database, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv("OUTREACH_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    monkeypatch.setenv("OUTREACH_SECRET_KEY", LONG_SECRET)
    monkeypatch.setenv(variable, value)
    before = snapshot(draft)

    result = run("issue", "send", "1")

    assert result.exit_code == 2, result.output
    assert named in _refusal(result.output, variable)
    assert LONG_SECRET not in result.output
    assert SHORT_SECRET not in result.output
    assert snapshot(draft) == before


def test_development_and_the_local_outbox_allow_local_settings_and_production_settings_pass(
    draft: Database, env: dict[str, str], smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OUTREACH_SECRET_KEY")
    monkeypatch.setenv("OUTREACH_BASE_URL", "http://127.0.0.1:8000")
    assert run("issue", "test-send", "1", "--to", "local@example.jp").exit_code == 0  # the local outbox
    monkeypatch.setenv("OUTREACH_SMTP_URL", smtp_server.url)
    assert run("issue", "test-send", "1", "--to", "refused@example.jp").exit_code == 2

    monkeypatch.setenv("OUTREACH_ENV", "development")
    developing = run("issue", "test-send", "1", "--to", "dev@example.jp")
    assert developing.exit_code == 0, developing.output

    monkeypatch.delenv("OUTREACH_ENV")
    monkeypatch.setenv("OUTREACH_SECRET_KEY", LONG_SECRET)
    monkeypatch.setenv("OUTREACH_BASE_URL", "https://mailmag.example.jp")
    sent = run("issue", "send", "1")
    assert sent.exit_code == 0, sent.output
    assert set(smtp_server.handler.copies()) == {"dev@example.jp", "one@example.jp"}


@pytest.mark.parametrize(
    ("settings", "found"),
    [
        ({}, []),  # the local outbox: nothing goes out
        ({"OUTREACH_SMTP_URL": "smtp://relay.example.jp"}, ["OUTREACH_SECRET_KEY", "OUTREACH_BASE_URL"]),
        ({"OUTREACH_SMTP_URL": "smtp://relay.example.jp", "OUTREACH_ENV": "development"}, []),
        (
            {
                "OUTREACH_SMTP_URL": "smtp://relay.example.jp",
                "OUTREACH_SECRET_KEY": LONG_SECRET,
                "OUTREACH_BASE_URL": "https://133.242.0.1",
            },
            [],
        ),
        (
            {
                "OUTREACH_SMTP_URL": "smtp://relay.example.jp",
                "OUTREACH_SECRET_KEY": LONG_SECRET,
                "OUTREACH_BASE_URL": "https://mail.localhost",
            },
            ["OUTREACH_BASE_URL"],
        ),
    ],
)
def test_the_guard_looks_only_at_real_mail_outside_development(
    settings: dict[str, str], found: list[str]
) -> None:
    named = problems(load_settings(settings, env_file=None))

    assert [problem.split()[0] for problem in named] == found


def test_an_unknown_environment_is_refused_naming_the_variable() -> None:
    from outreach.errors import InvalidInput

    with pytest.raises(InvalidInput, match="OUTREACH_ENV is production or development; got 'staging'"):
        load_settings({"OUTREACH_ENV": "staging"}, env_file=None)
