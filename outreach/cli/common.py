"""What every command shares: the settings and database made on first use, and error reporting.

A command does its work, commits, and only then prints: a reader that goes away (`| head`) can no longer
undo what was done. Every error a person can cause ends in one line on stderr and a documented exit code
(see outreach/errors.py); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = [
    "App",
    "describe_destination",
    "echo_json",
    "org_slug",
    "pass_app",
    "reports_errors",
    "writable_out",
]

import errno
import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError

from outreach.config import Settings, SmtpRelay, load_settings
from outreach.db import Database
from outreach.errors import EXIT_BROKEN_PIPE, CannotWrite, InvalidInput, OutreachError
from outreach.guard import refuse_unsafe

F = TypeVar("F", bound=Callable[..., Any])
_CHECK_RIGHTS = "; check that the user running outreach may write there"
_HINTS = {
    errno.EACCES: _CHECK_RIGHTS,
    errno.EPERM: _CHECK_RIGHTS,
    errno.EROFS: "; the file system is mounted read-only",
    errno.ENOSPC: "; the disk is full",
}
# What OUTREACH_SMTP_URL's scheme means for the connection, in the words a reader knows.
_SECURITY = {"none": "plain SMTP, no TLS", "starttls": "STARTTLS", "tls": "SMTPS/TLS"}


class App:
    """What every command needs, made on first use so that `--help` never touches the database."""

    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._db: Database | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    @property
    def db(self) -> Database:
        """An existing database: a missing SQLite file is NotReady (exit 3), never made."""
        if self._db is None:
            self._db = Database(self.settings.database_url.reveal(), create=False)
        return self._db

    def new_or_existing_db(self) -> Database:
        """For `db upgrade` and `demo`: a missing SQLite file is made, and its folder's last level (`seed`
        needs the schema that only `db upgrade` makes, so it makes no empty file either)."""
        if self._db is None:
            self._db = Database(self.settings.database_url.reveal(), create=True)
        return self._db

    def migrated_db(self) -> Database:
        self.db.require_migrated()
        return self.db

    def guard_real_mail(self) -> Settings:
        """The settings, refused (exit 2) when mail would reach a real relay with local-only settings."""
        refuse_unsafe(self.settings)
        return self.settings

    def explain(self, error: SQLAlchemyError) -> OutreachError | None:
        return self._db.explain(error) if self._db is not None else None


pass_app = click.make_pass_decorator(App, ensure=True)


def reports_errors(function: F) -> F:
    """Turn the errors a person can cause into one line on stderr and the error's exit code."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = function(*args, **kwargs)
            sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's last flush
        except BrokenPipeError:
            _quit_quietly()
        except OutreachError as error:
            _fail(error)
        except SQLAlchemyError as error:
            _fail(_explained(error) or _reraise(error))
        except OSError as error:
            _fail(_file_problem(error) or _reraise(error))
        return result

    return wrapper  # type: ignore[return-value]


def _fail(error: OutreachError) -> NoReturn:
    click.secho(f"error: {error}", fg="red", err=True)
    sys.exit(error.exit_code)


def _reraise(error: BaseException) -> NoReturn:
    raise error


def _explained(error: SQLAlchemyError) -> OutreachError | None:
    context = click.get_current_context(silent=True)
    app = context.find_object(App) if context is not None else None
    return app.explain(error) if app is not None else None


def _file_problem(error: OSError) -> CannotWrite | None:
    """A file or folder the system refused (permissions, a read-only or full disk), named; else None."""
    if error.filename is None or error.errno is None:
        return None
    hint = _HINTS.get(error.errno, "")
    return CannotWrite(f"{error.filename}: {error.strerror or error}{hint}")


def _quit_quietly() -> NoReturn:
    """Stdout was closed (`| head`): stop without a word, as `cat` does, and without a traceback at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush then has somewhere to go
        os.close(devnull)
    except (OSError, ValueError):
        pass  # stdout is no real file (a test's runner): nothing is flushed to a closed pipe at exit
    sys.exit(EXIT_BROKEN_PIPE)


def writable_out(path: Path) -> Path:
    """An `--out` file whose folder exists, or whose folder's parent does (that one level is made when the
    file is written); anything deeper is a typo more often than a wish, so it is refused, not made."""
    folder = path.absolute().parent
    if not folder.is_dir() and not folder.parent.is_dir():
        raise InvalidInput(f"cannot write {path}: the folder {folder.parent} does not exist")
    return path


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def org_slug(_context: click.Context, _parameter: click.Parameter, value: str | None) -> str | None:
    """Every `--org`'s callback: a slug as typed (`JETRO`, ` jetro `) as stored, in lower case."""
    return value.strip().lower() if value is not None else None


def describe_destination(settings: Settings) -> str:
    """Where mail goes: `SMTP relay 127.0.0.1:2526 (plain SMTP, no TLS)`, its fallbacks, or the outbox."""
    return ", ".join(_relay(relay) for relay in settings.relays) or f"local outbox {settings.outbox_dir}"


def _relay(relay: SmtpRelay) -> str:
    user = f"{relay.username}@" if relay.username else ""
    return f"SMTP relay {user}{relay.host}:{relay.port} ({_SECURITY.get(relay.security, relay.security)})"
