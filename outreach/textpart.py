"""The text/plain part as mail is read: lines wrapped at about 35 full-width characters, Japanese
line-breaking rules kept (no line starts with 。 or ッ, none ends with 「), URLs and words never
broken (a URL that does not fit starts a line of its own, and may run past the width).

Widths are counted in columns: a full-width character takes two, an ASCII one one (East Asian Width).
"""

from __future__ import annotations

__all__ = ["WIDTH", "display_width", "wrap"]

import re
import unicodedata

WIDTH = 70  # columns: 35 full-width characters, or 70 ASCII ones

# JIS X 4051's line-start prohibited characters (closing brackets, small kana, the long-vowel mark, stops) …
_NO_START = frozenset(
    "、。，．・：；？！゛゜ヽヾゝゞ々〻ー‐－〜～’”）〕］｝〉》」』】〙〗｠»"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
    ",.:;!?)]}%"
)
# … and its line-end prohibited ones (opening brackets).
_NO_END = frozenset("‘“（〔［｛〈《「『【〘〖｟«([{")
# What is never broken: a URL (ASCII only, so that "（https://…）" ends before its bracket), a placeholder of
# the stamp, a run of spaces; `_units` splits the rest into words of narrow characters and wide characters.
_WHOLE = re.compile(r"(?:https?|mailto|ftp)://[!-~]+|@@OUTREACH:[a-z_]+@@|\s+")
_URL = re.compile(r"(?:https?|mailto|ftp)://|@@OUTREACH:[a-z_]+_url@@")
# The prefix a wrapped line repeats (a quote) or stands under (a list item's text).
_LEAD = re.compile(r"(?:> )+|[-・*] |\d{1,3}[.)] |\s+")


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def _units(text: str) -> list[str]:
    """The text cut where a line might break: URLs, spaces, words, and each wide character alone."""
    units: list[str] = []
    position = 0
    for match in [*_WHOLE.finditer(text), None]:
        word = ""
        for char in text[position : match.start() if match else len(text)]:
            if _wide(char):
                units += [word, char] if word else [char]
                word = ""
            else:
                word += char
        if word:
            units.append(word)
        if match:
            units.append(match.group())
            position = match.end()
    return units


def _may_break(before: str, after: str) -> bool:
    """Whether a line may end after the unit `before` and the next start with the unit `after`."""
    if before.isspace() or after.isspace():
        return True
    if after[0] in _NO_START or before[-1] in _NO_END:
        return False
    if _URL.match(after):
        return True  # a URL that does not fit after its label starts the next line, whole
    if before[-1].isdigit() or after[0].isdigit():
        return False  # "第8回", "2023年度" stay whole
    return _wide(before[-1]) or _wide(after[0])  # Japanese breaks between any two characters


def _wrap_line(line: str, width: int) -> list[str]:
    if display_width(line) <= width or line.startswith("■"):
        return [line]
    lead = _LEAD.match(line)
    first = lead.group() if lead else ""
    hang = first if first.startswith(">") else " " * display_width(first)
    units = _units(line[len(first) :])
    lines: list[str] = []
    current: list[str] = []
    used = display_width(first)
    for unit in units:
        size = display_width(unit)
        if current and used + size > width and not unit.isspace():
            cut = _last_break(current, unit)
            if cut:
                lines.append((hang if lines else first) + "".join(current[:cut]).rstrip())
                current = current[cut:]
                while current and current[0].isspace():
                    current.pop(0)
                used = display_width(hang) + sum(display_width(kept) for kept in current)
        current.append(unit)
        used += size
    lines.append((hang if lines else first) + "".join(current).rstrip())
    return lines


def _last_break(current: list[str], following: str) -> int:
    """Where to cut the line being built (0: nowhere yet) so that `following` may start the next one."""
    units = [*current, following]
    for cut in range(len(current), 0, -1):
        if _may_break(units[cut - 1], units[cut]):
            return cut
    return 0


def wrap(text: str, *, width: int = WIDTH) -> str:
    """Each line of the text wrapped to `width` columns where Japanese or English allows a break.

    A line that cannot be broken (a long URL) stays whole; a heading line (■ …) stays whole too.
    """
    return "\n".join(wrapped for line in text.split("\n") for wrapped in _wrap_line(line, width))
