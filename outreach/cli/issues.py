"""`outreach issue` and `outreach log`: compose, preview, send and follow an issue."""

from __future__ import annotations

__all__ = ["issue", "log_command", "print_run", "refuse_if_paused", "send_issue"]

import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from outreach import eventloop, issues, reports
from outreach.cli.approval import acting
from outreach.cli.common import (
    App,
    describe_destination,
    echo_json,
    org_slug,
    pass_app,
    reports_errors,
    writable_out,
)
from outreach.cli.drafts import issue_compose
from outreach.cli.tables import Column, echo_table, jst_time
from outreach.composer import senders
from outreach.errors import SendPaused
from outreach.models import DeliveryStatus, IssueStatus, utcnow
from outreach.network import NETWORK_SLUG
from outreach.outbox import OPEN_STATES
from outreach.render import Renderer
from outreach.reports import LogEntry, OrganizationReach
from outreach.usecases import approval, drafts
from outreach.usecases.approval import Acting
from outreach.usecases.sends import DeliveryOptions, SendRun, audience, send_now, start_for_workers
from outreach.worker import WorkerBusy
from subscribers.links import SignedLinks

_WAITING = {str(state) for state in OPEN_STATES}
_REACH = (
    Column("organization"),
    Column("recipients", figures=True),
    Column("sent", figures=True),
    Column("failed", figures=True),
    Column("waiting", figures=True),
    Column("name"),
)
_AUDIENCE = (Column("organization"), Column("recipients", figures=True), Column("name"))
_LOG = (
    Column("recipient"),
    Column("organization"),
    Column("status"),
    Column("code"),
    Column("attempts", figures=True),
    Column("updated (JST)"),
    Column("reply"),
)


@click.group(short_help="Compose, preview, send and follow the issues (号).")
def issue() -> None:
    """Compose, preview, send and follow the issues (号) of the newsletter."""


issue.add_command(issue_compose)  # with edit and delete in outreach.cli.drafts


@issue.command("list")
@pass_app
@reports_errors
def issue_list(app: App) -> None:
    """List the issues, oldest first."""
    with app.migrated_db().session() as session:
        rows = [
            (f"No. {item.number}", item.issue_date, item.status, item.subject_ja)
            for item in drafts.list_issues(session)
        ]
    echo_table(
        (Column("issue"), Column("date"), Column("status"), Column("subject")),
        rows,
        empty="no issues yet: `outreach issue compose --meeting KIND:NUMBER` makes one",
    )


@issue.command("preview", short_help="Write an issue as one organization's recipients see it.")
@click.argument("number", type=int)
@click.option(
    "--org", "org_slug", default=NETWORK_SLUG, show_default=True, callback=org_slug, help="Organization slug."
)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), required=True, help="File to write.")
@click.option("--text", "as_text", is_flag=True, help="Write the plain-text part instead of the HTML.")
@pass_app
@reports_errors
def issue_preview(app: App, number: int, org_slug: str, lang: str, out: Path, as_text: bool) -> None:
    """Write what a recipient of ORG sees, with sample personal parts (a missing last folder is made)."""
    writable_out(out)
    with app.migrated_db().session() as session:
        written = drafts.preview(
            session,
            number,
            organization=org_slug,
            language=lang,
            out=out,
            renderer=Renderer(sender=senders(app.settings)),
            base_url=app.settings.base_url,
            text=as_text,
        )
    click.echo(f"wrote {written.path} ({org_slug}, {lang}): subject {written.subject}")
    for change in written.substitutions:
        click.echo(f"  replaced for the charset: {change}")


