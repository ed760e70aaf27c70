"""The `outreach` command line for staff: one composition root that wires the engine and `subscribers`."""

from __future__ import annotations

__all__ = ["main"]

import asyncio
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import asdict
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from outreach import content, issues, reports
from outreach.config import Settings, load_settings
from outreach.db import Database
from outreach.delivery import DeliveryOptions, IssueSender, SendRun, salutation, senders
from outreach.errors import InvalidInput, OutreachError
from outreach.mailer import make_mailer
from outreach.models import DeliveryStatus, Issue, Meeting, Organization
from outreach.render import Renderer
from outreach.seed import seed_network
from subscribers.directory import add_samples, add_subscriber, import_roster, organization_or_none
from subscribers.links import SignedLinks
from subscribers.roster import parse_roster

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


def _reports_errors(function: F) -> F:
    """Turn outreach's own errors into a clear message on stderr and the error's exit code."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except OutreachError as error:
            click.secho(f"error: {error}", fg="red", err=True)
            sys.exit(error.exit_code)

    return wrapper  # type: ignore[return-value]


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what happens (never secrets).")
def cli(verbose: bool) -> None:
    """outreach: the mail magazine of the SME Overseas Safety Network.

    中堅・中小企業海外安全対策ネットワークのメールマガジン配信システム。
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


# --- database -------------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@pass_app
@_reports_errors
def db_upgrade(app: App) -> None:
    """Apply the migrations up to the newest one."""
    app.db.upgrade()
    click.echo(f"database {app.db.describe()} is at revision {app.db.current_revision()}")


@db.command("status")
@pass_app
@_reports_errors
def db_status(app: App) -> None:
    """Say which revision the database is at; exit 3 when it is behind the code."""
    click.echo(f"database {app.db.describe()}: revision {app.db.current_revision() or 'none'}")
    app.db.require_migrated()
    click.echo("up to date")


@cli.command()
@pass_app
@_reports_errors
def seed(app: App) -> None:
    """Load the network's 30 members, its meetings and the tools it promotes (idempotent)."""
    with app.migrated_db().session() as session:
        report = seed_network(session)
    click.echo(
        f"seeded: {report.organizations} organizations, {report.meetings} meetings, "
        f"{report.promotions} promotions" + ("" if report.added else " (everything was already there)")
    )


# --- organizations and meetings -------------------------------------------------------------------


@cli.group()
def org() -> None:
    """The member organizations."""


@org.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@_reports_errors
def org_list(app: App, as_json: bool) -> None:
    """List the organizations with their slugs."""
    from sqlalchemy import select

    with app.migrated_db().session() as session:
        rows = session.scalars(select(Organization).order_by(Organization.position)).all()
        data = [{"slug": o.slug, "name_ja": o.name_ja, "name_en": o.name_en, "kind": o.kind} for o in rows]
    if as_json:
        _echo_json(data)
        return
    for item in data:
        click.echo(f"{item['slug']:<12} {item['name_ja']}  ({item['name_en']})")


@cli.group()
def meeting() -> None:
    """Meeting outcomes: plenaries (本会合) and secretariat meetings (幹事会)."""


def _parse_link(text: str) -> dict[str, str]:
    title, separator, url = text.rpartition("|")
    if not separator:
        title, url = "", text
    title = title.strip()
    return {"title_ja": title or "関連資料", "title_en": title or "Related material", "url": url.strip()}


def _read_text(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"cannot read {path} as UTF-8 text: {error}") from None


@meeting.command("add")
@click.argument("key", metavar="KIND:NUMBER")
@click.option(
    "--date", "held_on", required=True, type=click.DateTime(["%Y-%m-%d"]), help="The day it was held."
)
@click.option(
    "--format", "format_", type=click.Choice(list(content.MEETING_FORMATS)), help="How it was held."
)
@click.option(
    "--summary",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Markdown file, Japanese.",
)
@click.option("--summary-en", type=click.Path(path_type=Path, dir_okay=False), help="Markdown file, English.")
@click.option("--opened-by", default="", help="Who opened it (Japanese).")
@click.option("--opened-by-en", default="", help="Who opened it (English).")
@click.option("--link", "links", multiple=True, help="'title|https://…' or a bare URL; repeatable.")
@pass_app
@_reports_errors
def meeting_add(
    app: App,
    key: str,
    held_on: Any,
    format_: str | None,
    summary: Path,
    summary_en: Path | None,
    opened_by: str,
    opened_by_en: str,
    links: tuple[str, ...],
) -> None:
    """Record a meeting outcome, e.g. `outreach meeting add plenary:9 --date 2026-11-20 --summary s.md`."""
    meeting_key = content.MeetingKey.parse(key)
    summary_ja = _read_text(summary)
    with app.migrated_db().session() as session:
        recorded = content.add_meeting(
            session,
            meeting_key,
            held_on=held_on.date(),
            format=format_,
            summary_ja=summary_ja,
            summary_en=_read_text(summary_en) or summary_ja,
            opened_by_ja=opened_by,
            opened_by_en=opened_by_en,
            links=[_parse_link(link) for link in links],
        )
        click.echo(
            f"recorded {recorded.key} held on {recorded.held_on}: compose with "
            f"`outreach issue compose --meeting {recorded.key}`"
        )


