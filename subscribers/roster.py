"""Parsing the roster CSV that an association sends: bytes in, checked rows out, no database; and how the
association stands behind its addresses (`ImportConsent`)."""

from __future__ import annotations

__all__ = [
    "COLUMN_NAMES",
    "MAX_ROWS",
    "MAX_TEXT_LENGTH",
    "ImportConsent",
    "RosterReader",
    "RosterRow",
    "clean_text",
    "guard_formula",
    "parse_roster",
    "unguard_formula",
]

import csv
import enum
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from email_validator import SPECIAL_USE_DOMAIN_NAMES

from outreach.alerts.places import Place, UnknownPlaces, parse_places
from outreach.errors import RosterError, RosterProblem
from outreach.issues import CHARSETS
from subscribers.addresses import MAX_ADDRESS_LENGTH, InvalidAddress, normalize_address
from subscribers.roster_encoding import open_roster

# Header names accepted for each field, compared after NFKC, stripping and casefolding.
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "email": ("email", "e-mail", "mail", "メールアドレス", "メール"),
    "company": ("company", "会社名", "企業名", "社名"),
    "name": ("name", "氏名", "担当者名", "名前"),
    "charset": ("charset", "文字コード", "文字セット"),
    "countries": ("countries", "country", "国・地域", "国", "事業を行っている国・地域"),
}
_FIELD_BY_HEADER = {header: name for name, headers in COLUMN_NAMES.items() for header in headers}

MAX_TEXT_LENGTH = 200

# Excel runs a cell that starts with one of these as a formula; a leading apostrophe makes it plain text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_WHITESPACE_RUN = re.compile(r"\s+")

# Printable ASCII, CJK symbols and punctuation, kana, the common kanji and the full- and half-width forms:
# no control, separator or format character among them, so clean_text only trims and shrinks whitespace.
_ORDINARY_TEXT = re.compile("[\x20-\x7e\u3000-\u30ff\u4e00-\u9fff\uff01-\uffef]*")

# An address email-validator takes as it is (checked by tests/test_roster_bulk.py): a dot-atom of common
# characters, a host name of plain labels (no "--", so no Punycode) and a top-level domain of letters.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9_%+-]{1,64}(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63})"
)
_MAX_LOCAL_PART = 64
MAX_ROWS = 1_000_000


class ImportConsent(enum.StrEnum):
    """How an association stands behind the addresses on its roster."""

    VOUCHED = "vouched"  # the association has their consent: active at once, recorded as source `import`
    CONFIRM = "confirm"  # it does not: pending, and each gets a confirmation mail


@dataclass(frozen=True)
class RosterRow:
    """One subscriber in a roster; `line` is the 1-based line of the file where the row starts."""

    line: int
    email: str
    company: str
    name: str
    charset: str | None = None  # the charset their mail system needs; None: no preference (an empty cell)
    places: tuple[Place, ...] = ()  # the countries and regions they do business in; () for an empty cell


@dataclass(frozen=True)
class _Columns:
    email: int
    company: int | None
    name: int | None
    charset: int | None = None
    countries: int | None = None


