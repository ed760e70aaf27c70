"""`outreach report`: did the information reach the companies, through each member organization?"""

from __future__ import annotations

__all__ = ["report"]

import csv
import io
import unicodedata
from datetime import date, datetime
from typing import Any

import click

from outreach.calendar import JST
from outreach.cli.common import App, echo_json, reports_errors
from outreach.cli.report_monthly import monthly
from outreach.dates import format_en, format_ja
from outreach.errors import InvalidInput
from outreach.models import IssueStatus
from outreach.reach import FIGURES, ReachReport, ReachRow, Scope, issue_reach, masked, masked_change
from outreach.reach_period import period_reach

_LABELS = {
    "subscribers": ("配信対象", "Subscribers"),
    "accepted": ("受理", "Accepted"),
    "bounced_hard": ("不達（恒久）", "Hard bounces"),
    "bounced_soft": ("不達（一時）", "Soft bounces"),
    "bounced_policy": ("不達（ポリシー）", "Policy bounces"),
    "complaints": ("苦情", "Complaints"),
    "delivered": ("到達", "Delivered"),
    "unsubscribed": ("配信停止（14日以内）", "Unsubscribed (14 days)"),
    "new_subscribers": ("新規登録", "New subscribers"),
    "forwarded": ("転送（団体の報告）", "Forwarded (reported)"),
}
# The table's columns; "name+" is the change of that figure. CSV and JSON carry every figure and change.
_TABLE = (
    "subscribers", "subscribers+", "accepted", "bounced_hard", "bounced_soft", "bounced_policy",
    "complaints", "delivered", "delivered+", "unsubscribed", "new_subscribers", "forwarded",
)  # fmt: skip
_UNFINISHED = {
    IssueStatus.SENDING: (
        "※ この号は送信中です。数値は確定していません。",
        "Note: this issue is still sending; the figures are not final.",
    ),
    IssueStatus.PAUSED: (
        "※ この号は送信を一時停止中です。数値は確定していません。",
        "Note: this issue's send is paused; the figures are not final.",
    ),
    IssueStatus.CANCELLED: (
        "※ この号は送信の途中で中止されました。",
        "Note: this issue was cancelled mid-send.",
    ),
}
_NOTES = {
    "issue": (
        "配信停止は配信開始から14日以内、新規登録は前号の配信開始からこの号の配信開始までの数です。",
        "Unsubscribed: within 14 days of the send; new subscribers: since the previous issue's send.",
    ),
    "period": (
        "配信対象〜到達は各号の通数の合計、配信停止は期間中と期間後14日以内、新規登録は期間中の数です。",
        "Subscribers to delivered are summed over the issues (messages); unsubscribed: within the period "
        "and 14 days after it; new subscribers: within the period.",
    ),
    "forwarded": (
        "転送は、団体が自らの手段で転送したと報告した企業数です（報告のない団体は「-」）。",
        "Forwarded: the companies an organization reports it forwarded to with its own tools (- where none).",
    ),
    "masked": (
        "※ 1〜4の数は「<5」、比べる数のいずれかが1〜4の増減は「–」と表示しています。",
        "Counts of 1 to 4 are shown as <5, and a change as – where either count it compares is one of them.",
    ),
}


@click.group(
    "report",
    invoke_without_command=True,
    short_help="Show how far the issues reached the companies, per organization.",
)
@click.option(
    "--issue", "number", type=int, metavar="N", help="The issue to report on; its send has started."
)
@click.option("--from", "first", metavar="YYYY-MM-DD", help="The first day of a period, in Japan time.")
@click.option(
    "--to", "last", metavar="YYYY-MM-DD", help="The last day of the period, in Japan time; included."
)
@click.option(
    "--lang",
    type=click.Choice(["ja", "en"]),
    default="ja",
    show_default=True,
    help="The language of the headings and the organizations' names.",
)
@click.option(
    "--csv", "as_csv", is_flag=True, help="Write CSV: UTF-8 with a BOM, so that Excel in Japan opens it."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON: the issues, the period, the rows, the totals."
)
@click.option(
    "--mask-small",
    is_flag=True,
    help="Show counts of 1 to 4 as <5 (0 stays 0), and a change as – where either count it compares is "
    "one of them, in every row, the totals and every format: for sharing outside the secretariat.",
)
@click.pass_context
@reports_errors
def report(
    context: click.Context,
    number: int | None,
    first: str | None,
    last: str | None,
    lang: str,
    as_csv: bool,
    as_json: bool,
    mask_small: bool,
) -> None:
    """Did the information reach the companies, through each member organization? For the plenary.

    Give --issue N, or --from and --to for the issues whose send started in a period (the change is then
    against the period of the same length before it). Each organization's row, in the network's order,
    counts the subscribers at send, the messages the relay accepted, the bounces after delivery by class,
    complaints, the messages delivered, opt-outs within 14 days, new subscribers, and the companies the
    organization reports it forwarded to. The table shows the change of subscribers and of delivered
    messages; CSV and JSON carry every figure and change (CSV the forwarding when any was reported).

    \b
    outreach report --issue 5
    outreach report --from 2026-04-01 --to 2026-09-30 --csv > reach.csv
    outreach report monthly --month 2026-11 --dry-run
    """
    if context.invoked_subcommand is not None:
        return  # `outreach report monthly`: its own options
    app = context.ensure_object(App)
    if as_csv and as_json:
        raise InvalidInput("choose one of --csv and --json")
    with app.migrated_db().session() as session:
        if number is not None and first is None and last is None:
            found = issue_reach(session, number)
        elif number is None and first is not None and last is not None:
            found = period_reach(session, _day(first, "--from"), _day(last, "--to"))
        else:
            raise InvalidInput("give either --issue N, or both --from and --to (YYYY-MM-DD)")
    if as_json:
        echo_json(_as_json(found, mask=mask_small))
    elif as_csv:
        click.echo(_as_csv(found, lang=lang, mask=mask_small).encode("utf-8-sig"), nl=False)
    else:
        for line in (*_headline(found, lang), "", *_table(found, lang=lang, mask=mask_small)):
            click.echo(line)
        for note in _notes(found, lang=lang, mask=mask_small):
            click.echo(note)


