"""A roster file's text: Excel saves CSV as UTF-8 (with or without a BOM) or as CP932 (Shift_JIS); this tells
which, line by line, and names each line that is in neither or in the other one.

A UTF-8 file, the common case, is read as a stream (checked once, then decoded while it is parsed), so a
million-row roster is never held whole as text; CP932 needs every line before it can tell, and is read whole.
"""

from __future__ import annotations

__all__ = ["decode_roster", "open_roster"]

import codecs
import io
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import BinaryIO, TextIO

from outreach.errors import RosterError, RosterProblem

# Python's cp932 codec turns the bytes 0x80, 0xA0 and 0xFD-0xFF into these instead of failing, but no
# Shift_JIS text that Excel writes contains those bytes: finding one means the file is something else.
_CP932_STRAY_BYTES = {"\x80": 0x80, "\uf8f0": 0xA0, "\uf8f1": 0xFD, "\uf8f2": 0xFE, "\uf8f3": 0xFF}
_UTF8_BOM = b"\xef\xbb\xbf"

_NOT_TEXT = (
    "the file is neither UTF-8 nor Shift_JIS/CP932 text (UTF-16 'Unicode text' is not accepted); "
    "save it from Excel as 'CSV UTF-8' or 'CSV'"
)
_ONE_ENCODING = "save the whole file in one encoding (from Excel: 'CSV UTF-8')"


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


_CHUNK = 1 << 20


def open_roster(source: BinaryIO) -> TextIO:
    """The text of a seekable binary roster file, for csv.reader: decoded as it is read when the file is UTF-8
    (with or without a BOM); else as `decode_roster` reads it, whole."""
    if _is_utf8(source):
        source.seek(0)
        return io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    source.seek(0)
    return io.StringIO(decode_roster(source.read()), newline="")


def _is_utf8(source: BinaryIO) -> bool:
    """Whether the whole file is UTF-8 text without a NUL byte, read in chunks and kept nowhere."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := source.read(_CHUNK):
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def decode_roster(data: bytes) -> str:
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
