"""`outreach report monthly`: mail the organizations that asked for it their reach report, by hand."""

from __future__ import annotations

__all__ = ["monthly"]

import asyncio

import click

from outreach.cli.approval import cli_actor
from outreach.cli.common import App, pass_app, reports_errors
from outreach.errors import OutreachError
from outreach.members.monthly import Month, MonthlyReports
from outreach.models import utcnow


class SomeFailed(OutreachError, RuntimeError):
    """Some organizations' reports could not be sent: they are tried again at the next run."""

    exit_code = 1


@click.command("monthly", short_help="Mail the organizations their reach report for a month.")
@click.option(
    "--month", "month_text", metavar="YYYY-MM", help="The month to report on (default: last month)."
)
@click.option("--dry-run", is_flag=True, help="Only say who would get it; send nothing, record nothing.")
@pass_app
@reports_errors
def monthly(app: App, month_text: str | None, dry_run: bool) -> None:
    """Mail each organization that asked for it (monthly report on, an address set) its reach report of a
    month, in its language: the issues sent in it and the month's growth. What the scheduler does on the
    first business day of each month; an organization that has its report of that month gets nothing more.

    \b
    outreach report monthly --dry-run
    outreach report monthly --month 2026-11
    """
    month = Month.parse(month_text) if month_text else Month.before(utcnow())
    if not dry_run:
        app.guard_real_mail()
    reports = MonthlyReports(app.migrated_db(), app.settings)
    run = asyncio.run(reports.send(month, actor=cli_actor(), dry_run=dry_run))
    click.echo(run.describe())
    if run.failed:
        raise SomeFailed(f"{len(run.failed)} report(s) of {month} were not sent; run it again to retry")
