"""`outreach subscribers`: add subscribers one by one or from an association"s roster."""

from __future__ import annotations

__all__ = ["subscribers"]

from pathlib import Path

import click

from outreach.cli.common import App, pass_app, reports_errors
from subscribers.directory import add_subscriber, import_roster, organization_or_none
from subscribers.roster import parse_roster


@click.group()
def subscribers() -> None:
    """SMEs who receive the mail magazine."""


@subscribers.command("add")
@click.argument("email")
@click.option("--company", default="", help="Company name.")
@click.option("--name", default="", help="Contact person.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option("--org", "org_slug", help="Affiliated organization's slug (none: the network's rendition).")
@pass_app
@reports_errors
def subscribers_add(app: App, email: str, company: str, name: str, lang: str, org_slug: str | None) -> None:
    """Add one active subscriber."""
    with app.migrated_db().session() as session:
        added = add_subscriber(
            session,
            email,
            company=company,
            name=name,
            language=lang,
            organization=organization_or_none(session, org_slug),
        )
        click.echo(f"added {added.email} ({lang}, {org_slug or 'network'})")


@subscribers.command("import")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--org", "org_slug", required=True, help="The organization whose roster this is.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option("--dry-run", is_flag=True, help="Check the file and say what would change; change nothing.")
@pass_app
@reports_errors
def subscribers_import(app: App, path: Path, org_slug: str, lang: str, dry_run: bool) -> None:
    """Import a roster CSV (email, company, name; UTF-8 or Shift_JIS): all rows or none."""
    rows = parse_roster(path.read_bytes())
    with app.migrated_db().session(dry_run=dry_run) as session:
        report = import_roster(
            session, rows, organization=organization_or_none(session, org_slug), language=lang
        )
    verb = "would add" if dry_run else "added"
    click.echo(
        f"{path}: {report.rows} rows; {verb} {report.added}, {report.already_present} already subscribed"
    )