class _UnreadableCsv(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        message = f"the CSV cannot be read from here on ({reason}); is a double quote left unclosed?"
        self.problem = RosterProblem(line, message)


@dataclass
class _RowChecker:
    columns: _Columns
    problems: list[RosterProblem] = field(default_factory=list)
    first_line_of: dict[str, int] = field(default_factory=dict)

    def check(self, line: int, cells: list[str]) -> RosterRow | None:
        """The row, or None with its problems noted."""
        # unguarded first: an exported roster, read back, must give the same addresses and names
        email = self._email(line, unguard_formula(_cell(cells, self.columns.email)))
        company = self._text(line, unguard_formula(_cell(cells, self.columns.company)), what="company")
        name = self._text(line, unguard_formula(_cell(cells, self.columns.name)), what="name")
        charset = self._charset(line, _cell(cells, self.columns.charset))
        places = self._places(line, unguard_formula(_cell(cells, self.columns.countries)))
        if email is None or company is None or name is None or charset is None or places is None:
            return None
        return RosterRow(line, email, company, name, charset=charset or None, places=places)

    def _places(self, line: int, raw: str) -> tuple[Place, ...] | None:
        """Names (Japanese or English) or codes of countries and regions; None, noted, for unknown ones."""
        if not raw:
            return ()
        try:
            return tuple(parse_places(raw))
        except UnknownPlaces as error:
            unknown = ", ".join(error.unknown)
            self.problems.append(RosterProblem(line, f"unknown country or region: {unknown}"))
            return None

    def _email(self, line: int, raw: str) -> str | None:
        if not raw.strip():
            self.problems.append(RosterProblem(line, "the email address is empty"))
            return None
        try:
            email = _plain_address(raw) or normalize_address(raw)
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

    def _charset(self, line: int, raw: str) -> str | None:
        """One of CHARSETS, or "" for an empty cell; None, with the problem noted, for anything else."""
        charset = _header_key(raw)
        if charset and charset not in CHARSETS:
            message = f"the charset must be {' or '.join(CHARSETS)}, or empty for no preference; got {raw!r}"
            self.problems.append(RosterProblem(line, message))
            return None
        return charset


def parse_roster(data: bytes, *, max_rows: int = MAX_ROWS) -> list[RosterRow]:
    """Return the rows of a roster CSV, or raise one RosterError listing every problem in the file."""
    reader = RosterReader(io.BytesIO(data), max_rows=max_rows)
    rows = [row for batch in reader.batches() for row in batch]
    reader.raise_problems()
    return rows


class RosterReader:
    """A roster file read as a stream, in batches of checked rows: an import writes each batch as it comes
    and, since a problem anywhere refuses the whole file, rolls back when `problems` is not empty at the end.

    The header, the encoding and an empty file are checked at once (RosterError); a row's problems are
    collected with their lines, and its batch goes on without it.
    """

    def __init__(self, source: BinaryIO, *, max_rows: int = MAX_ROWS) -> None:
        self._records = _records(open_roster(source))
        try:
            header_line, header = next(self._records)
        except StopIteration:
            raise RosterError([RosterProblem(1, "the file is empty; a header row is required")]) from None
        except _UnreadableCsv as error:
            raise RosterError([error.problem]) from error
        self._checker = _RowChecker(columns=_find_columns(header, line=header_line))
        self._max_rows = max_rows
        self.rows = 0  # the rows read so far, good or not

    @property
    def problems(self) -> list[RosterProblem]:
        return self._checker.problems

    def batches(self, size: int = 1000) -> Iterator[list[RosterRow]]:
        """The good rows, `size` at a time, in the file's order."""
        checker, batch = self._checker, []
        try:
            for line, cells in self._records:
                self.rows += 1
                if self.rows > self._max_rows:
                    message = f"the file has more than {self._max_rows} rows; split it into smaller files"
                    checker.problems.append(RosterProblem(line, message))
                    break
                row = checker.check(line, cells)
                if row is not None:
                    batch.append(row)
                    if len(batch) >= size:
                        yield batch
                        batch = []
        except _UnreadableCsv as error:
            checker.problems.append(error.problem)
        if batch:
            yield batch

    def raise_problems(self) -> None:
        """RosterError with every problem found, if there is one."""
        if self.problems:
            raise RosterError(self.problems)


def _records(text: TextIO) -> Iterator[tuple[int, list[str]]]:
    """Yield the first physical line and the cells of each record that is not blank."""
    # strict: an unclosed quote would otherwise swallow every later row into one field, silently.
    reader = csv.reader(text, strict=True)
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
        charset=indexes.get("charset", [None])[0],
        countries=indexes.get("countries", [None])[0],
    )


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""


def guard_formula(text: str) -> str:
    """The cell to write for `text`: an apostrophe first where Excel would run it as a formula.

    Text that already starts with apostrophes before a formula character gets one more, so that
    `unguard_formula` can tell the guard from the text and undo exactly what was added.
    """
    return f"'{text}" if text.lstrip("'").startswith(_FORMULA_START) else text


def unguard_formula(cell: str) -> str:
    """The text that `guard_formula` wrote `cell` for: one leading apostrophe off where it added one."""
    return cell[1:] if cell.startswith("'") and cell.lstrip("'").startswith(_FORMULA_START) else cell


def clean_text(raw: str) -> str:
    """Neutralise what a name or company must not carry; shrink each run of whitespace to its first character.

    Control characters (C0 and C1) and line or paragraph separators become spaces, so that the words they
    parted stay apart. Invisible format characters (bidi embeddings, overrides and isolates, zero-width spaces
    and joiners, direction marks, a BOM inside the text, soft hyphens) are removed: they show nothing, and
    can only hide or reorder what a reader sees. Keeping the first whitespace character rather than always a
    space leaves the full-width space of `山田　太郎` alone.
    """
    # Most names and companies hold none of the characters that change: only trimmed and shrunk.
    ordinary = _ORDINARY_TEXT.fullmatch(raw) is not None
    text = (raw if ordinary else "".join(_neutral(char) for char in raw)).strip()
    return _WHITESPACE_RUN.sub(_first_character, text)


def _first_character(run: re.Match[str]) -> str:
    return run.group()[0]


def _plain_address(raw: str) -> str | None:
    """The normalised address for the common case, without email-validator's full (slower) walk; None for
    anything else, which normalize_address then checks and explains."""
    match = _PLAIN_ADDRESS.fullmatch(raw)
    if match is None or len(raw) > MAX_ADDRESS_LENGTH or "--" in raw[raw.index("@") :]:
        return None
    if raw.index("@") > _MAX_LOCAL_PART or match.group(1).lower() in SPECIAL_USE_DOMAIN_NAMES:
        return None
    return raw.lower()


def _neutral(char: str) -> str:
    category = unicodedata.category(char)
    if category in ("Cc", "Zl", "Zp"):
        return " "
    return "" if category == "Cf" else char
