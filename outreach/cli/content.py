"""`outreach org` and `outreach meeting`: the organizations and the meeting outcomes."""

from __future__ import annotations

__all__ = ["meeting", "org"]

from datetime import date
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from outreach import content, issues
from outreach.cli.common import App, echo_json, org_slug, pass_app, reports_errors
from outreach.cli.tables import Column, echo_table
from outreach.errors import InvalidInput
from outreach.models import Organization
from outreach.network import Link
from outreach.usecases.content import (
    MeetingChanges,
    MeetingRecord,
    edit_meeting,
    list_meetings,
    record_meeting,
)
from subscribers.directory import find_organization


@click.group(short_help="List the member organizations; choose their mail's charset.")
def org() -> None:
    """List the network's member organizations, with the slugs that `--org` takes; choose the charset their
    companies' mail goes in."""


@org.command("list", short_help="List the organizations and their slugs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
@reports_errors
def org_list(app: App, as_json: bool) -> None:
    """List the organizations with their slugs, in the network's order."""
    with app.migrated_db().session() as session:
        rows = session.scalars(select(Organization).order_by(Organization.position)).all()
        data = [
            {"slug": o.slug, "name_ja": o.name_ja, "name_en": o.name_en, "kind": o.kind, "charset": o.charset}
            for o in rows
        ]
    if as_json:
        echo_json(data)
        return
    echo_table(
        (Column("organization"), Column("name"), Column("name (en)")),
        [(item["slug"], item["name_ja"], item["name_en"]) for item in data],
        empty="no organizations yet: `outreach seed` loads them",
    )


_DEFAULT = "default"


@org.command("set-charset", short_help="Choose the charset of an organization's mail.")
@click.argument("slug", callback=org_slug)
@click.argument("charset", type=click.Choice([*issues.CHARSETS, _DEFAULT], case_sensitive=False))
@pass_app
@reports_errors
def org_set_charset(app: App, slug: str, charset: str) -> None:
    """Send the companies of organization SLUG every issue in utf-8 or iso-2022-jp, whatever the issue's
    charset (some mail systems still need ISO-2022-JP); `default` sends them the issue's own. A subscriber's
    own preference (the roster's charset column) comes first. For example:

    \b
    outreach org set-charset jetro iso-2022-jp
    """
    preference = None if charset == _DEFAULT else charset
    with app.migrated_db().session() as session:
        find_organization(session, slug).charset = preference
    chosen = "the issue's own charset" if preference is None else preference
    click.echo(
        f"{slug}'s companies now get each issue in {chosen} (a subscriber's own preference comes first)"
    )


@click.group(short_help="Record the outcomes of plenaries and secretariat meetings.")
def meeting() -> None:
    """Record the outcomes of plenaries (本会合) and secretariat meetings (幹事会)."""


def parse_link(text: str) -> Link:
    """`title|https://…`, or a bare URL titled 関連資料 / Related material."""
    title, separator, url = text.rpartition("|")
    if not separator:
        title, url = "", text
    title = title.strip()
    return Link(title_ja=title or "関連資料", title_en=title or "Related material", url=url.strip())


def meeting_record(
    key: str,
    held_on: date,
    format_: str | None,
    summary: Path,
    summary_en: Path | None,
    opened_by: tuple[str, str],
    links: tuple[str, ...],
) -> MeetingRecord:
    """What `meeting add` and `meeting publish` read from their options."""
    return MeetingRecord(
        key=key,
        held_on=held_on,
        format=format_,
        summary_ja=read_text(summary),
        summary_en=read_text(summary_en),
        opened_by_ja=opened_by[0],
        opened_by_en=opened_by[1],
        links=[parse_link(link) for link in links],
    )


def read_text(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"cannot read {path} as UTF-8 text: {error}") from None


def _read_optional(path: Path | None) -> str | None:
    return None if path is None else read_text(path)


_SUMMARY_FILE = click.Path(path_type=Path, dir_okay=False)


@meeting.command("add", short_help="Record a meeting's outcome.")
@click.argument("key", metavar="KIND:NUMBER")
@click.option(
    "--date", "held_on", required=True, type=click.DateTime(["%Y-%m-%d"]), help="The day it was held."
)
@click.option(
    "--format", "format_", type=click.Choice(list(content.MEETING_FORMATS)), help="How it was held."
)
@click.option("--summary", type=_SUMMARY_FILE, required=True, help="Markdown file, Japanese.")
@click.option("--summary-en", type=_SUMMARY_FILE, help="Markdown file, English.")
@click.option("--opened-by", default="", help="Who opened it (Japanese).")
@click.option("--opened-by-en", default="", help="Who opened it (English).")
@click.option("--link", "links", multiple=True, help="'title|https://…' or a bare URL; repeatable.")
@pass_app
@reports_errors
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
    """Record the outcome of meeting KIND:NUMBER from a Markdown summary, for example:

    \b
    outreach meeting add plenary:9 --date 2026-11-20 --summary s.md
    """
    record = meeting_record(
        key, held_on.date(), format_, summary, summary_en, (opened_by, opened_by_en), links
    )
    with app.migrated_db().session() as session:
        recorded = record_meeting(session, record)
        key, held_on = recorded.key, recorded.held_on
    click.echo(f"recorded {key} held on {held_on}: compose with `outreach issue compose --meeting {key}`")


@meeting.command("edit", short_help="Change a recorded meeting; what is not given stays.")
@click.argument("key", metavar="KIND:NUMBER")
@click.option("--date", "held_on", type=click.DateTime(["%Y-%m-%d"]), help="The day it was held.")
@click.option(
    "--format", "format_", type=click.Choice(list(content.MEETING_FORMATS)), help="How it was held."
)
@click.option("--summary", type=_SUMMARY_FILE, help="Markdown file, Japanese.")
@click.option("--summary-en", type=_SUMMARY_FILE, help="Markdown file, English (empty: the Japanese).")
@click.option("--opened-by", help="Who opened it (Japanese).")
@click.option("--opened-by-en", help="Who opened it (English).")
@click.option("--link", "links", multiple=True, help="Replaces the links: 'title|https://…'; repeatable.")
@click.option("--no-links", is_flag=True, help="Remove every link.")
@pass_app
@reports_errors
def meeting_edit(
    app: App,
    key: str,
    held_on: Any,
    format_: str | None,
    summary: Path | None,
    summary_en: Path | None,
    opened_by: str | None,
    opened_by_en: str | None,
    links: tuple[str, ...],
    no_links: bool,
) -> None:
    """Change a recorded meeting; what is not given stays, for example:

    \b
    outreach meeting edit plenary:9 --date 2026-11-21
    """
    if links and no_links:
        raise InvalidInput("give --link or --no-links, not both")
    changes = MeetingChanges(
        held_on=held_on.date() if held_on else None,
        format=format_,
        summary_ja=_read_optional(summary),
        summary_en=_read_optional(summary_en),
        opened_by_ja=opened_by,
        opened_by_en=opened_by_en,
        links=[parse_link(link) for link in links] if links or no_links else None,
    )
    with app.migrated_db().session() as session:
        edited = edit_meeting(session, key, changes)
        edited_key, held_on = edited.meeting.key, edited.meeting.held_on
    click.echo(f"edited {edited_key} held on {held_on}")
    for warning in edited.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)


@meeting.command("list")
@pass_app
@reports_errors
def meeting_list(app: App) -> None:
    """List the recorded meetings, oldest first."""
    with app.migrated_db().session() as session:
        rows = [(item.key, item.held_on, item.format, item.opened_by_ja) for item in list_meetings(session)]
    echo_table(
        (Column("meeting"), Column("held on"), Column("format"), Column("opened by")),
        rows,
        empty="no meetings yet: `outreach seed` loads the past ones, `outreach meeting add` adds one",
    )
