"""`outreach issue approve` (決裁), and who the command line acts as (`cli:<unix user>`, OUTREACH_APPROVAL).

An approval from the command line is given by a staff user with the approver or admin role, who proves it as
at the console's login: their password (a hidden prompt, or the first line of standard input with
`--password-stdin`), then their TOTP code when they enrolled one (a prompt, or the next line). A wrong one
counts against the account as a failed login does, and approves nothing.
"""

from __future__ import annotations

__all__ = ["acting", "cli_actor", "issue_approve"]

import getpass
import os
import sys

import click

from outreach.cli.common import App, pass_app, reports_errors
from outreach.errors import InvalidInput
from outreach.models import utcnow
from outreach.staff import audit
from outreach.staff import users as staff_users
from outreach.staff.settings import StaffSettings, load_staff_settings
from outreach.staff.users import StaffView
from outreach.usecases import approval
from outreach.usecases.approval import Acting

_REFUSED = "the email address, the password or the code is not right, or this account cannot be used now"


def cli_actor() -> str:
    """`cli:<unix user>`: who runs this command, as the audit log and `composed_by` name them."""
    try:
        login = getpass.getuser()
    except (OSError, KeyError):  # no LOGNAME/USER and no passwd entry (a bare container)
        login = f"uid {os.getuid()}"
    return audit.cli_actor(login)


def acting(actor: str | None = None) -> Acting:
    """The command line acting (as `actor`, by default the unix user) under OUTREACH_APPROVAL."""
    return Acting(actor or cli_actor(), load_staff_settings().approval)


def _secret(prompt: str, *, from_stdin: bool, what: str) -> str:
    if from_stdin:
        value = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        if not value:
            raise InvalidInput(f"--password-stdin: standard input holds no {what}")
        return value
    if not sys.stdin.isatty():
        raise InvalidInput(f"there is no terminal to ask for the {what} on: use --password-stdin")
    return str(click.prompt(prompt, hide_input=True))


def _authenticated(app: App, email: str, *, from_stdin: bool, settings: StaffSettings) -> StaffView:
    """The staff user these credentials prove, or InvalidInput; a failure is committed (lockout, audit)."""
    db = app.migrated_db()
    with db.session(dry_run=True) as session:
        found = staff_users.find_user(session, email)
        enrolled = found is not None and found.totp_secret is not None
    password = _secret("Password", from_stdin=from_stdin, what="password")
    code = _secret("Code from the authenticator app", from_stdin=from_stdin, what="code") if enrolled else ""
    with db.session() as session:
        user = staff_users.authenticate(
            session, email, password, code, now=utcnow(), ip=None, settings=settings
        )
    if user is None:
        raise InvalidInput(_REFUSED)
    return user


@click.command("approve", short_help="Approve an issue (決裁), as an approver: then it may be sent.")
@click.argument("number", type=int)
@click.option("--as", "email", required=True, metavar="EMAIL", help="The approver's staff address.")
@click.option(
    "--password-stdin",
    "password_stdin",
    is_flag=True,
    help="Read the password (and the next line: the TOTP code, when enrolled) from standard input.",
)
@pass_app
@reports_errors
def issue_approve(app: App, number: int, email: str, password_stdin: bool) -> None:
    """Approve issue NUMBER as the staff user EMAIL (an approver or an admin), who logs in to do it.

    Under OUTREACH_APPROVAL=two-person (the default) nobody approves an issue they composed.
    """
    settings = load_staff_settings()
    approver = _authenticated(app, email, from_stdin=password_stdin, settings=settings)
    with app.migrated_db().session() as session:
        issue = approval.approve(
            session, number, approver, policy=settings.approval, now=utcnow(), via=cli_actor()
        )
        said = f"issue No. {number} ({issue.status}) {approval.sign_off(issue)}"
    click.echo(said)
    click.echo(f"  `outreach issue send {number}` or `outreach issue schedule {number} --at …` sends it")