@issue.command("send", short_help="Send an issue to every active subscriber, never twice.")
@click.argument("number", type=int)
@click.option(
    "--batch-size", type=click.IntRange(1, 10_000), help="Rows claimed at a time (OUTREACH_BATCH_SIZE)."
)
@click.option(
    "--detach", is_flag=True, help="Only start the send: running workers (`outreach worker`) deliver it."
)
@click.option("--progress/--no-progress", default=None, help="A progress bar (default: on a terminal).")
@click.option("--yes", "-y", "yes", is_flag=True, help="Do not ask before starting (a terminal asks).")
@pass_app
@reports_errors
def issue_send(
    app: App, number: int, batch_size: int | None, detach: bool, progress: bool | None, yes: bool
) -> None:
    """Send issue NUMBER to every active subscriber; running it again sends nothing twice.

    The issue must be approved first (OUTREACH_APPROVAL). On a terminal it shows the subject and the
    recipients per organization and asks before starting; --yes, or no terminal (a script), does not ask.
    Exit 4 when no relay answers (the issue is paused; sending it again resumes it), 6 when it paused itself.
    """
    app.guard_real_mail()
    by = acting()
    if not yes and sys.stdin.isatty() and not _confirmed(app, number, by):
        click.echo(f"issue No. {number} was not sent", err=True)
        raise SystemExit(1)
    if detach:
        _start_only(app, number, by)
        return
    try:
        run = send_issue(
            app,
            number,
            by=by,
            batch_size=batch_size,
            progress=sys.stdout.isatty() if progress is None else progress,
        )
    except WorkerBusy as busy:
        _start_only(app, number, by)
        click.echo(f"  {busy}")
        return
    print_run(app, run)
    refuse_if_paused(run)


def _confirmed(app: App, number: int, by: Acting) -> bool:
    """Show what a send that starts now does, and ask; an issue already started is not asked about."""
    with app.migrated_db().session(dry_run=True) as session:
        item = issues.get_issue(session, number)
        if item.status not in (IssueStatus.DRAFT, IssueStatus.SCHEDULED):
            return True
        approval.require_approval(item, by.policy)
        reach = audience(session, item)
        lines = [
            f"issue No. {number} ({item.status}, {approval.sign_off(item)})",
            f"  subject (ja): {item.subject_ja}",
            f"  subject (en): {item.subject_en}",
        ]
    for line in lines:
        click.echo(line)
    rows = [(group.slug, group.recipients, group.name_ja) for group in reach]
    echo_table(_AUDIENCE, rows, indent="  ", empty="no recipients: no active subscriber wants this issue")
    total = sum(group.recipients for group in reach)
    return click.confirm(f"Send issue No. {number} to {total:,} recipients now?", default=False)


def _start_only(app: App, number: int, by: Acting) -> None:
    with app.migrated_db().session() as session:
        state, added = start_for_workers(session, number, now=utcnow(), by=by)
    click.echo(f"issue No. {number} is {state}; {added} recipients queued for the workers")


def send_issue(
    app: App, number: int, *, by: Acting, batch_size: int | None = None, progress: bool = False
) -> SendRun:
    db = app.migrated_db()
    with _progress_bar(enabled=progress) as on_progress:
        return eventloop.run(
            send_now(
                db,
                app.settings,
                number,
                links=SignedLinks(app.settings),
                by=by,
                options=DeliveryOptions(batch_size=batch_size),
                on_progress=on_progress,
            )
        )


@contextmanager
def _progress_bar(*, enabled: bool) -> Iterator[Callable[[Counter[str]], None] | None]:
    """A rich progress bar with rate and time left, fed with the ledger's counts."""
    if not enabled:
        yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("sending", total=None, rate="")
        started = time.monotonic()

        def update(counts: Counter[str]) -> None:
            done = sum(count for state, count in counts.items() if state not in _WAITING)
            elapsed = max(time.monotonic() - started, 1e-6)
            bar.update(task, total=sum(counts.values()), completed=done, rate=f"{done / elapsed:,.0f} msg/s")

        yield update


def print_run(app: App, run: SendRun) -> None:
    if run.already_sent:
        click.echo(f"issue No. {run.issue_number} was already sent; nothing new to send")
    else:
        tried = (
            ", ".join(f"{count} {state}" for state, count in sorted(run.outcomes.items())) or "nothing due"
        )
        # A send already started (by an earlier run, the console or an alert's dispatch) queues nobody now.
        queued = f"{run.enqueued} recipients queued; " if run.enqueued else ""
        click.echo(f"issue No. {run.issue_number}: {queued}this run: {tried}")
    click.echo(f"  to: {describe_destination(app.settings)}")
    with app.db.session() as session:
        issue_id = issues.get_issue(session, run.issue_number).id
        reach = reports.reach_by_organization(session, issue_id)
    _print_reach(reach, run.totals, empty="no recipients: no active subscriber wants this issue")
    if run.unknown:
        click.echo(f"  {run.unknown} message(s) had an unknown fate after an earlier run stopped mid-send")
    if run.totals.get(DeliveryStatus.DEFERRED):
        click.echo(f"  deferred recipients are retried by `outreach issue send {run.issue_number}` later")


