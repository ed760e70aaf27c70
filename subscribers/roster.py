"""Parsing the roster CSV that an association sends: bytes in, checked rows out, no database; and how the
association stands behind its addresses (`ImportConsent`)."""

from __future__ import annotations

__all__ = [
    "COLUMN_NAMES",
    "MAX_TEXT_LENGTH",
    "ImportConsent",
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
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from outreach.errors import RosterError, RosterProblem
from outreach.issues import CHARSETS
from subscribers.addresses import InvalidAddress, normalize_address

# Header names accepted for each field, compared after NFKC, stripping and casefolding.
COLUMN_NAMES: dict[str, tuple[str, ...]] = {
    "email": ("email", "e-mail", "mail", "メールアドレス", "メール"),
    "company": ("company", "会社名", "企業名", "社名"),
    "name": ("name", "氏名", "担当者名", "名前"),
    "charset": ("charset", "文字コード", "文字セット"),
}
_FIELD_BY_HEADER = {header: name for name, headers in COLUMN_NAMES.items() for header in headers}

MAX_TEXT_LENGTH = 200

# Python's cp932 codec turns the bytes 0x80, 0xA0 and 0xFD-0xFF into these instead of failing, but no
# Shift_JIS text that Excel writes contains those bytes: finding one means the file is something else.
_CP932_STRAY_BYTES = {"\x80": 0x80, "\uf8f0": 0xA0, "\uf8f1": 0xFD, "\uf8f2": 0xFE, "\uf8f3": 0xFF}
_UTF8_BOM = b"\xef\xbb\xbf"

_NOT_TEXT = (
    "the file is neither UTF-8 nor Shift_JIS/CP932 text (UTF-16 'Unicode text' is not accepted); "
    "save it from Excel as 'CSV UTF-8' or 'CSV'"
)
_ONE_ENCODING = "save the whole file in one encoding (from Excel: 'CSV UTF-8')"

# Excel runs a cell that starts with one of these as a formula; a leading apostrophe makes it plain text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_WHITESPACE_RUN = re.compile(r"\s+")


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


@dataclass(frozen=True)
class _Columns:
    email: int
    company: int | None
    name: int | None
    charset: int | None = None


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
        # unguarded first: an exported roster, read back, must give the same addresses and names
        email = self._email(line, unguard_formula(_cell(cells, self.columns.email)))
        company = self._text(line, unguard_formula(_cell(cells, self.columns.company)), what="company")
        name = self._text(line, unguard_formula(_cell(cells, self.columns.name)), what="name")
        charset = self._charset(line, _cell(cells, self.columns.charset))
        if email is not None and company is not None and name is not None and charset is not None:
            row = RosterRow(line=line, email=email, company=company, name=name, charset=charset or None)
            self.rows.append(row)

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

    def _charset(self, line: int, raw: str) -> str | None:
        """One of CHARSETS, or "" for an empty cell; None, with the problem noted, for anything else."""
        charset = _header_key(raw)
        if charset and charset not in CHARSETS:
            message = f"the charset must be {' or '.join(CHARSETS)}, or empty for no preference; got {raw!r}"
            self.problems.append(RosterProblem(line, message))
            return None
        return charset


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
    """The file's text: UTF-8 (with or without a BOM), else CP932, but only if every line is in that one."""
    # A NUL byte means UTF-16 (Excel's "Unicode text") or no text at all, even where UTF-8 would decode it.
    if b"\x00" in data:
        raise RosterError([RosterProblem(1, _NOT_TEXT)])
    text = _try_decode(data, "utf-8-sig")
    if text is not None:
        return text
    # Line by line, to learn the file's encoding and name each line that is not in it. bytes.splitlines
    # breaks at CR, LF and CRLF only, as the CSV reader counts lines; no character of either encoding
    # holds those bytes.
    body = data.removeprefix(_UTF8_BOM)
    lines = [_Line.read(number, line) for number, line in enumerate(body.splitlines(), start=1)]
    encoding = _UTF8 if data.startswith(_UTF8_BOM) else _majority(lines)  # a BOM says UTF-8, whatever follows
    problems = [problem for line in lines if (problem := _encoding_problem(line, encoding)) is not None]
    if problems:
        raise RosterError(problems)
    return body.decode(encoding.codec)


@dataclass(frozen=True)
class _Encoding:
    codec: str
    label: str


_UTF8 = _Encoding("utf-8", "UTF-8")
_CP932 = _Encoding("cp932", "CP932 (Shift_JIS)")


@dataclass(frozen=True)
class _Line:
    """One physical line of the file, read in each encoding; None where its bytes are not that encoding."""

    number: int
    data: bytes
    utf8: str | None
    cp932: str | None
    evidence: _Encoding | None

    @classmethod
    def read(cls, number: int, data: bytes) -> _Line:
        utf8, cp932 = _try_decode(data, "utf-8"), _cp932_text(data)
        return cls(number, data, utf8, cp932, _evidence(data, utf8, cp932))

    def text(self, encoding: _Encoding) -> str | None:
        return self.utf8 if encoding is _UTF8 else self.cp932


def _evidence(data: bytes, utf8: str | None, cp932: str | None) -> _Encoding | None:
    """The encoding a line shows it was written in; None if it is ASCII, or reads as both or neither."""
    if data.isascii():
        return None
    if utf8 is not None and (cp932 is None or _written_as_utf8(utf8)):
        return _UTF8
    if cp932 is not None and utf8 is None:
        return _CP932
    return None


def _cp932_text(data: bytes) -> str | None:
    text = _try_decode(data, "cp932")
    return text if text is not None and _CP932_STRAY_BYTES.keys().isdisjoint(text) else None


def _majority(lines: list[_Line]) -> _Encoding:
    """The encoding that more lines show; UTF-8 on a tie, as it is what the export writes."""
    votes = Counter(line.evidence for line in lines)
    return _CP932 if votes[_CP932] > votes[_UTF8] else _UTF8


def _encoding_problem(line: _Line, encoding: _Encoding) -> RosterProblem | None:
    if line.evidence is not None and line.evidence is not encoding:
        message = f"this line is {line.evidence.label} but the file is {encoding.label}: {_ONE_ENCODING}"
        return RosterProblem(line.number, message)
    if line.text(encoding) is None:
        position, byte = _first_unreadable(line.data, encoding)
        message = (
            f"the byte 0x{byte:02X} at character {position} is neither UTF-8 nor Shift_JIS/CP932 text; "
            "save the file from Excel as 'CSV UTF-8' or 'CSV'"
        )
        return RosterProblem(line.number, message)
    return None


def _first_unreadable(data: bytes, encoding: _Encoding) -> tuple[int, int]:
    """The 1-based character position and the value of the first byte that `encoding` cannot read."""
    try:
        readable, failed_at = data.decode(encoding.codec), len(data)
    except UnicodeDecodeError as error:
        readable, failed_at = data[: error.start].decode(encoding.codec), error.start
    if encoding is _CP932:
        for index, char in enumerate(readable):
            if char in _CP932_STRAY_BYTES:
                return index + 1, _CP932_STRAY_BYTES[char]
    return len(readable) + 1, data[failed_at]


def _written_as_utf8(text: str) -> bool:
    """Whether a line that reads both as UTF-8 and as CP932 was written in UTF-8; `text` is its UTF-8 reading.

    CP932 is valid UTF-8 only by accident, where half-width katakana or rarer kanji happen to form UTF-8
    sequences, and what the accident reads as gives it away: characters that Shift_JIS cannot hold (private
    use, most of Unicode's ideographs, Hangul), or a lone Greek, Cyrillic or accented letter where a pair of
    half-width katakana was. A line typed in UTF-8 holds characters Shift_JIS has, emoji, or Latin names.

    Two cases still fool it. A UTF-8 line whose only non-ASCII characters take two bytes and are no accented
    letters (Greek, Cyrillic, ×) is left to CP932. A CP932 line whose Japanese runs are each a rarer kanji
    (lead byte E0-EA) and one character after it, such as 邃ア, can read as plausible UTF-8 (℃A): refused.
    """
    wide = any(char >= "\u0800" for char in text)
    return all(_likely_typed(text, index, wide=wide) for index, char in enumerate(text) if not char.isascii())


def _likely_typed(text: str, index: int, *, wide: bool) -> bool:
    char = text[index]
    if char >= "\U00010000":  # four UTF-8 bytes, led by F0-F4: CP932's area for user-defined characters
        return True
    if char >= "\u0800":  # three UTF-8 bytes
        return unicodedata.category(char) != "Co" and _in_cp932(char)
    # Two UTF-8 bytes, which a pair of half-width katakana can make. Typed, they are an accented letter in a
    # Latin word, or a sign such as × or ° among Japanese (three-byte) characters.
    if "\u00c0" <= char <= "\u00ff" and char.isalpha() and _next_to_latin_letter(text, index):
        return True
    return wide and _in_cp932(char)


def _in_cp932(char: str) -> bool:
    try:
        char.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True


def _next_to_latin_letter(text: str, index: int) -> bool:
    neighbours = text[max(index - 1, 0) : index] + text[index + 1 : index + 2]
    return any(char.isascii() and char.isalpha() for char in neighbours)


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
        charset=indexes.get("charset", [None])[0],
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
    text = "".join(_neutral(char) for char in raw).strip()
    return _WHITESPACE_RUN.sub(lambda run: run.group()[0], text)


def _neutral(char: str) -> str:
    category = unicodedata.category(char)
    if category in ("Cc", "Zl", "Zp"):
        return " "
    return "" if category == "Cf" else char
