"""`outreach subscribers`: add, import, export, unsubscribe and purge, for staff and associations."""

from __future__ import annotations

__all__ = ["subscribers"]

import asyncio
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import click

from outreach.alerts.places import format_places, parse_places
from outreach.cli.common import App, describe_destination, org_slug, pass_app, reports_errors, writable_out
from outreach.errors import NotFound, RelayUnavailable
from outreach.models import SubscriberStatus, utcnow
from outreach.usecases import rosters
from outreach.usecases.rosters import RosterImport
from subscribers.addresses import normalize_address
from subscribers.consent import ConsentSource, Origin
from subscribers.directory import add_subscriber, organization_or_none
from subscribers.export import export_roster
from subscribers.lifecycle import ImportConsent, find_subscriber
from subscribers.places import replace_places
from subscribers.settings import load_subscription_settings
from subscribers.subscriptions import Subscriptions


@click.group(short_help="Add, import, export and unsubscribe the subscribers.")
def subscribers() -> None:
    """Add, import, export and unsubscribe the SMEs who receive the newsletter."""


def _subscriptions(app: App) -> Subscriptions:
    return Subscriptions(app.migrated_db(), app.settings, load_subscription_settings(app.settings))


@subscribers.command("add", short_help="Add one subscriber on staff's word.")
@click.argument("email")
@click.option("--company", default="", help="Company name.")
@click.option("--name", default="", help="Contact person.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option(
    "--org",
    "org_slug",
    callback=org_slug,
    help="Affiliated organization's slug (none: the network's rendition).",
)
@click.option(
    "--countries",
    default="",
    help="Countries and regions they do business in, e.g. 'タイ;ベトナム' or 'Thailand,Europe' "
    "(names in Japanese or English, or the ministry's codes).",
)
@pass_app
@reports_errors
def subscribers_add(
    app: App, email: str, company: str, name: str, lang: str, org_slug: str | None, countries: str
) -> None:
    """Add one active subscriber on staff's word (recorded as consent source `staff`)."""
    places = parse_places(countries)  # an unknown name is refused before anything is written
    with app.migrated_db().session() as session:
        added = add_subscriber(
            session,
            email,
            company=company,
            name=name,
            language=lang,
            organization=organization_or_none(session, org_slug),
        )
        if places:
            replace_places(session, added, places, Origin(ConsentSource.STAFF), now=utcnow())
        address = added.email
    where = f"; countries and regions: {format_places(places, lang)}" if places else ""
    click.echo(f"added {address} ({lang}, {org_slug or 'network'}{where})")


@subscribers.command("import", short_help="Import an organization's roster from a CSV file.")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "--org", "org_slug", required=True, callback=org_slug, help="The organization whose roster this is."
)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option(
    "--consent",
    type=click.Choice([consent.value for consent in ImportConsent]),
    default=ImportConsent.CONFIRM.value,
    show_default=True,
    help="vouched: the organization has each person's consent, they are active at once; "
    "confirm: each gets a confirmation mail and is active once they confirm.",
)
@click.option("--dry-run", is_flag=True, help="Check the file and say what would change; change nothing.")
@pass_app
@reports_errors
def subscribers_import(app: App, path: Path, org_slug: str, lang: str, consent: str, dry_run: bool) -> None:
    """Import a roster CSV (email, company, name, charset, countries; UTF-8 or Shift_JIS): all rows or none.

    Addresses already known are left as they are: an unsubscribed address is never made active by an import.
    The countries column (names in Japanese or English, or codes, separated by ; or 、) gives the countries
    and regions of its rows to the subscribers who have chosen none yet; an unknown name refuses the file.
    """
    if not dry_run:
        app.guard_real_mail()  # confirmation mails carry signed links
    subscriptions = _subscriptions(app)
    try:
        with path.open("rb") as roster:  # read as a stream: a million rows are never held whole
            report = asyncio.run(
                rosters.import_roster(
                    subscriptions,
                    roster,
                    organization=org_slug,
                    language=lang,
                    consent=ImportConsent(consent),
                    dry_run=dry_run,
                )
            )
    except RelayUnavailable as error:
        raise RelayUnavailable(
            f"{error}; the new addresses are pending: run the same import again to mail their links"
        ) from None
    verb = "would add" if dry_run else "added"
    click.echo(
        f"{path}: {report.rows} rows; {verb} {report.added}, {report.already_present} already subscribed"
    )
    click.echo(_consent_line(report, ImportConsent(consent), dry_run=dry_run, app=app))


