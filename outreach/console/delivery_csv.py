"""The delivery log as CSV for Excel in Japan: UTF-8 with a BOM, a header in the page's language, written a
batch of rows at a time, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

__all__ = ["CsvWords", "csv_chunks", "inert"]

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from outreach.calendar import JST
from outreach.db import Database
from outreach.delivery_view import LogFilters, LogRow, log_rows

BOM = "\ufeff"
# A cell starting with one of these is a formula to Excel (and a tab or CR can hide one): CSV injection.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CsvWords:
    """What the file says in the page's language: its header, and the states' and languages' names."""

    language: str
    headings: Sequence[str]
    states: Mapping[str, str]
    languages: Mapping[str, str]


def inert(cell: str) -> str:
    """The cell as text a spreadsheet shows and never runs: one that starts like a formula gets a `'`."""
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell


def _cells(row: LogRow, words: CsvWords) -> list[str]:
    return [
        row.email,
        row.organization.name(words.language),
        words.languages.get(row.language, row.language),
        words.states.get(row.status.value, row.status.value),
        "" if row.smtp_code is None else str(row.smtp_code),
        row.smtp_reply or "",
        str(row.attempts),
        f"{row.updated_at.astimezone(JST):%Y-%m-%d %H:%M:%S}",
    ]


def _lines(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[inert(cell) for cell in row] for row in rows])
    return buffer.getvalue()


def csv_chunks(db: Database, issue_id: int, filters: LogFilters, words: CsvWords) -> Iterator[str]:
    """The file, a chunk per batch of rows, read in one session that lives while the file is sent."""
    yield BOM + _lines([words.headings])
    with db.session() as session:
        for batch in log_rows(session, issue_id, filters):
            yield _lines([_cells(row, words) for row in batch])
