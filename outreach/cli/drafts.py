"""`outreach issue compose`, `edit` and `delete`: make a draft, change it, or drop it, before it goes out."""

from __future__ import annotations

__all__ = ["drafted_report", "issue_compose", "issue_delete", "issue_edit", "issue_test_send"]

import asyncio
from collections.abc import Callable
from typing import Any

import click

from outreach import issues
from outreach.cli.approval import cli_actor
from outreach.cli.common import App, org_slug, pass_app, reports_errors
from outreach.composer import senders
from outreach.errors import InvalidInput
from outreach.models import utcnow
from outreach.network import NETWORK_SLUG
from outreach.render import Renderer
from outreach.usecases import approval, drafts
from outreach.usecases.trial import send_trial
from subscribers.links import SignedLinks


def drafted_report(drafted: drafts.Drafted) -> Callable[[], None]:
    """Read the draft now, inside its session; print it (number, subjects, sections on stdout, warnings on
    stderr) when called, after the commit, so that a reader who goes away cannot undo the change."""
    item = drafted.issue
    lines = [
        f"issue No. {item.number} ({item.status}, {item.issue_date}, {item.charset})",
        f"  subject (ja): {item.subject_ja}",
        f"  subject (en): {item.subject_en}",
        *([f"  lead (ja): {_first_line(item.lead_ja)}"] if item.lead_ja else []),
        *([f"  lead (en): {_first_line(item.lead_en)}"] if item.lead_en else []),
        f"  composed by {item.composed_by or 'an unknown composer'}; {approval.sign_off(item)}",
    ]
    for section in item.items:
        if section.meeting is not None:
            lines.append(f"  - meeting {section.meeting.key} ({section.meeting.held_on})")
        elif section.promotion is not None:
            lines.append(f"  - promotion {section.promotion.slug}")
    lines += [f"  replaced for the charset: {change}" for change in drafted.substitutions]
    warnings = list(drafted.warnings)

    def show() -> None:
        for line in lines:
            click.echo(line)
        for warning in warnings:
            click.secho(f"warning: {warning}", fg="yellow", err=True)

    return show


def _first_line(text: str) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if line == text.strip() else f"{line} …"


def _chosen(slugs: tuple[str, ...], none: bool) -> list[str] | None:
    """The promotions given (`--promotion`, or none at all with `--no-promotions`); None: not given."""
    if none and slugs:
        raise InvalidInput("give --promotion or --no-promotions, not both")
    return [] if none else list(slugs) or None


_PROMOTION_HELP = "A promotion it carries, by slug; repeatable (default: every one active on its date)."
_NO_PROMOTIONS_HELP = "Carry no promotion at all."


@click.command("compose", short_help="Create a draft issue from meeting outcomes.")
@click.option(
    "--meeting", "meeting_keys", multiple=True, required=True, help="kind:number, e.g. plenary:8; repeatable."
)
@click.option(
    "--date", "issue_date", type=click.DateTime(["%Y-%m-%d"]), help="The issue's date (default: today, JST)."
)
@click.option("--subject", help="Japanese subject (default: derived from the meeting).")
@click.option("--subject-en", help="English subject (default: derived from the meeting).")
@click.option("--lead-ja", default="", help="The editorial lead above the sections, Markdown (ja).")
@click.option("--lead-en", default="", help="The same in English (none: English readers get no lead).")
@click.option("--promotion", "promotions", multiple=True, metavar="SLUG", help=_PROMOTION_HELP)
@click.option("--no-promotions", is_flag=True, help=_NO_PROMOTIONS_HELP)
@click.option("--charset", type=click.Choice(issues.CHARSETS), default="utf-8", show_default=True)
@pass_app
@reports_errors
def issue_compose(
    app: App,
    meeting_keys: tuple[str, ...],
    issue_date: Any,
    subject: str | None,
    subject_en: str | None,
    lead_ja: str,
    lead_en: str,
    promotions: tuple[str, ...],
    no_promotions: bool,
    charset: str,
) -> None:
    """Create a draft issue from meeting outcomes and the promotions active on its date."""
    draft = drafts.NewDraft(
        meetings=meeting_keys,
        issue_date=issue_date.date() if issue_date else None,
        subject_ja=subject,
        subject_en=subject_en,
        charset=charset,
        lead_ja=lead_ja,
        lead_en=lead_en,
        promotions=_chosen(promotions, no_promotions),
    )
    renderer = Renderer(sender=senders(app.settings))
    with app.migrated_db().session() as session:
        show = drafted_report(
            approval.compose_as(session, draft, cli_actor(), now=utcnow(), renderer=renderer)
        )
    show()


