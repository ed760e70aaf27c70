"""Fixtures: real databases built with `alembic upgrade head` (SQLite, PostgreSQL) and a real SMTP server."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, select, text

from outreach.config import Settings, load_settings
from outreach.db import Database
from outreach.models import Base
from outreach.seed import seed_network
from tests.smtp_server import SmtpServer

POSTGRES_URL = os.environ.get("OUTREACH_TEST_POSTGRES_URL")
SKIP_POSTGRES = (
    "PostgreSQL tests skipped: set OUTREACH_TEST_POSTGRES_URL (`.ci/run` sets it to the local server)"
)
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
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of a command run in an empty folder, against the test database."""
    monkeypatch.chdir(tmp_path)
    values = {
        "OUTREACH_DATABASE_URL": database_url,
        "OUTREACH_VAR_DIR": str(tmp_path / "var"),
        "OUTREACH_SECRET_KEY": "test-secret-key-0123456789",
        "OUTREACH_BASE_URL": "https://mailmag.example.jp",
        "OUTREACH_FROM": "mailmag@example.jp",
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


def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to assert that a refused request changed nothing."""
    tables = inspect(database.engine).get_table_names()
    with database.engine.connect() as connection:
        return {
            name: sorted(map(tuple, connection.execute(select(Base.metadata.tables[name])).all()), key=repr)
            for name in tables
            if name in Base.metadata.tables
        }