def _day(text: str, option: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput(f"{option} {text!r} is not a date written YYYY-MM-DD, e.g. 2026-04-01") from None


def _figures(row: ReachRow, *, mask: bool) -> dict[str, int | str]:
    values = row.figures.as_dict()
    return {name: masked(count) for name, count in values.items()} if mask else dict(values)


def _forwarded(row: ReachRow, *, mask: bool) -> int | str | None:
    """The companies the organization reports it forwarded to; None where it reported nothing."""
    if row.forwarded is None:
        return None
    return masked(row.forwarded) if mask else row.forwarded


def _changes(row: ReachRow, *, mask: bool) -> dict[str, int | str | None] | None:
    if row.change is None:
        return None
    counts, changes = row.figures.as_dict(), row.change.as_dict()
    if not mask:
        return dict(changes)
    return {name: masked_change(counts[name], changes[name]) for name in FIGURES}


def _as_json(found: ReachReport, *, mask: bool) -> dict[str, Any]:
    def row(item: ReachRow) -> dict[str, Any]:
        names = {"slug": item.slug, "name_ja": item.name_ja, "name_en": item.name_en}
        forwarded = _forwarded(item, mask=mask)
        return (
            names | _figures(item, mask=mask) | {"change": _changes(item, mask=mask), "forwarded": forwarded}
        )

    return {
        **_scope_json(found.scope),
        "compared_with": None if found.previous is None else _scope_json(found.previous),
        "masked": mask,
        "rows": [row(item) for item in found.rows],
        "totals": row(found.totals),
    }


def _scope_json(scope: Scope) -> dict[str, Any]:
    started = scope.send_started_at
    return {
        "issues": list(scope.issues),
        "period": None if scope.first is None else {"from": str(scope.first), "to": str(scope.last)},
        "send_started_at": None if started is None else started.astimezone(JST).isoformat(),
        "status": None if scope.status is None else str(scope.status),
    }


def _as_csv(found: ReachReport, *, lang: str, mask: bool) -> str:
    """Every figure, every change, and (when any organization reported forwarding) the forwarding last."""
    with_change = found.previous is not None
    with_forwarding = found.totals.forwarded is not None
    header = [_text("組織コード", "slug", lang), _text("組織", "organization", lang)]
    header += [_label(name, lang) for name in FIGURES]
    header += [_change_label(name, found, lang) for name in FIGURES] if with_change else []
    header += [_label("forwarded", lang)] if with_forwarding else []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for item in (*found.rows, found.totals):
        changes = _changes(item, mask=mask) or {}
        cells: list[Any] = [item.slug, _name(item, lang), *_figures(item, mask=mask).values()]
        cells += [changes[name] for name in FIGURES] if with_change else []
        cells += [_forwarded(item, mask=mask)] if with_forwarding else []
        writer.writerow(cells)
    return out.getvalue()


def _headline(found: ReachReport, lang: str) -> list[str]:
    scope, previous = found.scope, found.previous
    if scope.first is not None and scope.last is not None:
        lines = [_period_line(scope, lang)]
        if previous is not None:
            lines.append(_compared_period_line(previous, lang))
        return lines
    lines = [_issue_line(scope, lang)]
    if scope.status in _UNFINISHED:
        lines.append(_text(*_UNFINISHED[scope.status], lang))
    if previous is None:
        lines.append(_text("前号比：比べる前号はありません。", "Change: there is no earlier issue.", lang))
    else:
        [before] = previous.issues
        lines.append(
            _text(
                f"前号比：第{before}号（{_started(previous, lang)}）との差",
                f"Change: against No. {before} (send started {_started(previous, lang)})",
                lang,
            )
        )
    return lines


def _issue_line(scope: Scope, lang: str) -> str:
    [number] = scope.issues
    started = _started(scope, lang)
    return _text(
        f"第{number}号の到達状況（配信開始：{started}）",
        f"Reach of issue No. {number} (send started {started})",
        lang,
    )


def _started(scope: Scope, lang: str) -> str:
    assert scope.send_started_at is not None  # a reported issue has started its send
    local = scope.send_started_at.astimezone(JST)
    return _text(f"{format_ja(local)} {local:%H:%M} JST", f"{format_en(local)}, {local:%H:%M} JST", lang)


def _period_line(scope: Scope, lang: str) -> str:
    days = _days(scope, lang)
    return _text(
        f"期間：{days}（日本時間）　対象：{_issues(scope, lang)}",
        f"Period: {days} (Japan time); issues: {_issues(scope, lang)}",
        lang,
    )


def _compared_period_line(previous: Scope, lang: str) -> str:
    days = _days(previous, lang)
    return _text(
        f"前期比：{days}との差　対象：{_issues(previous, lang)}",
        f"Change: against {days}; issues: {_issues(previous, lang)}",
        lang,
    )


def _days(scope: Scope, lang: str) -> str:
    assert scope.first is not None  # a period's scope
    assert scope.last is not None
    if lang == "ja":
        return f"{format_ja(scope.first)}〜{format_ja(scope.last)}"
    return f"{format_en(scope.first)} to {format_en(scope.last)}"


def _issues(scope: Scope, lang: str) -> str:
    """`第3号〜第5号（計3号）` / `No. 3–5 (3 issues)`; `なし` / `none` for a period without issues."""
    numbers = scope.issues
    if not numbers:
        return _text("なし", "none", lang)
    count = len(numbers)
    if count == 1:
        return _text(f"第{numbers[0]}号（計1号）", f"No. {numbers[0]} (1 issue)", lang)
    return _text(
        f"第{numbers[0]}号〜第{numbers[-1]}号（計{count}号）",
        f"No. {numbers[0]}–{numbers[-1]} ({count} issues)",
        lang,
    )


def _table(found: ReachReport, *, lang: str, mask: bool) -> list[str]:
    columns = [column for column in _TABLE if found.previous is not None or not column.endswith("+")]
    header = [_text("組織", "Organization", lang)]
    header += [_column_label(column, found, lang) for column in columns]
    body = [_table_row(item, columns, lang=lang, mask=mask) for item in (*found.rows, found.totals)]
    widths = [max(_width(line[index]) for line in (header, *body)) for index in range(len(header))]
    lines = [_aligned(line, widths) for line in (header, *body)]
    rule = "-" * _width(lines[0])
    return [lines[0], rule, *lines[1:-1], rule, lines[-1]]


def _table_row(item: ReachRow, columns: list[str], *, lang: str, mask: bool) -> list[str]:
    figures, changes = _figures(item, mask=mask), _changes(item, mask=mask) or {}
    cells = [_name(item, lang)]
    for column in columns:
        name = column.rstrip("+")
        if name == "forwarded":
            forwarded = _forwarded(item, mask=mask)
            cells.append("-" if forwarded is None else _count(forwarded))
        else:
            cells.append(_signed(changes.get(name)) if column.endswith("+") else _count(figures[name]))
    return cells


def _column_label(column: str, found: ReachReport, lang: str) -> str:
    name = column.rstrip("+")
    return _change_label(name, found, lang) if column.endswith("+") else _label(name, lang)


def _notes(found: ReachReport, *, lang: str, mask: bool) -> list[str]:
    kinds = ["period" if found.scope.first is not None else "issue", "forwarded"]
    kinds += ["masked"] if mask else []
    notes = [_text(*_NOTES[kind], lang) for kind in kinds]
    if found.scope.first is not None and not found.scope.issues:
        notes.insert(
            0,
            _text("この期間に配信を始めた号はありません。", "No issue's send started in this period.", lang),
        )
    return ["", *notes]


def _count(value: int | str) -> str:
    return f"{value:,}" if isinstance(value, int) else value


def _signed(value: int | str | None) -> str:
    """+3, −2 (a minus sign, not a hyphen), ±0; a masked change as it is."""
    if value is None or isinstance(value, str):
        return value or ""
    if value == 0:
        return "±0"
    return f"+{value:,}" if value > 0 else f"−{-value:,}"


def _label(name: str, lang: str) -> str:
    return _text(*_LABELS[name], lang)


def _change_label(name: str, found: ReachReport, lang: str) -> str:
    ja_label, en_label = _LABELS[name]
    against = "前期比" if found.scope.first is not None else "前号比"
    return _text(f"{ja_label}の{against}", f"{en_label}: change", lang)


def _name(item: ReachRow, lang: str) -> str:
    return _text(item.name_ja, item.name_en, lang)


def _text(ja: str, en: str, lang: str) -> str:
    return ja if lang == "ja" else en


def _width(text: str) -> int:
    """Columns on a terminal: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _aligned(cells: list[str], widths: list[int]) -> str:
    """The name left-aligned, the figures right-aligned, two spaces apart."""
    name, *figures = cells
    padded = [name + " " * (widths[0] - _width(name))]
    padded += [" " * (width - _width(cell)) + cell for cell, width in zip(figures, widths[1:], strict=True)]
    return "  ".join(padded).rstrip()


report.add_command(monthly)
