"""Which scheduler leads: a PostgreSQL advisory lock shared by many processes, or a lock file for SQLite."""

from __future__ import annotations

__all__ = ["AdvisoryLock", "Leadership", "LockFile", "leadership_for"]

import fcntl
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from outreach.db import Database

# One lock per schema, so that several outreach databases (or test schemas) in one PostgreSQL database each
# have their own leader.
_LOCK_KEY = (
    "SELECT hashtextextended('outreach.scheduler:' || current_database() || '.' || current_schema(), 0)"
)


class Leadership(Protocol):
    """A lock that at most one scheduler holds at a time."""

    shared: bool  # True: the others wait and take over; False: a second scheduler is refused

    def try_acquire(self) -> bool: ...

    def still_held(self) -> bool: ...

    def release(self) -> None: ...

    def describe(self) -> str: ...

    def holder(self) -> str:
        """Who holds the lock, if this kind of lock can tell ("" if not)."""
        ...


class AdvisoryLock:
    """A session-level `pg_try_advisory_lock`, held on a connection of its own while this process leads.

    When the process dies, PostgreSQL ends its session and the lock is free for the next one.
    """

    shared = True

    def __init__(self, db: Database) -> None:
        # NullPool: closing the connection really closes the session, and with it the lock.
        self._engine = create_engine(db.engine.url, poolclass=NullPool)
        self._connection: Connection | None = None
        self._key: int | None = None

    def try_acquire(self) -> bool:
        if self._connection is not None:
            return True
        connection = self._engine.connect()
        try:
            self._key = int(connection.execute(text(_LOCK_KEY)).scalar_one())
            acquired = bool(
                connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}).scalar_one()
            )
            connection.commit()  # the lock outlives the transaction; idling inside one would hold a snapshot
        except BaseException:
            connection.close()
            raise
        if acquired:
            self._connection = connection
        else:
            connection.close()
        return acquired

    def still_held(self) -> bool:
        """Whether the session that holds the lock is still alive; a lost session has lost the lock."""
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1")).scalar_one()
            self._connection.commit()
        except DBAPIError:
            self._drop()
            return False
        return True

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except DBAPIError:
                pass  # the session is gone already, and its lock with it

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                self._connection.commit()
            except DBAPIError:
                pass  # closing the session below releases it anyway
        self._drop()
        self._engine.dispose()

    def describe(self) -> str:
        return "PostgreSQL advisory lock"

    def holder(self) -> str:
        return ""


class LockFile:
    """An exclusive `flock` on a file beside the SQLite database: one scheduler per database file."""

    shared = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def holder(self) -> str:
        try:
            pid = self.path.read_text(encoding="ascii").strip()
        except OSError:
            return ""
        return f"process {pid}" if pid else ""

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def describe(self) -> str:
        return f"lock file {self.path}"


class _Alone:
    """An in-memory SQLite database has only this process."""

    shared = False

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        return None

    def describe(self) -> str:
        return "in-memory database"

    def holder(self) -> str:
        return ""


def leadership_for(db: Database) -> Leadership:
    """The advisory lock on PostgreSQL; a lock file beside the database file on SQLite."""
    if not db.is_sqlite:
        return AdvisoryLock(db)
    database = db.engine.url.database
    if not database or database == ":memory:":
        return _Alone()
    return LockFile(Path(f"{database}.scheduler.lock"))
