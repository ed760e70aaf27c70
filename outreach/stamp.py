"""Render once, stamp many: a rendered text with named holes that are filled per recipient."""

from __future__ import annotations

__all__ = ["PERSONAL_FIELDS", "Stamp", "placeholder"]

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from markupsafe import escape

PERSONAL_FIELDS = ("salutation", "email", "unsubscribe_url", "preferences_url")
_HOLE = re.compile(r"@@OUTREACH:([a-z_]+)@@")


def placeholder(field: str) -> str:
    """The marker a template writes where a personal field goes; it survives Jinja2, premailer and lxml."""
    if field not in PERSONAL_FIELDS:
        raise KeyError(field)
    return f"@@OUTREACH:{field}@@"


def _identity(value: str) -> str:
    return value


def _html_escape(value: str) -> str:
    return str(escape(value))


@dataclass(frozen=True)
class Stamp:
    """A text split at its holes: even positions are literal text, odd positions are field names."""

    parts: tuple[str, ...]
    escape_html: bool

    @classmethod
    def compile(cls, text: str, *, escape_html: bool) -> Stamp:
        parts = tuple(_HOLE.split(text))
        unknown = set(parts[1::2]) - set(PERSONAL_FIELDS)
        if unknown:
            raise ValueError(f"unknown personal field(s) in a rendition: {', '.join(sorted(unknown))}")
        return cls(parts, escape_html)

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(self.parts[1::2])

    def fill(self, values: Mapping[str, str]) -> str:
        """The text with every hole filled; values are HTML-escaped for an HTML stamp."""
        quote: Callable[[str], str] = _html_escape if self.escape_html else _identity
        parts = list(self.parts)
        parts[1::2] = [quote(values[name]) for name in self.parts[1::2]]
        return "".join(parts)