@meeting.command("list")
@pass_app
@_reports_errors
def meeting_list(app: App) -> None:
    """List the recorded meetings."""
    from sqlalchemy import select

    with app.migrated_db().session() as session:
        for item in session.scalars(select(Meeting).order_by(Meeting.held_on)):
            click.echo(f"{item.key:<14} {item.held_on}  {item.format or '-':<9} {item.opened_by_ja}")


# --- issues ---------------------------------------------------------------------------------------


@cli.group()
def issue() -> None:
    """Issues (号) of the mail magazine: compose, preview, send, follow."""


@issue.command("compose")
@click.option(
    "--meeting", "meeting_keys", multiple=True, required=True, help="kind:number, e.g. plenary:8; repeatable."
)
@click.option(
    "--date", "issue_date", type=click.DateTime(["%Y-%m-%d"]), help="The issue's date (default: today, JST)."
)
@click.option("--subject", help="Japanese subject (default: derived from the meeting).")
@click.option("--subject-en", help="English subject (default: derived from the meeting).")
@click.option("--charset", type=click.Choice(issues.CHARSETS), default="utf-8", show_default=True)
@pass_app
@_reports_errors
def issue_compose(
    app: App,
    meeting_keys: tuple[str, ...],
    issue_date: Any,
    subject: str | None,
    subject_en: str | None,
    charset: str,
) -> None:
    """Create a draft issue from meeting outcomes and the promotions active on its date."""
    keys = [content.MeetingKey.parse(key) for key in meeting_keys]
    with app.migrated_db().session() as session:
        composed = issues.compose_issue(
            session,
            meetings=[content.find_meeting(session, key) for key in keys],
            issue_date=issue_date.date() if issue_date else None,
            subject_ja=subject,
            subject_en=subject_en,
            charset=charset,
        )
        _print_issue(composed)


def _print_issue(item: Issue) -> None:
    click.echo(f"issue No. {item.number} ({item.status}, {item.issue_date}, {item.charset})")
    click.echo(f"  subject (ja): {item.subject_ja}")
    click.echo(f"  subject (en): {item.subject_en}")
    for section in item.items:
        if section.meeting is not None:
            click.echo(f"  - meeting {section.meeting.key} ({section.meeting.held_on})")
        elif section.promotion is not None:
            click.echo(f"  - promotion {section.promotion.slug}")


@issue.command("list")
@pass_app
@_reports_errors
def issue_list(app: App) -> None:
    """List the issues."""
    from sqlalchemy import select

    with app.migrated_db().session() as session:
        for item in session.scalars(select(Issue).order_by(Issue.number)):
            click.echo(f"No. {item.number:<4} {item.issue_date}  {item.status:<9} {item.subject_ja}")


@issue.command("preview")
@click.argument("number", type=int)
@click.option("--org", "org_slug", default="network", show_default=True, help="Organization slug.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="File to write.")
@click.option("--text", "as_text", is_flag=True, help="Write the plain-text part instead of the HTML.")
@pass_app
@_reports_errors
def issue_preview(app: App, number: int, org_slug: str, lang: str, out: Path, as_text: bool) -> None:
    """Write what a recipient of ORG sees, with sample personal parts."""
    from subscribers.directory import find_organization

    with app.migrated_db().session() as session:
        organization = find_organization(session, org_slug)
        rendition = Renderer(sender=senders(app.settings)).render(
            issues.get_issue(session, number), organization, lang
        )
    sample = {
        "salutation": salutation(
            lang,
            company="株式会社サンプル" if lang == "ja" else "Sample Co., Ltd.",
            name="海外 太郎" if lang == "ja" else "Taro Kaigai",
        ),
        "email": "preview@example.jp",
        "unsubscribe_url": f"{app.settings.base_url}/unsubscribe/PREVIEW",
        "preferences_url": f"{app.settings.base_url}/preferences/PREVIEW",
    }
    stamp = rendition.text if as_text else rendition.html
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(stamp.fill(sample), encoding="utf-8")
    click.echo(f"wrote {out} ({org_slug}, {lang}): subject {rendition.subject}")


@issue.command("send")
@click.argument("number", type=int)
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 10_000))
@pass_app
@_reports_errors
def issue_send(app: App, number: int, batch_size: int) -> None:
    """Send issue NUMBER to every active subscriber; running it again sends nothing twice."""
    run = _send(app, number, batch_size=batch_size)
    _print_run(app, run)


def _send(app: App, number: int, *, batch_size: int = 100) -> SendRun:
    db = app.migrated_db()
    sender = IssueSender(
        db,
        app.settings,
        mailer=make_mailer(app.settings),
        links=SignedLinks(app.settings),
        options=DeliveryOptions(batch_size=batch_size),
    )
    return asyncio.run(sender.send(number))


