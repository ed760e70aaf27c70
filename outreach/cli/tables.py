"""Tables on the terminal: a header row, and columns aligned by what a terminal shows.

A Japanese character takes two columns of a terminal; `rich.cells.cell_len` counts them so, which Python's
`str.ljust` does not. Figures are aligned right, text left, and no line ends in spaces. Times are shown in
Japan time, the zone of the issues' dates and of the mail's own Date header; the column says so.
"""

from __future__ import annotations

__all__ = ["Column", "echo_table", "jst_time", "table_lines"]

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import click
from rich.cells import cell_len

from outreach.calendar import JST

_GAP = "  "


@dataclass(frozen=True)
class Column:
    """A column's title, and whether it holds figures (aligned right)."""

    title: str
    figures: bool = False


def table_lines(
    columns: Sequence[Column], rows: Iterable[Sequence[object]], *, indent: str = ""
) -> list[str]:
    """The header row and one line per row, each cell padded to its column's widest cell."""
    cells = [[column.title for column in columns], *([_shown(value) for value in row] for row in rows)]
    widths = [max(cell_len(line[index]) for line in cells) for index in range(len(columns))]
    return [indent + _line(line, columns, widths) for line in cells]


def echo_table(
    columns: Sequence[Column], rows: Iterable[Sequence[object]], *, empty: str, indent: str = ""
) -> None:
    """Print the table, or only `empty` (a sentence saying why there is nothing) when there are no rows."""
    rows = list(rows)
    if not rows:
        click.echo(indent + empty)
        return
    for line in table_lines(columns, rows, indent=indent):
        click.echo(line)


def jst_time(moment: datetime) -> str:
    """`2026-12-01 10:00:05`: a moment in Japan time, for a column headed "(JST)"."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return f"{aware.astimezone(JST):%Y-%m-%d %H:%M:%S}"


def _shown(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def _line(cells: Sequence[str], columns: Sequence[Column], widths: Sequence[int]) -> str:
    padded = []
    for cell, column, width in zip(cells, columns, widths, strict=True):
        room = " " * (width - cell_len(cell))
        padded.append(room + cell if column.figures else cell + room)
    return _GAP.join(padded).rstrip()
