"""The database: one engine per process, sessions, migrations through alembic, and what its failures mean."""

from __future__ import annotations

__all__ = ["ALEMBIC_DIR", "Database"]

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from alembic import command
from outreach.errors import CannotWrite, DatabaseUnavailable, InvalidInput, NotReady, OutreachError

ALEMBIC_DIR = Path(__file__).resolve().parent.parent / "alembic"
_LOCK_WAIT = 30.0  # seconds SQLite waits for another process's write lock; `?timeout=S` in the URL changes it
# PostgreSQL error classes that mean "cannot talk to the database": connection exception, operator
# intervention (shutdown, terminated session), invalid authorization, a database that does not exist.
_UNREACHABLE_STATES = ("08", "57P", "28", "3D")


def _sqlite_pragmas(lock_wait: float) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={round(lock_wait * 1000)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    return on_connect


def _sqlite_file(parsed: URL) -> Path | None:
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database).absolute()


def _lock_wait(parsed: URL) -> float:
    given = parsed.query.get("timeout")
    if given is None:
        return _LOCK_WAIT
    try:
        return float(given if isinstance(given, str) else given[-1])
    except ValueError:
        raise InvalidInput(f"OUTREACH_DATABASE_URL: timeout={given} is not a number of seconds") from None


def _make_folder(path: Path) -> None:
    """The database's folder, made if missing, but only its last level: a typo makes no tree of folders."""
    if path.parent.is_dir():
        return
    if not path.parent.parent.is_dir():
        raise InvalidInput(
            f"the folder {path.parent.parent} does not exist, so the database {path} cannot be made there: "
            "check OUTREACH_DATABASE_URL (or OUTREACH_VAR_DIR)"
        )
    try:
        path.parent.mkdir()
    except OSError as error:
        raise CannotWrite(f"cannot make the folder {path.parent}: {error.strerror or error}") from None


def _sqlite_engine(url: str, lock_wait: float) -> Engine:
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_pragmas(lock_wait))
    return engine


def _server_engine(parsed: URL) -> Engine:
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed.render_as_string(hide_password=False), pool_pre_ping=True)


class Database:
    """An engine, its session factory, and the migration commands for it.

    `create=False` (every command but `db upgrade` and `demo`): a missing SQLite file is NotReady,
    never made, so a command run from the wrong folder does not leave an empty database there.
    """

    def __init__(self, url: str, *, create: bool = True) -> None:
        parsed = make_url(url)
        self.sqlite_file = _sqlite_file(parsed) if parsed.get_backend_name() == "sqlite" else None
        self.lock_wait = _lock_wait(parsed) if parsed.get_backend_name() == "sqlite" else 0.0
        if self.sqlite_file is not None and not self.sqlite_file.exists():
            if not create:
                raise NotReady(
                    f"the database file {self.sqlite_file} does not exist: run `outreach db upgrade` to make "
                    "it, or set OUTREACH_DATABASE_URL (or run from the folder that holds it)"
                )
            _make_folder(self.sqlite_file)
        if parsed.get_backend_name() == "sqlite":
            self.engine = _sqlite_engine(url, self.lock_wait)
        else:
            self.engine = _server_engine(parsed)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def describe(self) -> str:
        """The URL without its password, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self, *, dry_run: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success (rolled back for a dry run or on any error)."""
        with self.sessions() as session:
            transaction = session.begin()
            try:
                yield session
            except BaseException:
                transaction.rollback()
                raise
            if dry_run:
                transaction.rollback()
            else:
                transaction.commit()

    def _alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(ALEMBIC_DIR))
        return config

    def upgrade(self, revision: str = "head") -> None:
        config = self._alembic_config()
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        return ScriptDirectory.from_config(self._alembic_config()).get_current_head()

    def require_migrated(self) -> None:
        """Raise NotReady unless the schema is at the head revision."""
        current, head = self.current_revision(), self.head_revision()
        if current == head:
            return
        if current is None:
            raise NotReady(
                f"the database {self.describe()} has no outreach schema yet: run `outreach db upgrade` first"
            )
        raise NotReady(
            f"the database {self.describe()} is at revision {current}, the code needs {head}: "
            "run `outreach db upgrade`"
        )

    def dispose(self) -> None:
        self.engine.dispose()

    def explain(self, error: SQLAlchemyError) -> OutreachError | None:
        """The error a person can act on for a failure of the database itself; None for anything else."""
        if self.is_sqlite:
            return self._explain_sqlite(error)
        if isinstance(error, InterfaceError) or (
            isinstance(error, DBAPIError) and error.connection_invalidated
        ):
            return self._unavailable(error)
        if isinstance(error, OperationalError):
            state = getattr(error.orig, "sqlstate", None)
            if state is None or str(state).startswith(_UNREACHABLE_STATES):
                return self._unavailable(error)
        return None

    def _unavailable(self, error: DBAPIError) -> DatabaseUnavailable:
        # The driver's first line names the host, the port and the user, never the password.
        detail = " ".join(str(error.orig or error).split("\n")[0].split())
        return DatabaseUnavailable(
            f"cannot use the database {self.describe()}: {detail}; "
            "what was not committed was rolled back, run the command again once the database answers"
        )

    def _explain_sqlite(self, error: SQLAlchemyError) -> OutreachError | None:
        if not isinstance(error, OperationalError):
            return None
        text = str(error.orig).lower()
        where = self.sqlite_file or self.describe()
        if "locked" in text:
            return DatabaseUnavailable(
                f"the database {where} stayed locked by another process (an import, a send?) for "
                f"{self.lock_wait:g} s; the unfinished step was rolled back, run the command again once it "
                "is done"
            )
        if "readonly" in text or "unable to open" in text or "disk" in text:
            return CannotWrite(
                f"cannot write the database {where} ({error.orig}): check that it and its folder may be "
                "written by this user and that the disk has room"
            )
        return None
