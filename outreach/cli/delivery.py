"""`outreach worker` and the controls of a send: `issue pause`, `resume`, `cancel`, `retry`."""

from __future__ import annotations

__all__ = ["issue_cancel", "issue_decide", "issue_pause", "issue_resume", "issue_retry", "worker"]

import asyncio
import contextlib
import logging
import signal
from dataclasses import replace

import click

from outreach import eventloop
from outreach.cli.approval import cli_actor
from outreach.cli.common import App, describe_destination, pass_app, reports_errors
from outreach.errors import RelayUnavailable
from outreach.usecases.sends import (
    cancel_send,
    decide_held,
    make_worker,
    pause_send,
    resume_send,
    retry_send,
)
from outreach.worker import Worker
from subscribers.links import SignedLinks

log = logging.getLogger("outreach.worker")
_RELAY_BACKOFF = 30.0


@click.command("pause", short_help="Pause a send until `outreach issue resume`.")
@click.argument("number", type=int)
@pass_app
@reports_errors
def issue_pause(app: App, number: int) -> None:
    """Pause a send; workers stop taking its recipients until `resume`."""
    with app.migrated_db().session() as session:
        pause_send(session, number, actor=cli_actor())
    click.echo(f"issue No. {number} paused")


@click.command("resume", short_help="Resume a paused send.")
@click.argument("number", type=int)
@pass_app
@reports_errors
def issue_resume(app: App, number: int) -> None:
    """Resume a paused send (run `outreach issue send N` or a worker to deliver it)."""
    with app.migrated_db().session() as session:
        resume_send(session, number, actor=cli_actor())
    click.echo(
        f"issue No. {number} resumed: `outreach issue send {number}` or a running worker delivers the rest"
    )


@click.command("cancel", short_help="Cancel a send, so that nobody else is sent the issue.")
@click.argument("number", type=int)
@pass_app
@reports_errors
def issue_cancel(app: App, number: int) -> None:
    """Cancel a send: whoever has not been sent the issue yet will not be."""
    with app.migrated_db().session() as session:
        cancelled = cancel_send(session, number, actor=cli_actor())
    click.echo(f"issue No. {number} cancelled; {cancelled} recipients will not be sent it")


@click.command("retry", short_help="Queue the failed, deferred and unknown recipients again.")
@click.argument("number", type=int)
@pass_app
@reports_errors
def issue_retry(app: App, number: int) -> None:
    """Queue the failed, deferred and unknown recipients again (only those), then send with `issue send`."""
    with app.migrated_db().session() as session:
        reopened = retry_send(session, number, actor=cli_actor())
    click.echo(
        f"issue No. {number}: {reopened} recipients queued again; `outreach issue send {number}` sends them"
    )


@click.command("decide", short_help="Resend or drop the messages held with an unknown fate.")
@click.argument("number", type=int)
@click.option("--resend", is_flag=True, help="Send them again (a reader may get two copies).")
@click.option("--drop", is_flag=True, help="Do not send them again (they may have arrived).")
@pass_app
@reports_errors
def issue_decide(app: App, number: int, resend: bool, drop: bool) -> None:
    """Decide on the messages held with an unknown fate (OUTREACH_UNKNOWN_POLICY=hold): --resend or --drop."""
    if resend == drop:
        raise click.UsageError("say either --resend or --drop")
    with app.migrated_db().session() as session:
        decided = decide_held(session, number, resend=resend, actor=cli_actor())
    if resend:
        click.echo(
            f"issue No. {number}: {decided} recipients queued again; "
            f"`outreach issue send {number}` or a running worker sends them"
        )
    else:
        click.echo(f"issue No. {number}: {decided} recipients marked failed (not sent again)")


@click.command(short_help="Deliver the issues being sent, until stopped.")
@click.option(
    "--name", help="A name unique on this host (default: the host name); keeps the journal across restarts."
)
@click.option(
    "--connections", type=click.IntRange(1, 64), help="SMTP connections (default OUTREACH_SMTP_CONNECTIONS)."
)
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@pass_app
@reports_errors
def worker(app: App, name: str | None, connections: int | None, once: bool) -> None:
    """Deliver every issue being sent, until stopped (SIGTERM or Ctrl-C). Several may run on PostgreSQL."""
    settings = app.guard_real_mail()
    if connections:
        settings = replace(settings, delivery=replace(settings.delivery, connections=connections))
    db = app.migrated_db()
    running = make_worker(db, settings, links=SignedLinks(settings), name=name)
    click.echo(
        f"worker {running.name}: {len(running.lanes)} connection(s) to {describe_destination(settings)}"
    )
    try:
        eventloop.run(_serve(running, once=once))
    finally:
        running.close()
    report = running.report
    click.echo(f"worker {running.name} stopped: {dict(report.outcomes) or 'nothing sent'}")
    if report.lost:
        click.echo(f"  it lost {report.lost} rows to another worker or a cancellation and did not send them")


async def _serve(running: Worker, *, once: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    while not stop.is_set():
        try:
            await running.run(until_idle=once, stop=stop)
        except RelayUnavailable as exc:
            if once:
                raise
            log.error("%s; trying again in %.0f s", exc, _RELAY_BACKOFF)
            await _sleep_unless(stop, _RELAY_BACKOFF)
            continue
        if once:
            return


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
