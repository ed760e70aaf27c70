"""`outreach serve` and `outreach inbound`: the subscriber pages (uvicorn), the mail endpoint (aiosmtpd)."""

from __future__ import annotations

__all__ = ["inbound", "serve"]

import signal

import click

from outreach.cli.common import App, pass_app, reports_errors
from outreach.errors import InvalidInput
from outreach.staff.settings import load_staff_settings
from subscribers.settings import load_subscription_settings

_APP_FACTORY = "subscribers.web.app:create_app_from_environment"


def _check_the_secret(app: App) -> None:
    """Refuse local-only settings when mail goes to a relay; with the local outbox, only warn."""
    app.guard_real_mail()
    if app.settings.using_default_secret:
        click.secho(
            "warning: OUTREACH_SECRET_KEY is the development default; set a long random value in production",
            fg="yellow",
            err=True,
        )


@click.command(short_help="Serve the public pages and the staff console (/admin/).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Processes.")
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    help="Reverse proxies whose X-Forwarded-For/-Proto are believed (comma-separated, or '*').",
)
@pass_app
@reports_errors
def serve(app: App, host: str, port: int, workers: int, forwarded_allow_ips: str) -> None:
    """Serve the public pages and the staff console under /admin/ (Ctrl-C stops)."""
    import uvicorn

    _check_the_secret(app)
    app.migrated_db()
    load_subscription_settings(app.settings)  # refuse bad settings here, not in every worker
    load_staff_settings()
    click.echo(f"serving http://{host}:{port} for {app.settings.base_url} with {workers} worker(s)")
    uvicorn.run(
        _APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        log_level="info",
    )


@click.command(short_help="Receive sign-ups, opt-outs, bounces and complaints by mail.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=2525, show_default=True, type=click.IntRange(1, 65535))
@pass_app
@reports_errors
def inbound(app: App, host: str, port: int) -> None:
    """Receive subscribe@, subscribe+<org>@ and unsubscribe@ mail, and bounce reports and complaints at
    bounces@ and bounces+<token>@ the bounce domain, over SMTP (SIGINT or SIGTERM stops)."""
    from subscribers.inbound import create_inbound

    _check_the_secret(app)
    app.migrated_db()
    options = load_subscription_settings(app.settings)
    stop = {signal.SIGINT, signal.SIGTERM}
    # Blocked before the server's thread starts, so that only this thread takes them, in sigwait.
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    server = create_inbound(app.settings, options, host=host, port=port)
    try:
        try:
            server.start()
        except OSError as error:
            raise InvalidInput(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
        click.echo(
            f"listening on smtp://{host}:{port} for {options.subscribe_address}, "
            f"subscribe+<organization>@{options.inbound_domain} and {options.unsubscribe_address}",
        )
        try:
            signal.sigwait(stop)
        finally:
            server.stop()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stop)
    click.echo("stopped")
