"""The databases of a run: one built per size and copied, so that every phase starts from the same state.

SQLite copies the file; PostgreSQL copies a database with `CREATE DATABASE … TEMPLATE …` into databases of
its own on the server (named outreach_bench_<pid>_…), all dropped at the end.
"""

from __future__ import annotations

__all__ = ["PostgresStore", "SqliteStore", "Store", "open_postgres"]

import os
import shutil
from pathlib import Path
from typing import Protocol

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

_SQLITE_COMPANIONS = ("", "-wal", "-shm")


class Store(Protocol):
    """Named databases of one backend."""

    backend: str

    def make(self, name: str, *, like: str | None = None) -> str:
        """A new database `name`, empty or a copy of `like`; its URL."""
        ...

    def drop(self, name: str) -> None: ...

    def close(self) -> None:
        """Drop what is left."""
        ...


class SqliteStore:
    """SQLite files in a folder."""

    backend = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.sqlite3"

    def make(self, name: str, *, like: str | None = None) -> str:
        if like is not None:
            for suffix in _SQLITE_COMPANIONS:  # a WAL left by a process that died is part of the database
                source = Path(f"{self._path(like)}{suffix}")
                if source.exists():
                    shutil.copyfile(source, f"{self._path(name)}{suffix}")
        return f"sqlite:///{self._path(name)}"

    def drop(self, name: str) -> None:
        for suffix in _SQLITE_COMPANIONS:
            Path(f"{self._path(name)}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        for path in self.folder.glob("*.sqlite3*"):
            path.unlink()


class PostgresStore:
    """Databases on a PostgreSQL server, reached as a role that may create them (trust auth on 127.0.0.1)."""

    backend = "postgresql"

    def __init__(self, admin_url: str) -> None:
        self._url = make_url(admin_url)
        self._admin = create_engine(self._url, isolation_level="AUTOCOMMIT")
        self._prefix = f"outreach_bench_{os.getpid()}_"
        self._made: list[str] = []

    def version(self) -> str:
        with self._admin.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar_one())

    def _database(self, name: str) -> str:
        return self._prefix + name.replace("-", "_")

    def make(self, name: str, *, like: str | None = None) -> str:
        database = self._database(name)
        template = f' TEMPLATE "{self._database(like)}"' if like is not None else ""
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"{template}'))
        self._made.append(name)
        return self._url.set(database=database).render_as_string(hide_password=False)

    def drop(self, name: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self._database(name)}" WITH (FORCE)'))
        if name in self._made:
            self._made.remove(name)

    def close(self) -> None:
        for name in list(self._made):
            self.drop(name)
        self._admin.dispose()


def open_postgres(admin_url: str) -> tuple[PostgresStore | None, str]:
    """The store, or None and why the PostgreSQL runs are left out (the server does not answer)."""
    try:
        store = PostgresStore(admin_url)
        store.version()
    except SQLAlchemyError as error:
        why = (str(getattr(error, "orig", None) or error).strip().splitlines() or [type(error).__name__])[0]
        return None, f"PostgreSQL left out: {admin_url} cannot be used ({why})"
    return store, ""