def _consent_line(report: RosterImport, consent: ImportConsent, *, dry_run: bool, app: App) -> str:
    if consent == ImportConsent.VOUCHED:
        made = f"; {report.activated} pending made active" if report.activated else ""
        return f"consent vouched by the organization: new addresses are active now{made}"
    mails = report.to_confirm
    if dry_run:
        return f"would mail {mails} confirmation link(s)"
    where = describe_destination(app.settings)
    return f"mailed {mails} confirmation link(s) ({where}); each address becomes active once confirmed"


@contextmanager
def _csv_target(out: Path | None) -> Iterator[TextIO]:
    """The file, or stdout, as text with a BOM and untranslated CRLF line ends."""
    if out is not None:
        out.absolute().parent.mkdir(exist_ok=True)  # writable_out allowed this one level, no more
        with out.open("w", encoding="utf-8-sig", newline="") as handle:
            yield handle
        return
    sys.stdout.flush()
    stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8-sig", newline="")
    try:
        yield stream
    finally:
        stream.detach()  # flushes, and leaves stdout open


@subscribers.command("export", short_help="Export an organization's roster as CSV, for Excel.")
@click.option(
    "--org",
    "org_slug",
    required=True,
    callback=org_slug,
    help="The organization (`network`: those with none).",
)
@click.option(
    "--out", type=click.Path(path_type=Path, dir_okay=False), help="The CSV file to write (default: stdout)."
)
@click.option("--all", "everyone", is_flag=True, help="Also pending, unsubscribed and bounced addresses.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True, help="Headers.")
@pass_app
@reports_errors
def subscribers_export(app: App, org_slug: str, out: Path | None, everyone: bool, lang: str) -> None:
    """Write an organization's roster as CSV (UTF-8 with BOM, for Excel); `import` reads it back."""
    statuses = list(SubscriberStatus) if everyone else [SubscriberStatus.ACTIVE]
    if out is not None:
        writable_out(out)
    with app.migrated_db().session() as session, _csv_target(out) as handle:
        organization = organization_or_none(session, org_slug)
        count = export_roster(session, handle, organization=organization, statuses=statuses, language=lang)
    if out is not None:
        click.echo(f"wrote {count} subscriber(s) of {org_slug} to {out}")


@subscribers.command("unsubscribe", short_help="Stop all mail to an address at once.")
@click.argument("email")
@pass_app
@reports_errors
def subscribers_unsubscribe(app: App, email: str) -> None:
    """Stop all mail to EMAIL at once, on the person's request to staff (recorded as source `staff`)."""
    subscriptions = _subscriptions(app)
    with app.db.session() as session:
        found = find_subscriber(session, normalize_address(email))
    if found is None:
        raise NotFound(f"{email} is not a subscriber")
    asyncio.run(subscriptions.unsubscribe(found.id, Origin(ConsentSource.STAFF)))
    click.echo(f"unsubscribed {found.email}")


@subscribers.command("purge-pending", short_help="Delete the pending subscriptions nobody confirmed in time.")
@pass_app
@reports_errors
def subscribers_purge_pending(app: App) -> None:
    """Delete pending subscriptions not confirmed within OUTREACH_PENDING_DAYS (default 7); run it daily."""
    subscriptions = _subscriptions(app)
    purged = asyncio.run(subscriptions.purge_expired())
    days = subscriptions.options.pending_lifetime.days
    click.echo(f"purged {len(purged)} pending subscription(s) older than {days} days")
