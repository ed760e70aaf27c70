"""`outreach users`: the staff users of the console, their passwords and their second factor.

A password is read from a hidden prompt (twice) or, with `--password-stdin`, from the first line of standard
input; it is never echoed, printed or logged. Every change is written to the audit log as `cli:<unix user>`.
"""

from __future__ import annotations

__all__ = ["users"]

import sys
from collections.abc import Callable
from typing import Any

import click

from outreach.cli.approval import cli_actor
from outreach.cli.common import App, echo_json, org_slug, pass_app, reports_errors
from outreach.cli.tables import Column, echo_table, jst_time
from outreach.errors import InvalidInput, NotFound
from outreach.models import utcnow
from outreach.staff import users as staff_users
from outreach.staff.models import StaffRole
from outreach.staff.passwords import check_password
from outreach.staff.users import NewUser, StaffView

_ROLES = "|".join(role.value for role in StaffRole)
_STDIN_HELP = "Read the password from the first line of standard input instead of a prompt."


def _role(text: str) -> StaffRole:
    try:
        return StaffRole(text.strip().lower())
    except ValueError:
        raise InvalidInput(f"--role {text!r} is not one of {_ROLES}") from None


def _read_password(*, from_stdin: bool, email: str) -> str:
    """The new password, checked before anything is written."""
    if from_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if not password:
            raise InvalidInput("--password-stdin: standard input holds no password")
    elif not sys.stdin.isatty():
        raise InvalidInput("there is no terminal to ask for the password on: use --password-stdin")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt="Repeat the password")
    check_password(password, email=email)
    return password


@click.group(short_help="Staff users of the console: add, list, disable, passwords, TOTP.")
def users() -> None:
    """The staff users who log in to the console at /admin/, and their roles.

    Roles: staff (content and issues), approver (signs off a send), org-editor (one organization's pages,
    needs --org), admin (everything).
    """


@users.command("add", short_help="Add a staff user with a role.")
@click.argument("email")
@click.option("--role", "role_name", required=True, metavar=_ROLES, help="What the user may do.")
@click.option("--org", "organization", callback=org_slug, help="Organization slug (org-editor only).")
@click.option("--name", default="", help="The name shown in the console (default: none).")
@click.option("--password-stdin", "password_stdin", is_flag=True, help=_STDIN_HELP)
@pass_app
@reports_errors
def users_add(
    app: App, email: str, role_name: str, organization: str | None, name: str, password_stdin: bool
) -> None:
    """Add a staff user; the password is asked twice without echo (or read with --password-stdin)."""
    role = _role(role_name)
    db = app.migrated_db()
    with db.session(dry_run=True) as session:  # refuse a taken address before asking for a password
        address = staff_users.check_new_user(session, email, role, organization)
    password = _read_password(from_stdin=password_stdin, email=address)
    new = NewUser(address, role, password, name=name, organization=organization)
    with db.session() as session:
        added = staff_users.add_user(session, new, actor=cli_actor(), now=utcnow())
    where = f" for {added.organization}" if added.organization else ""
    click.echo(f"added {added.email} as {added.role.value}{where}")


def _state(user: StaffView) -> str:
    if user.disabled:
        return "disabled"
    return "locked" if user.locked(utcnow()) else "active"


_COLUMNS = tuple(
    Column(title) for title in ("email", "name", "role", "organization", "state", "TOTP", "last login (JST)")
)


def _row(user: StaffView) -> tuple[object, ...]:
    last_login = jst_time(user.last_login_at) if user.last_login_at else None
    totp = "yes" if user.totp_enrolled else "no"
    return (user.email, user.name, user.role.value, user.organization, _state(user), totp, last_login)


def _json(user: StaffView) -> dict[str, Any]:
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "organization": user.organization,
        "state": _state(user),
        "totp": user.totp_enrolled,
        "created_at": user.created_at.isoformat(),
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
    }


@users.command("list", short_help="List the staff users.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@reports_errors
def users_list(app: App, as_json: bool) -> None:
    """List the staff users by address, with their role, state and last login."""
    with app.migrated_db().session() as session:
        found = staff_users.list_users(session)
    if as_json:
        echo_json([_json(user) for user in found])
        return
    echo_table(
        _COLUMNS,
        [_row(user) for user in found],
        empty="no staff users yet: `outreach users add EMAIL --role admin` adds the first",
    )


def _switch(
    app: App, email: str, switch: Callable[..., tuple[StaffView, bool]], *, done: str, unchanged: str
) -> None:
    """Disable or enable a user; say `done EMAIL`, or `EMAIL unchanged` when there was nothing to do."""
    with app.migrated_db().session() as session:
        user, changed = switch(session, email, actor=cli_actor(), now=utcnow())
    click.echo(f"{done} {user.email}" if changed else f"{user.email} {unchanged}")


@users.command("disable", short_help="Disable a user and end their sessions.")
@click.argument("email")
@pass_app
@reports_errors
def users_disable(app: App, email: str) -> None:
    """Disable a user: they cannot log in, and their open sessions end at once."""
    _switch(app, email, staff_users.disable_user, done="disabled", unchanged="was disabled already")


@users.command("enable", short_help="Enable a user or lift a lockout.")
@click.argument("email")
@pass_app
@reports_errors
def users_enable(app: App, email: str) -> None:
    """Enable a disabled user, or lift the lockout after failed logins."""
    _switch(
        app, email, staff_users.enable_user, done="enabled", unchanged="was enabled and not locked already"
    )


@users.command("password", short_help="Set a user's password.")
@click.argument("email")
@click.option("--password-stdin", "password_stdin", is_flag=True, help=_STDIN_HELP)
@pass_app
@reports_errors
def users_password(app: App, email: str, password_stdin: bool) -> None:
    """Set a user's password; their open sessions end."""
    db = app.migrated_db()
    with db.session(dry_run=True) as session:  # an unknown address is refused before the prompt
        found = staff_users.find_user(session, email)
        if found is None:
            raise NotFound(f"there is no staff user {email.strip()!r}; `outreach users list` shows them")
        address = found.email
    password = _read_password(from_stdin=password_stdin, email=address)
    with db.session() as session:
        staff_users.set_password(session, address, password, actor=cli_actor(), now=utcnow())
    click.echo(f"set a new password for {address}; their open sessions ended")


@users.command("totp", short_help="Enrol a TOTP second factor.")
@click.argument("email")
@pass_app
@reports_errors
def users_totp(app: App, email: str) -> None:
    """Enrol a TOTP second factor (replacing any earlier one); prints its otpauth URI once."""
    with app.migrated_db().session() as session:
        enrolment = staff_users.enrol_totp(session, email, actor=cli_actor(), now=utcnow())
    grouped = " ".join(enrolment.secret[index : index + 4] for index in range(0, len(enrolment.secret), 4))
    click.echo("Add this to the user's authenticator app now; it is not shown again.")
    click.echo(f"otpauth URI (for a QR code): {enrolment.uri}")
    click.echo(f"secret (to type in by hand): {grouped}")
    click.echo("From now on, logging in asks for the app's 6-digit code.")
