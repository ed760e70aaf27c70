"""`outreach db` and `outreach seed`: the schema and the network's data."""

from __future__ import annotations

__all__ = ["db", "seed"]


from pathlib import Path

import click

from outreach.cli.common import App, pass_app, reports_errors
from outreach.network import DATA_FILES, load_network, packaged_network
from outreach.seed import SeedReport, seed_network


@click.group(short_help="Upgrade the database schema, or say which revision it is at.")
def db() -> None:
    """Upgrade the database schema, or say which revision it is at."""


@db.command("upgrade", short_help="Apply the migrations up to the newest one.")
@pass_app
@reports_errors
def db_upgrade(app: App) -> None:
    """Apply the migrations up to the newest one (a missing SQLite file is made, and its last folder)."""
    database = app.new_or_existing_db()
    database.upgrade()
    click.echo(f"database {database.describe()} is at revision {database.current_revision()}")


@db.command("status", short_help="Say which revision the database is at.")
@pass_app
@reports_errors
def db_status(app: App) -> None:
    """Say which revision the database is at; exit 3 when it is behind the code."""
    click.echo(f"database {app.db.describe()}: revision {app.db.current_revision() or 'none'}")
    app.db.require_migrated()
    click.echo("up to date")


@click.command(short_help="Load the network's organizations, meetings and tools.")
@click.option(
    "--data",
    "data_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help=f"A folder holding {', '.join(DATA_FILES)} to load instead of the packaged ones.",
)
@pass_app
@reports_errors
def seed(app: App, data_dir: Path | None) -> None:
    """Load the network's members, meetings and promoted tools from its data files (idempotent).

    Entries missing from the database are added, entries whose text changed in the files are updated, nothing
    is deleted. A problem in a file is named (file, entry, field) and nothing is written.
    """
    # Every file is read and checked before the database is opened: a broken file changes nothing.
    data = packaged_network() if data_dir is None else load_network(data_dir)
    with app.migrated_db().session() as session:
        report = seed_network(session, data)
    for line in _report_lines(report):
        click.echo(line)


def _report_lines(report: SeedReport) -> list[str]:
    summary = (
        f"seeded: {report.organizations} organizations, {report.meetings} meetings, "
        f"{report.promotions} promotions added, {report.updated} updated"
    )
    if not report.added and not report.updated:
        return [summary + " (everything was already there)"]
    lines = [summary]
    for table in ("organization", "meeting", "promotion"):
        keys = [row.key for row in report.new if row.table == table]
        if keys:
            lines.append(f"  added {table}s: {', '.join(keys)}")
    lines += [f"  updated {row.table} {row.key}: {', '.join(row.fields)}" for row in report.changed]
    return lines
