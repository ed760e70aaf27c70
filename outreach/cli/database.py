"""`outreach db` and `outreach seed`: the schema and the network"s data."""

from __future__ import annotations

__all__ = ["db", "seed"]


import click

from outreach.cli.common import App, pass_app, reports_errors
from outreach.seed import seed_network


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@pass_app
@reports_errors
def db_upgrade(app: App) -> None:
    """Apply the migrations up to the newest one."""
    app.db.upgrade()
    click.echo(f"database {app.db.describe()} is at revision {app.db.current_revision()}")


@db.command("status")
@pass_app
@reports_errors
def db_status(app: App) -> None:
    """Say which revision the database is at; exit 3 when it is behind the code."""
    click.echo(f"database {app.db.describe()}: revision {app.db.current_revision() or 'none'}")
    app.db.require_migrated()
    click.echo("up to date")


@click.command()
@pass_app
@reports_errors
def seed(app: App) -> None:
    """Load the network's 30 members, its meetings and the tools it promotes (idempotent)."""
    with app.migrated_db().session() as session:
        report = seed_network(session)
    click.echo(
        f"seeded: {report.organizations} organizations, {report.meetings} meetings, "
        f"{report.promotions} promotions" + ("" if report.added else " (everything was already there)")
    )