def _print_run(app: App, run: SendRun) -> None:
    if run.already_sent:
        click.echo(f"issue No. {run.issue_number} was already sent; nothing new to send")
    else:
        tried = (
            ", ".join(f"{count} {state}" for state, count in sorted(run.outcomes.items())) or "nothing due"
        )
        click.echo(f"issue No. {run.issue_number}: {run.enqueued} recipients queued; this run: {tried}")
    click.echo(f"  to: {run.destination}")
    with app.db.session() as session:
        issue_id = issues.get_issue(session, run.issue_number).id
        reach = reports.reach_by_organization(session, issue_id)
    click.echo(f"  {'organization':<12} {'recipients':>10} {'sent':>6} {'failed':>6} {'waiting':>7}")
    for row in reach:
        click.echo(f"  {row.slug:<12} {row.recipients:>10} {row.sent:>6} {row.failed:>6} {row.waiting:>7}")
    totals = ", ".join(f"{count} {state}" for state, count in sorted(run.totals.items()))
    click.echo(f"  all recipients: {totals or 'none'}")
    if run.totals.get(DeliveryStatus.DEFERRED):
        click.echo(f"  deferred recipients are retried by `outreach issue send {run.issue_number}` later")


@issue.command("status")
@click.argument("number", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@_reports_errors
def issue_status(app: App, number: int, as_json: bool) -> None:
    """Counts of recipients by state, overall and per organization."""
    from outreach.outbox import status_counts

    with app.migrated_db().session() as session:
        item = issues.get_issue(session, number)
        counts = status_counts(session, item.id)
        reach = reports.reach_by_organization(session, item.id)
        state = str(item.status)
    if as_json:
        _echo_json(
            {
                "issue": number,
                "status": state,
                "counts": dict(counts),
                "organizations": [asdict(row) for row in reach],
            }
        )
        return
    click.echo(f"issue No. {number}: {state}")
    for name, count in sorted(counts.items()):
        click.echo(f"  {name:<10} {count}")


@cli.command("log")
@click.option("--issue", "number", type=int, required=True, help="Issue number.")
@click.option(
    "--status", type=click.Choice([s.value for s in DeliveryStatus]), help="Only rows in this state."
)
@click.option("--limit", type=click.IntRange(1), help="At most this many rows.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@_reports_errors
def log_command(app: App, number: int, status: str | None, limit: int | None, as_json: bool) -> None:
    """The per-recipient delivery log of an issue."""
    with app.migrated_db().session() as session:
        item = issues.get_issue(session, number)
        entries = reports.delivery_log(
            session, item.id, status=DeliveryStatus(status) if status else None, limit=limit
        )
    if as_json:
        _echo_json([entry.as_json() for entry in entries])
        return
    for entry in entries:
        code = entry.smtp_code if entry.smtp_code is not None else "-"
        click.echo(
            f"{entry.email:<40} {entry.organization:<12} {entry.status:<9} {code!s:<4} "
            f"{entry.attempts} {entry.updated_at:%Y-%m-%d %H:%M:%S} {entry.smtp_reply or ''}"
        )


# --- subscribers ----------------------------------------------------------------------------------


@cli.group()
def subscribers() -> None:
    """SMEs who receive the mail magazine."""


@subscribers.command("add")
@click.argument("email")
@click.option("--company", default="", help="Company name.")
@click.option("--name", default="", help="Contact person.")
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option("--org", "org_slug", help="Affiliated organization's slug (none: the network's rendition).")
@pass_app
@_reports_errors
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
@_reports_errors
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


# --- the demo that `make run` runs ----------------------------------------------------------------


@cli.command()
@click.option(
    "--per-org",
    default=2,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="Sample subscribers per organization.",
)
@pass_app
@_reports_errors
def demo(app: App, per_org: int) -> None:
    """Migrate, seed, add sample subscribers, compose the latest plenary's issue and send it (idempotent)."""
    app.db.upgrade()
    click.echo(f"1. database {app.db.describe()} migrated")
    with app.db.session() as session:
        seeded = seed_network(session)
        added = add_samples(session, per_org=per_org)
        latest = content.latest_meeting(session)
        composed = issues.issue_for_meeting(session, latest) or issues.compose_issue(
            session, meetings=[latest]
        )
        number = composed.number
    click.echo(
        f"2. network data: {seeded.added} rows added ({seeded.organizations} organizations, "
        f"{seeded.meetings} meetings, {seeded.promotions} promotions)"
    )
    click.echo(f"3. sample subscribers: {added} added")
    click.echo(f"4. issue No. {number} for {latest.key} ({latest.held_on}): {composed.subject_ja}")
    run = _send(app, number)
    click.echo("5. send:")
    _print_run(app, run)
    click.echo("")
    click.echo("Where to look:")
    if app.settings.smtp is None:
        click.echo(f"  messages:     {app.settings.outbox_dir}/issue-{number:04d}/<organization>/*.eml")
    click.echo(f"  delivery log: outreach log --issue {number}")
    click.echo(f"  preview:      outreach issue preview {number} --org jetro --out var/preview/jetro.html")


def main() -> None:
    cli(prog_name="outreach")
