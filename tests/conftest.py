"""Fixtures: real databases built with `alembic upgrade head` (SQLite, PostgreSQL) and a real SMTP server.

Also the suite's own reporting: one line per skip reason with its count, and hypothesis's profiles
("default" for `make test`, "fuzz" for `make fuzz`, chosen by HYPOTHESIS_PROFILE).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, inspect, select, text

from outreach.config import Settings, load_settings
from outreach.content import MeetingKey, find_meeting
from outreach.db import Database
from outreach.issues import compose_issue
from outreach.members import models as _member_models  # noqa: F401  (its tables are on the same metadata)
from outreach.models import Base, IssueStatus
from outreach.seed import seed_network
from outreach.staff import models as _staff_models  # noqa: F401  (its tables are on the same metadata)
from outreach.staff.models import StaffRole
from tests.browser import CHROMIUM, FLAGS, ConsoleRun
from tests.console_support import Console, add_user, served
from tests.smtp_server import SmtpServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# The server that `.ci/run` starts; `make test` uses it whenever it answers.
LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres() -> tuple[str | None, str]:
    """The PostgreSQL URL to test against, or None and why its tests are skipped.

    OUTREACH_TEST_POSTGRES_URL wins when set (set empty, it turns the PostgreSQL tests off); unset, the
    local server is tried with one quick connection.
    """
    given = os.environ.get("OUTREACH_TEST_POSTGRES_URL")
    if given:
        return given, ""
    if given is not None:
        return None, "PostgreSQL tests skipped: OUTREACH_TEST_POSTGRES_URL is set empty"
    try:
        with psycopg.connect(LOCAL_POSTGRES_URL, connect_timeout=2):
            pass
    except psycopg.Error as error:
        why = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return None, (
            f"PostgreSQL tests skipped: {LOCAL_POSTGRES_URL} cannot be used ({why}); "
            "set OUTREACH_TEST_POSTGRES_URL to name a server"
        )
    return LOCAL_POSTGRES_URL, ""


POSTGRES_URL, SKIP_POSTGRES = _postgres()
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=[pytest.mark.postgres, pytest.mark.skipif(not POSTGRES_URL, reason=SKIP_POSTGRES)],
    ),
]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated with `alembic upgrade head` once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    database.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A schema of our own in the `test` database, migrated with `alembic upgrade head`; dropped after."""
    assert POSTGRES_URL is not None
    schema = f"outreach_test_{os.getpid()}_{secrets.token_hex(3)}"
    admin = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(_in_schema(POSTGRES_URL, schema))
    database.upgrade()
    database.dispose()
    yield schema
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _in_schema(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def _truncate_all(database: Database) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty, migrated database: a fresh SQLite copy, or the emptied PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path / "outreach.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    assert POSTGRES_URL is not None
    url = _in_schema(POSTGRES_URL, request.getfixturevalue("postgres_schema"))
    database = Database(url)
    _truncate_all(database)
    database.dispose()
    yield url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def seeded_db(db: Database) -> Database:
    with db.session() as session:
        seed_network(session)
    return db


@pytest.fixture
def second_issue(seeded_db: Database) -> int:
    """The number of issue No. 2 (the 8th plenary), a draft composed after No. 1 (the 7th) was sent: an
    issue as readers typically get it, with what the one before it carried."""
    with seeded_db.session() as session:
        first = compose_issue(
            session, meetings=[find_meeting(session, MeetingKey("plenary", 7))], issue_date=date(2022, 12, 1)
        )
        first.status = IssueStatus.SENT
        return compose_issue(
            session, meetings=[find_meeting(session, MeetingKey("plenary", 8))], issue_date=date(2024, 2, 15)
        ).number


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium (tests/browser.py), one for each module of browser tests."""
    from playwright.sync_api import sync_playwright  # loaded by the browser tests alone

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of a command run in an empty folder, against the test database."""
    monkeypatch.chdir(tmp_path)
    values = {
        "OUTREACH_DATABASE_URL": database_url,
        "OUTREACH_VAR_DIR": str(tmp_path / "var"),
        "OUTREACH_SECRET_KEY": "test-secret-key-0123456789-long-enough-for-prod",
        "OUTREACH_BASE_URL": "https://mailmag.example.jp",
        "OUTREACH_FROM": "mailmag@example.jp",
        "OUTREACH_APPROVAL": "none",  # the sign-off rule has its own tests (test_approval, test_cli_approval)
    }
    for name in list(os.environ):
        if name.startswith("OUTREACH_") and name != "OUTREACH_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(env, env_file=None)


@pytest.fixture(params=["ja", "en"])
def console_run(request: pytest.FixtureRequest, database_url: str) -> ConsoleRun:
    """A console's browser test in Japanese and in English (tests/browser.py)."""
    language = request.param
    keep = language == "ja" and database_url.startswith("sqlite")
    return ConsoleRun(language, "/admin" if language == "ja" else "/en/admin", keep)


@pytest.fixture
def console(seeded_db: Database, settings: Settings) -> Iterator[Console]:
    """The staff console over real HTTP (tests/console_support.py) with a user of each role."""
    for role in StaffRole:
        add_user(seeded_db, role)
    with served(seeded_db, settings) as running:
        yield running


def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to assert that a refused request changed nothing."""
    tables = inspect(database.engine).get_table_names()
    with database.engine.connect() as connection:
        return {
            name: sorted(map(tuple, connection.execute(select(Base.metadata.tables[name])).all()), key=repr)
            for name in tables
            if name in Base.metadata.tables
        }


# Hypothesis's profiles: "default" keeps `make test` quick (the fuzz suite's servers answer in tens of
# milliseconds an example); "fuzz" is `make fuzz`, FUZZ_EXAMPLES cases per target. A property test that
# shares a server between examples sets deadline=None and suppresses function_scoped_fixture itself.
hypothesis_settings.register_profile("default", max_examples=25)
hypothesis_settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "10000")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per skip reason with its count, instead of one line per skipped test."""
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    if not reasons:
        return
    terminalreporter.write_sep("=", f"{sum(reasons.values())} skipped")
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"SKIPPED {count} {'test' if count == 1 else 'tests'}: {reason}")
