"""The `outreach` command line for staff: the composition root that wires the engine and `subscribers`."""

from __future__ import annotations

__all__ = ["cli", "main"]

import logging

import click

from outreach.cli.alerts import alerts
from outreach.cli.approval import issue_approve
from outreach.cli.content import meeting, org
from outreach.cli.database import db, seed
from outreach.cli.delivery import issue_cancel, issue_decide, issue_pause, issue_resume, issue_retry, worker
from outreach.cli.demo import demo
from outreach.cli.drafts import issue_delete, issue_edit, issue_test_send
from outreach.cli.issues import issue, log_command
from outreach.cli.report import report
from outreach.cli.schedule import issue_schedule, meeting_publish, schedule, scheduler_command
from outreach.cli.subscribers import subscribers
from outreach.cli.users import users
from outreach.cli.web import inbound, serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what happens (never secrets).")
def cli(verbose: bool) -> None:
    """outreach: the newsletter (メールマガジン) of the SME Overseas Safety Network.

    中堅・中小企業海外安全対策ネットワークのメールマガジン配信システム。
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


for command in (db, seed, org, meeting, issue, log_command, subscribers, demo):
    cli.add_command(command)
for control in (issue_pause, issue_resume, issue_cancel, issue_retry, issue_decide):
    issue.add_command(control)
for draft_command in (issue_edit, issue_delete, issue_test_send):
    issue.add_command(draft_command)
cli.add_command(worker)
issue.add_command(issue_schedule)
issue.add_command(issue_approve)
meeting.add_command(meeting_publish)
cli.add_command(schedule)
cli.add_command(scheduler_command)
cli.add_command(serve)
cli.add_command(inbound)
cli.add_command(report)
cli.add_command(users)
cli.add_command(alerts)


def main() -> None:
    cli(prog_name="outreach")
