"""A refused roster, as the import page shows it: each problem with its line number, the line's own text,
and a message in the page's language.

The engine (subscribers.roster) says what is wrong in English sentences for the command line. The page
recognises each of those sentences and names it by a code, with the values it carries, so that
templates/admin/roster_macros.html can say it in Japanese or English; a sentence it does not know is shown
as the engine wrote it (tests/test_console_rosters.py makes each known sentence happen).
"""

from __future__ import annotations

__all__ = ["MAX_SHOWN", "LineProblem", "line_problems"]

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from outreach.errors import RosterProblem

MAX_SHOWN = 500  # a page lists this many problems; the rest are counted
_LINE_TEXT = 200  # characters of a line shown beside its problem

# (code, the engine's sentence): the named groups are the values the message shows.
_SENTENCES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (code, re.compile(pattern, re.DOTALL))
    for code, pattern in (
        ("not-text", r"the file is neither UTF-8 nor Shift_JIS/CP932 text .*"),
        ("mixed-encoding", r"this line is (?P<line_encoding>.+?) but the file is (?P<file_encoding>.+?): .*"),
        ("bad-byte", r"the byte (?P<byte>0x[0-9A-F]{2}) at character (?P<position>\d+) is neither .*"),
        ("unreadable", r"the CSV cannot be read from here on \((?P<reason>.*)\); .*"),
        ("empty", r"the file is empty; a header row is required"),
        ("too-many-rows", r"the file has more than (?P<limit>\d+) rows; .*"),
        ("no-email", r"the email address is empty"),
        ("bad-address", r"(?P<address>'.*'|\".*\") is not a usable email address: (?P<reason>.*)"),
        ("duplicate", r"(?P<address>\S+) is a duplicate of line (?P<first>\d+)"),
        ("long-company", r"the company is (?P<length>\d+) characters long; at most (?P<limit>\d+) .*"),
        ("long-name", r"the name is (?P<length>\d+) characters long; at most (?P<limit>\d+) .*"),
        ("bad-charset", r"the charset must be .*; got (?P<given>.*)"),
        ("two-columns", r"more than one (?P<column>\w+) column: (?P<headers>.*)"),
        ("no-email-column", r"the header has no email column; .*"),
        ("unknown-places", r"unknown country or region: (?P<names>.*)"),
    )
)
_QUOTED = re.compile(r"""^(['"])(.*)\1$""", re.DOTALL)


@dataclass(frozen=True)
class LineProblem:
    """One problem: its line, that line's text (empty when it is no text to show), and what is wrong."""

    line: int
    text: str
    code: str  # "" when the engine's sentence is not one the page knows: `message` is shown as it is
    message: str
    values: dict[str, str] = field(default_factory=dict)


def _named(message: str) -> tuple[str, dict[str, str]]:
    for code, pattern in _SENTENCES:
        matched = pattern.fullmatch(message)
        if matched:
            values = {name: _unquoted(value) for name, value in matched.groupdict().items()}
            return code, values
    return "", {}


def _unquoted(value: str) -> str:
    matched = _QUOTED.match(value)
    return matched.group(2) if matched else value


def _shown(raw: bytes) -> str:
    """A line of the file as the page shows it: decoded as the engine would read it, controls made visible."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = raw.decode("utf-8", errors="replace")
    visible = "".join("\ufffd" if unicodedata.category(char) in ("Cc", "Cf") else char for char in text)
    return visible if len(visible) <= _LINE_TEXT else visible[:_LINE_TEXT] + "…"


def line_problems(data: bytes, problems: Sequence[RosterProblem]) -> list[LineProblem]:
    """The first MAX_SHOWN problems of the file `data`, each with the text of its line."""
    binary = b"\x00" in data  # UTF-16 or no text at all: its lines would show nothing readable
    lines = [] if binary else data.removeprefix(b"\xef\xbb\xbf").splitlines()
    shown = []
    for problem in problems[:MAX_SHOWN]:
        code, values = _named(problem.message)
        number = problem.line
        text = _shown(lines[number - 1]) if 0 < number <= len(lines) else ""
        shown.append(LineProblem(number, text, code, problem.message, values))
    return shown
