"""What every command shares: the settings and database made on first use, and error reporting."""

from __future__ import annotations

__all__ = ["App", "echo_json", "pass_app", "reports_errors"]

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from outreach.config import Settings, load_settings
from outreach.db import Database
from outreach.errors import OutreachError

F = TypeVar("F", bound=Callable[..., Any])


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
        if self._db is None:
            self._db = Database(self.settings.database_url.reveal())
        return self._db

    def migrated_db(self) -> Database:
        self.db.require_migrated()
        return self.db


pass_app = click.make_pass_decorator(App, ensure=True)


def reports_errors(function: F) -> F:
    """Turn outreach's own errors into a clear message on stderr and the error's exit code."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except OutreachError as error:
            click.secho(f"error: {error}", fg="red", err=True)
            sys.exit(error.exit_code)

    return wrapper  # type: ignore[return-value]


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
