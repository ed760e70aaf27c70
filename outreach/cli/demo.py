"""`outreach demo`: what `make run` runs, end to end on the embedded defaults."""

from __future__ import annotations

__all__ = ["demo", "outreach_command"]

import os
import shutil
import sys
from pathlib import Path

import click
from sqlalchemy.orm import Session

from outreach import content, issues
from outreach.cli.approval import acting
from outreach.cli.common import App, pass_app, reports_errors
from outreach.cli.issues import print_run, refuse_if_paused, send_issue
from outreach.models import Issue, IssueStatus, Meeting, utcnow
from outreach.seed import seed_network
from outreach.staff.settings import ApprovalPolicy
from outreach.usecases import approval, drafts
from subscribers.directory import add_samples

# The demo signs off its own issue (起案 → 決裁) under two made-up names, so that `make run` sends it.
DEMO_COMPOSER = "demo:composer"
DEMO_APPROVER = "demo:approver"


@click.command(short_help="Try everything on sample data: what `make run` runs.")
@click.option(
    "--per-org",
    default=2,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="Sample subscribers per organization.",
)
@pass_app
@reports_errors
def demo(app: App, per_org: int) -> None:
    """Migrate, seed, add sample subscribers, compose the latest plenary's issue, approve it and send it
    (idempotent): composed as demo:composer and approved as demo:approver."""
    app.guard_real_mail()
    database = app.new_or_existing_db()
    database.upgrade()
    click.echo(f"1. database {database.describe()} migrated")
    with database.session() as session:
        seeded = seed_network(session)
        added = add_samples(session, per_org=per_org)
        latest = content.latest_meeting(session)
        composed = issues.issue_for_meeting(session, latest) or _composed(session, latest)
        _approved(session, composed, acting().policy)
        number = composed.number
    click.echo(
        f"2. network data: {seeded.added} rows added ({seeded.organizations} organizations, "
        f"{seeded.meetings} meetings, {seeded.promotions} promotions)"
    )
    click.echo(f"3. sample subscribers: {added} added")
    click.echo(f"4. issue No. {number} for {latest.key} ({latest.held_on}): {composed.subject_ja}")
    run = send_issue(app, number, by=acting())
    click.echo("5. send:")
    print_run(app, run)
    click.echo("")
    _where_to_look(app, number)
    refuse_if_paused(run)


def _composed(session: Session, meeting: Meeting) -> Issue:
    draft = drafts.NewDraft(meetings=[meeting.key])
    return approval.compose_as(session, draft, DEMO_COMPOSER, now=utcnow()).issue


def _approved(session: Session, issue: Issue, policy: ApprovalPolicy) -> None:
    """Approve the demo's issue, once, as the demo's approver (who is nobody's staff user)."""
    if issue.approved_by is None and issue.status in (IssueStatus.DRAFT, IssueStatus.SCHEDULED):
        approval.record_approval(session, issue.number, DEMO_APPROVER, policy=policy, now=utcnow())


def _where_to_look(app: App, number: int) -> None:
    command = outreach_command()
    click.echo("Where to look:")
    if app.settings.smtp is None:
        click.echo(f"  messages:     {app.settings.outbox_dir}/issue-{number:04d}/<organization>/*.eml")
    click.echo(f"  delivery log: {command} log --issue {number}")
    click.echo(f"  preview:      {command} issue preview {number} --org jetro --out var/preview/jetro.html")
    click.echo(
        f"  console:      {command} users add you@example.jp --role admin, then {command} serve"
        " and open http://127.0.0.1:8000/admin/"
    )
    if command != "outreach":
        activate = Path(command).parent / "activate"
        click.echo(f"  (`outreach` alone works once the virtualenv is active: `source {activate}`)")


def outreach_command() -> str:
    """How to run this outreach from the shell that started it: `outreach` when PATH finds this very
    program (an active virtualenv, an install on PATH), else its path (`.venv/bin/outreach` after
    `make run`)."""
    program = Path(sys.prefix) / "bin" / "outreach"
    found = shutil.which("outreach")
    if not program.is_file() or (found is not None and Path(found).resolve() == program.resolve()):
        return "outreach"
    relative = Path(os.path.relpath(program))
    return str(relative) if not relative.parts or relative.parts[0] != os.pardir else str(program)
