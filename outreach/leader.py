"""Which scheduler leads: a PostgreSQL advisory lock shared by many processes, or a lock file for SQLite.

`live_leader` tells anyone else (`outreach meeting publish`) whether a scheduler leads now, and when it last
showed it was alive, without taking the lock or waiting for it.
"""

from __future__ import annotations

__all__ = ["AdvisoryLock", "Leadership", "LiveLeader", "LockFile", "leadership_for", "live_leader"]

import contextlib
import fcntl
import os
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
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
# The lock's session names its process, so that others can say where the leader runs (PostgreSQL keeps 63
# bytes of it).
_APPLICATION = "outreach scheduler"
# Who holds the lock, how they connect, and how long ago their session last ran a statement: the leader
# checks its lock every poll (`still_held`), so that is its heartbeat. An advisory lock on a bigint key shows
# in pg_locks as its high and low 32 bits.
_HOLDER = text(
    """
    SELECT activity.pid, activity.application_name, host(activity.client_addr),
           EXTRACT(EPOCH FROM clock_timestamp() - activity.state_change)
    FROM pg_locks AS held LEFT JOIN pg_stat_activity AS activity ON activity.pid = held.pid
    WHERE held.locktype = 'advisory' AND held.granted AND held.objsubid = 1
      AND held.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND held.classid = ((CAST(:key AS bigint) >> 32) & 4294967295)::oid
      AND held.objid = (CAST(:key AS bigint) & 4294967295)::oid
    """
)


@dataclass(frozen=True)
class LiveLeader:
    """A scheduler that leads now, as another process sees it."""

    where: str  # e.g. "host web1, process 4242"
    last_seen: timedelta | None  # since it last showed it was alive; None when that cannot be told


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
        name = f"{_APPLICATION} {socket.gethostname()} {os.getpid()}"
        self._engine = create_engine(
            db.engine.url, poolclass=NullPool, connect_args={"application_name": name[:63]}
        )
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
        """Held until released; each check touches the file, the heartbeat that `live_leader` reads."""
        if self._fd is None:
            return False
        with contextlib.suppress(OSError):  # a heartbeat missed is no reason to stop leading
            os.utime(self._fd)
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # no process named: `live_leader` sees nobody leads
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
    path = _lock_file(db)
    return LockFile(path) if path is not None else _Alone()


def _lock_file(db: Database) -> Path | None:
    """The lock file of an SQLite database file; None for an in-memory one, which has only one process."""
    database = db.engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(f"{database}.scheduler.lock")


def live_leader(db: Database) -> LiveLeader | None:
    """The scheduler that leads on this database now, or None; read-only, it never touches the lock."""
    if not db.is_sqlite:
        return _lock_holder(db)
    path = _lock_file(db)
    return _lock_file_holder(path) if path is not None else None


def _lock_holder(db: Database) -> LiveLeader | None:
    with db.engine.connect() as connection:
        key = int(connection.execute(text(_LOCK_KEY)).scalar_one())
        found = connection.execute(_HOLDER, {"key": key}).first()
    if found is None:
        return None
    pid, application, address, idle = found
    if application and application.startswith(f"{_APPLICATION} "):
        host, _, process = application.removeprefix(f"{_APPLICATION} ").rpartition(" ")
        where = f"host {host}, process {process}"
    else:  # a session whose details this database user may not read, or an older scheduler
        where = f"database session {pid}" + (f" from {address}" if address else "")
    return LiveLeader(where, timedelta(seconds=float(idle)) if idle is not None else None)


def _lock_file_holder(path: Path) -> LiveLeader | None:
    """The process named in the lock file, if it is alive: a scheduler that stopped left the file empty, one
    that died left a process that no longer exists."""
    try:
        pid = int(path.read_text(encoding="ascii").strip() or 0)
        touched = path.stat().st_mtime
    except (OSError, ValueError):
        return None
    if pid <= 0 or not _alive(pid):
        return None
    return LiveLeader(f"host {socket.gethostname()}, process {pid}", timedelta(seconds=time.time() - touched))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True
