"""Parsing the roster CSV that an association sends: bytes in, checked rows out, no database."""

from __future__ import annotations

__all__ = ["COLUMN_NAMES", "MAX_TEXT_LENGTH", "RosterRow", "clean_text", "parse_roster"]

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from outreach.errors import RosterError, RosterProblem
from subscribers.addresses import InvalidAddress, normalize_address

# Header names accepted for each field, compared after NFKC, stripping and casefolding.
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "email": ("email", "e-mail", "mail", "メールアドレス", "メール"),
    "company": ("company", "会社名", "企業名", "社名"),
    "name": ("name", "氏名", "担当者名", "名前"),
}
_FIELD_BY_HEADER = {header: name for name, headers in COLUMN_NAMES.items() for header in headers}

MAX_TEXT_LENGTH = 200

# Python's cp932 codec turns the bytes 0x80, 0xA0 and 0xFD-0xFF into these instead of failing, but no
# Shift_JIS text that Excel writes contains those bytes: finding one means the file is something else.
_CP932_STRAY_BYTES = frozenset("\x80\uf8f0\uf8f1\uf8f2\uf8f3")

_NOT_TEXT = (
    "the file is neither UTF-8 nor Shift_JIS/CP932 text (UTF-16 'Unicode text' is not accepted); "
    "save it from Excel as 'CSV UTF-8' or 'CSV'"
)

_WHITESPACE_RUN = re.compile(r"\s+")


@dataclass(frozen=True)
class RosterRow:
    """One subscriber in a roster; `line` is the 1-based line of the file where the row starts."""

    line: int
    email: str
    company: str
    name: str


@dataclass(frozen=True)
class _Columns:
    email: int
    company: int | None
    name: int | None


class _UnreadableCsv(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        message = f"the CSV cannot be read from here on ({reason}); is a double quote left unclosed?"
        self.problem = RosterProblem(line, message)


@dataclass
class _RowChecker:
    columns: _Columns
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[RosterProblem] = field(default_factory=list)
    first_line_of: dict[str, int] = field(default_factory=dict)

    def add(self, line: int, cells: list[str]) -> None:
        email = self._email(line, _cell(cells, self.columns.email))
        company = self._text(line, _cell(cells, self.columns.company), what="company")
        name = self._text(line, _cell(cells, self.columns.name), what="name")
        if email is not None and company is not None and name is not None:
            self.rows.append(RosterRow(line=line, email=email, company=company, name=name))

    def _email(self, line: int, raw: str) -> str | None:
        if not raw.strip():
            self.problems.append(RosterProblem(line, "the email address is empty"))
            return None
        try:
            email = normalize_address(raw)
        except InvalidAddress as error:
            self.problems.append(RosterProblem(line, str(error)))
            return None
        first_line = self.first_line_of.setdefault(email, line)
        if first_line != line:
            self.problems.append(RosterProblem(line, f"{email} is a duplicate of line {first_line}"))
            return None
        return email

    def _text(self, line: int, raw: str, *, what: str) -> str | None:
        text = clean_text(raw)
        if len(text) > MAX_TEXT_LENGTH:
            message = f"the {what} is {len(text)} characters long; at most {MAX_TEXT_LENGTH} are allowed"
            self.problems.append(RosterProblem(line, message))
            return None
        return text


def parse_roster(data: bytes, *, max_rows: int = 100_000) -> list[RosterRow]:
    """Return the rows of a roster CSV, or raise one RosterError listing every problem in the file."""
    records = _records(_decode(data))
    try:
        header_line, header = next(records)
    except StopIteration:
        raise RosterError([RosterProblem(1, "the file is empty; a header row is required")]) from None
    except _UnreadableCsv as error:
        raise RosterError([error.problem]) from error
    checker = _RowChecker(columns=_find_columns(header, line=header_line))
    _check_rows(records, checker, max_rows=max_rows)
    if checker.problems:
        raise RosterError(checker.problems)
    return checker.rows


def _check_rows(records: Iterator[tuple[int, list[str]]], checker: _RowChecker, *, max_rows: int) -> None:
    try:
        for count, (line, cells) in enumerate(records, start=1):
            if count > max_rows:
                message = f"the file has more than {max_rows} rows; split it into smaller files"
                checker.problems.append(RosterProblem(line, message))
                return
            checker.add(line, cells)
    except _UnreadableCsv as error:
        checker.problems.append(error.problem)


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _decode(data: bytes) -> str:
    # A NUL byte means UTF-16 (Excel's "Unicode text") or no text at all, even where UTF-8 would decode it.
    if b"\x00" not in data:
        text = _try_decode(data, "utf-8-sig")
        if text is not None:
            return text
        text = _try_decode(data, "cp932")
        if text is not None and not _CP932_STRAY_BYTES.intersection(text):
            return text
    raise RosterError([RosterProblem(1, _NOT_TEXT)])


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield the first physical line and the cells of each record that is not blank."""
    # strict: an unclosed quote would otherwise swallow every later row into one field, silently.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    last_line = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _UnreadableCsv(last_line + 1, str(error)) from error
        # line_num counts physical lines read so far, so a quoted field with newlines moves it on by several.
        first_line, last_line = last_line + 1, reader.line_num
        if any(cell.strip() for cell in cells):
            yield first_line, cells


def _header_key(cell: str) -> str:
    return unicodedata.normalize("NFKC", cell).strip().casefold()


def _find_columns(header: list[str], *, line: int) -> _Columns:
    indexes: dict[str, list[int]] = {}
    for index, cell in enumerate(header):
        name = _FIELD_BY_HEADER.get(_header_key(cell))
        if name is not None:
            indexes.setdefault(name, []).append(index)
    problems = [
        RosterProblem(line, f"more than one {name} column: " + ", ".join(repr(header[i]) for i in found))
        for name, found in indexes.items()
        if len(found) > 1
    ]
    if "email" not in indexes:
        accepted = ", ".join(COLUMN_NAMES["email"])
        problems.insert(0, RosterProblem(line, f"the header has no email column; name it one of: {accepted}"))
    if problems:
        raise RosterError(problems)
    return _Columns(
        email=indexes["email"][0],
        company=indexes.get("company", [None])[0],
        name=indexes.get("name", [None])[0],
    )


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def clean_text(raw: str) -> str:
    """Turn control characters into spaces and shrink each run of whitespace to its first character.

    Keeping the first character rather than always a space leaves the full-width space of `山田　太郎` alone.
    """
    text = "".join(" " if unicodedata.category(char) == "Cc" else char for char in raw).strip()
    return _WHITESPACE_RUN.sub(lambda run: run.group()[0], text)