@click.command("edit", short_help="Change a draft's meetings, date, subjects, lead or promotions.")
@click.argument("number", type=int)
@click.option(
    "--meeting", "meeting_keys", multiple=True, help="Replaces the meetings: kind:number; repeatable."
)
@click.option(
    "--date", "issue_date", type=click.DateTime(["%Y-%m-%d"]), help="A new date; the promotions follow it."
)
@click.option("--subject", help="A new Japanese subject.")
@click.option("--subject-en", help="A new English subject.")
@click.option("--lead-ja", help="A new Japanese lead (Markdown; '' removes it).")
@click.option("--lead-en", help="A new English lead (Markdown; '' removes it).")
@click.option("--promotion", "promotions", multiple=True, metavar="SLUG", help="Replaces the promotions.")
@click.option("--no-promotions", is_flag=True, help=_NO_PROMOTIONS_HELP)
@click.option("--charset", type=click.Choice(issues.CHARSETS), help="A new charset.")
@pass_app
@reports_errors
def issue_edit(
    app: App,
    number: int,
    meeting_keys: tuple[str, ...],
    issue_date: Any,
    subject: str | None,
    subject_en: str | None,
    lead_ja: str | None,
    lead_en: str | None,
    promotions: tuple[str, ...],
    no_promotions: bool,
    charset: str | None,
) -> None:
    """Change draft NUMBER; what is not given stays, and a new date recomputes the promotions (unless
    --promotion chooses them).

    An approval the draft had is withdrawn, and whoever edits it becomes its composer.
    """
    changes = drafts.DraftChanges(
        meetings=meeting_keys or None,
        issue_date=issue_date.date() if issue_date else None,
        subject_ja=subject,
        subject_en=subject_en,
        charset=charset,
        lead_ja=lead_ja,
        lead_en=lead_en,
        promotions=_chosen(promotions, no_promotions),
    )
    renderer = Renderer(sender=senders(app.settings))
    with app.migrated_db().session() as session:
        edited = approval.edit_as(session, number, changes, cli_actor(), now=utcnow(), renderer=renderer)
        show = drafted_report(edited)
    show()


@click.command("delete", short_help="Delete a draft; its number is freed when it is the newest.")
@click.argument("number", type=int)
@pass_app
@reports_errors
def issue_delete(app: App, number: int) -> None:
    """Delete draft NUMBER; only a draft can be deleted (audited as `issue.delete`)."""
    with app.migrated_db().session() as session:
        deleted = drafts.delete_as(session, number, cli_actor(), now=utcnow())
    click.echo(str(deleted))


@click.command("test-send", short_help="Send one copy of an issue to one address, as a test.")
@click.argument("number", type=int)
@click.option("--to", "to", required=True, help="The address the test goes to (a colleague's, not a list).")
@click.option(
    "--org",
    "organization",
    default=NETWORK_SLUG,
    show_default=True,
    callback=org_slug,
    help="Whose rendition.",
)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@pass_app
@reports_errors
def issue_test_send(app: App, number: int, to: str, organization: str, lang: str) -> None:
    """Send one rendition of issue NUMBER to one address, before the real send; the ledger is not touched."""
    settings = app.guard_real_mail()
    sent = asyncio.run(
        send_trial(
            app.migrated_db(),
            settings,
            number,
            to=to,
            organization=organization,
            language=lang,
            links=SignedLinks(settings),
        )
    )
    click.echo(
        f"test of issue No. {number} ({sent.organization}, {sent.language}) to {sent.to}: "
        f"{sent.reply.code} {sent.reply.text}"
    )
    if sent.reply.code != 250:
        raise SystemExit(4)