def _print_reach(reach: list[OrganizationReach], totals: Counter[str], *, empty: str) -> None:
    """The recipients per organization, in the network's order, then all of them by state."""
    rows = [(row.slug, row.recipients, row.sent, row.failed, row.waiting, row.name_ja) for row in reach]
    echo_table(_REACH, rows, indent="  ", empty=empty)
    if reach:
        by_state = ", ".join(f"{count} {state}" for state, count in sorted(totals.items()))
        click.echo(f"  all recipients: {by_state or 'none'}")


def refuse_if_paused(run: SendRun) -> None:
    """A send that paused itself is not done: SendPaused (exit 6) with the reason and the way on."""
    if run.paused is None:
        return
    number = run.issue_number
    # A reason that names its own way on (held messages: `outreach issue decide`) needs no other.
    way_on = "" if "`outreach " in run.paused else f"; fix that, then `outreach issue resume {number}`"
    raise SendPaused(f"issue No. {number} paused itself: {run.paused}{way_on}")


@issue.command("status", short_help="Show the recipients of an issue by state, per organization.")
@click.argument("number", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@reports_errors
def issue_status(app: App, number: int, as_json: bool) -> None:
    """Show how many recipients of issue NUMBER are in each state, per organization and in all."""
    from outreach.outbox import status_counts

    with app.migrated_db().session() as session:
        item = issues.get_issue(session, number)
        counts = status_counts(session, item.id)
        reach = reports.reach_by_organization(session, item.id)
        unknown = reports.unknown_fates(session, item.id)
        state, reason = str(item.status), item.pause_reason
    if as_json:
        echo_json(
            {
                "issue": number,
                "status": state,
                "pause_reason": reason,
                "counts": dict(counts),
                "unknown_fates": unknown,
                "organizations": [asdict(row) for row in reach],
            }
        )
        return
    click.echo(f"issue No. {number}: {state}" + (f" ({reason})" if reason else ""))
    unstarted = state in (IssueStatus.DRAFT, IssueStatus.SCHEDULED)
    _print_reach(
        reach, counts, empty="no recipients yet: the send has not started" if unstarted else "no recipients"
    )
    if unknown:
        click.echo(
            f"  {unknown} message(s) had an unknown fate after a worker stopped mid-send (see `outreach log`)"
        )


@click.command("log", short_help="Show the delivery log of an issue, a line per recipient.")
@click.option("--issue", "number", type=int, required=True, help="Issue number.")
@click.option(
    "--status", type=click.Choice([s.value for s in DeliveryStatus]), help="Only rows in this state."
)
@click.option("--limit", type=click.IntRange(1), help="At most this many rows.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@reports_errors
def log_command(app: App, number: int, status: str | None, limit: int | None, as_json: bool) -> None:
    """Show the delivery log of an issue: each recipient's state, SMTP reply, tries and last change (JST)."""
    with app.migrated_db().session() as session:
        item = issues.get_issue(session, number)
        entries = reports.delivery_log(
            session, item.id, status=DeliveryStatus(status) if status else None, limit=limit
        )
        state = str(item.status)
    if as_json:
        echo_json([entry.as_json() for entry in entries])
        return
    empty = (
        f"no recipients in state {status}" if status else f"no recipients yet: issue No. {number} is {state}"
    )
    echo_table(_LOG, [_log_row(entry) for entry in entries], empty=empty)


def _log_row(entry: LogEntry) -> tuple[object, ...]:
    return (
        entry.email,
        entry.organization,
        entry.status,
        entry.smtp_code,
        entry.attempts,
        jst_time(entry.updated_at),
        entry.smtp_reply,
    )
