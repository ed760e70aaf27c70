"""`outreach alerts`: poll the ministry's overseas-safety feed, list what arrived and what came of it, show
the rules in force."""

from __future__ import annotations

__all__ = ["alerts"]

import asyncio
from datetime import datetime
from typing import Any

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from outreach.alerts.models import AlertState, SafetyAlert
from outreach.alerts.places import name_of
from outreach.alerts.poll import PollReport, poll
from outreach.alerts.rules import CLASSES, DEFAULT_RULES
from outreach.alerts.settings import AlertMode, AlertSettings, load_alert_settings
from outreach.cli.approval import acting
from outreach.cli.common import App, echo_json, pass_app, reports_errors
from outreach.cli.issues import print_run, refuse_if_paused, send_issue
from outreach.cli.tables import Column, echo_table, jst_time
from outreach.models import Issue, IssueItem, utcnow

_LIST = (
    Column("key"),
    Column("published (JST)"),
    Column("type"),
    Column("places"),
    Column("rule"),
    Column("action"),
    Column("state"),
    Column("issue"),
    Column("title"),
)
_TITLE_WIDTH = 40


@click.group(short_help="Poll the ministry's safety alerts and see what came of them.")
def alerts() -> None:
    """The ministry's overseas-safety information (海外安全情報), read from its open data and sent to the
    subscribers of the countries it concerns: at once, or in the next regular issue, as the rules say."""


@alerts.command("poll", short_help="Fetch the feed once, store what is new and act on it.")
@click.option("--feed", metavar="URL-OR-FILE", help="Read this instead of OUTREACH_ALERTS_FEED.")
@pass_app
@reports_errors
def alerts_poll(app: App, feed: str | None) -> None:
    """Fetch the feed once, store each new entry once, and act on it as the rules and OUTREACH_ALERTS say;
    in auto mode the alert issue is delivered here and now, as `outreach issue send` does.

    Exit 0 when the feed was read or had not changed; 8 when it could not be fetched or read (the poll is
    recorded with the reason, nothing else changes); 2 for a bad setting; 3 when the database is not ready;
    4 when no relay answers while an alert issue goes out (it pauses); 6 when that send paused itself.
    """
    settings = load_alert_settings()
    if settings.mode is AlertMode.AUTO:
        app.guard_real_mail()
    by = acting()
    report = asyncio.run(
        poll(app.migrated_db(), app.settings, settings, feed=feed, now=utcnow(), actor=by.actor)
    )
    _print_poll(report, settings)
    if settings.mode is not AlertMode.AUTO:
        return
    for number in report.dispatched.started:
        run = send_issue(app, number, by=by)
        print_run(app, run)
        refuse_if_paused(run)


def _print_poll(report: PollReport, settings: AlertSettings) -> None:
    click.echo(f"polled {report.url} (poll {report.poll_id}): {report.describe()}")
    click.echo(f"  OUTREACH_ALERTS={settings.mode.value}: {report.dispatched.summary()}")
    if report.new:
        click.echo("  `outreach alerts list` shows the entries and what became of them")


@alerts.command("list", short_help="List the entries that arrived and what became of them, newest first.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--state", type=click.Choice([state.value for state in AlertState]), help="Only this state.")
@click.option("--json", "as_json", is_flag=True, help="JSON, with the full title and lead.")
@pass_app
@reports_errors
def alerts_list(app: App, limit: int, state: str | None, as_json: bool) -> None:
    """List the entries of the feed, newest first: when published (JST), type, places, the rule and action
    that applied, where each is (waiting, issued, digested, recorded) and the issue carrying it."""
    with app.migrated_db().session() as session:
        rows = [_row(alert, number) for alert, number in _entries(session, limit, state)]
    if as_json:
        echo_json(rows)
        return
    empty = (
        f"no entries in state {state}" if state else "no entries yet: `outreach alerts poll` reads the feed"
    )
    echo_table(_LIST, (_cells(row) for row in rows), empty=empty)


def _entries(session: Session, limit: int, state: str | None) -> list[tuple[SafetyAlert, int | None]]:
    carrying = (
        select(func.max(Issue.number))
        .join(IssueItem, IssueItem.issue_id == Issue.id)
        .where(IssueItem.alert_id == SafetyAlert.id)
        .scalar_subquery()
    )
    query = (
        select(SafetyAlert, carrying)
        .order_by(SafetyAlert.published_at.desc().nulls_last(), SafetyAlert.id.desc())
        .limit(limit)
    )
    if state:
        query = query.where(SafetyAlert.state == AlertState(state))
    return [(alert, number) for alert, number in session.execute(query).all()]


def _row(alert: SafetyAlert, issue_number: int | None) -> dict[str, Any]:
    places = [name_of(place.area_code, place.country_code, "ja", place.name) for place in alert.places]
    return {
        "key": alert.key,
        "published_at": alert.published_at.isoformat() if alert.published_at else None,
        "type": alert.info_type,
        "type_name": alert.info_name,
        "places": places,
        "title": alert.title,
        "lead": alert.lead,
        "url": alert.url,
        "change": alert.change,
        "rule": alert.rule,
        "action": alert.action.value,
        "state": alert.state.value,
        "note": alert.note,
        "issue": issue_number,
    }


def _cells(row: dict[str, Any]) -> tuple[object, ...]:
    published = jst_time(datetime.fromisoformat(row["published_at"])) if row["published_at"] else None
    title = row["title"] if len(row["title"]) <= _TITLE_WIDTH else row["title"][: _TITLE_WIDTH - 1] + "…"
    issue = f"No. {row['issue']}" if row["issue"] is not None else None
    places = "、".join(row["places"])
    return (
        row["key"],
        published,
        row["type"],
        places,
        row["rule"],
        row["action"],
        row["state"],
        issue,
        title,
    )


@alerts.command("rules", short_help="Show which entries go out at once, wait, or are only kept.")
@reports_errors
def alerts_rules() -> None:
    """Show the action of each class of entry (now, digest, record), marking those OUTREACH_ALERTS_RULES
    changed, and what OUTREACH_ALERTS does with the entries sent at once."""
    settings = load_alert_settings()
    changed = settings.rules.changed()
    rows = [
        (rule, settings.rules.action(rule).value, "changed" if rule in changed else "", ja, en)
        for rule, (ja, en) in CLASSES.items()
    ]
    columns = (Column("class"), Column("action"), Column("setting"), Column("what"), Column("(en)"))
    echo_table(columns, rows, empty="no rules")
    click.echo(f"OUTREACH_ALERTS={settings.mode.value}: {_MODES[settings.mode]}")
    if changed:
        defaults = ", ".join(f"{rule}={DEFAULT_RULES[rule].value}" for rule in changed)
        click.echo(f"  changed by OUTREACH_ALERTS_RULES; the defaults were {defaults}")


_MODES = {
    AlertMode.AUTO: "an alert issue is composed and sent at once",
    AlertMode.APPROVE: "an alert issue is composed as a draft and the staff on duty are mailed a link",
    AlertMode.OFF: "entries are recorded and listed; nothing is composed or sent",
}
