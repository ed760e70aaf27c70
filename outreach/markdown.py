"""Markdown from staff to HTML that is safe to put in a mail: raw HTML is escaped, unsafe links refused."""

from __future__ import annotations

__all__ = ["to_html", "to_text"]

import html
import re
from functools import lru_cache

from markdown_it import MarkdownIt


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "html": False escapes any raw HTML in the source; markdown-it's validateLink already refuses
    # javascript:, vbscript:, file: and data: (but images) URLs.
    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")


def to_html(source: str) -> str:
    """Render staff Markdown to safe HTML."""
    return str(_parser().render(source))


_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def to_text(source: str) -> str:
    """The plain-text rendering of staff Markdown for the text/plain part: links as "text (url)".

    Text in angle brackets stays: the HTML part shows it escaped, so the text part must show it too.
    """
    text = _LINK.sub(r"\1 (\2)", source)
    text = re.sub(r"^\s{0,3}#{1,6}\s*", "", text, flags=re.MULTILINE)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    return html.unescape(text).strip()
