"""Markdown from staff to HTML that is safe to put in a mail (raw HTML is escaped, unsafe links refused),
and to the plain text of the text/plain part (no `*` or `#` left, links as "text (url)")."""

from __future__ import annotations

__all__ = ["to_html", "to_text"]

from collections.abc import Sequence
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "html": False escapes any raw HTML in the source; markdown-it's validateLink already refuses
    # javascript:, vbscript:, file: and data: (but images) URLs.
    return MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")


def to_html(source: str, *, top_heading: int = 0) -> str:
    """Render staff Markdown to safe HTML.

    `top_heading` (3: <h3>) is the level its highest heading takes, the others following it down to <h6>:
    the headings in a section stand below the section's own title, whether staff wrote `#` or `##`.
    """
    tokens = _parser().parse(source)
    levels = [int(token.tag[1]) for token in tokens if token.type == "heading_open"]
    if top_heading and levels:
        shift = top_heading - min(levels)
        for token in tokens:
            if token.type in ("heading_open", "heading_close"):
                token.tag = f"h{min(int(token.tag[1]) + shift, 6)}"
    return str(_parser().renderer.render(tokens, _parser().options, {}))


def _inline(children: Sequence[Token]) -> str:
    """An inline run as plain text: emphasis marks dropped, links as "text (url)", breaks as line ends."""
    out: list[str] = []
    href = ""
    start = 0
    for token in children:
        if token.type in ("text", "code_inline", "html_inline"):
            out.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            out.append("\n")
        elif token.type == "image":
            out.append(token.content)
        elif token.type == "link_open":
            href, start = str(token.attrGet("href") or ""), len(out)
        elif token.type == "link_close":
            shown = "".join(out[start:])
            if href and href not in (shown, f"mailto:{shown}"):
                out.append(f" ({href})")
    return "".join(out)


def _prefix(lines: str, first: str, rest: str) -> str:
    return "\n".join((first if index == 0 else rest) + line for index, line in enumerate(lines.split("\n")))


def _blocks(tokens: Sequence[Token], start: int, stop: int) -> tuple[list[str], int]:
    """The blocks of tokens[start:] up to a closing token of the level it started at, as texts."""
    blocks: list[str] = []
    index = start
    while index < stop:
        token = tokens[index]
        if token.nesting == -1:
            return blocks, index
        if token.type == "inline":
            blocks.append(_inline(token.children or []))
        elif token.type in ("fence", "code_block"):
            blocks.append(_prefix(token.content.rstrip("\n"), "    ", "    "))
        elif token.type == "hr":
            blocks.append("-" * 20)
        elif token.nesting == 1:
            inner, index = _blocks(tokens, index + 1, stop)
            blocks.append(_container(token, inner))
        index += 1
    return blocks, index


def _container(token: Token, inner: list[str]) -> str:
    if token.type == "list_item_open":
        marker = f"{token.info}{token.markup} " if token.markup in (".", ")") else "- "
        return _prefix("\n".join(inner), marker, " " * len(marker))
    if token.type == "blockquote_open":
        return _prefix("\n\n".join(inner), "> ", "> ")
    if token.type in ("bullet_list_open", "ordered_list_open"):
        tight = all(not block.count("\n\n") for block in inner)
        return ("\n" if tight else "\n\n").join(inner)
    if token.type == "tr_open":
        return " | ".join(inner)
    if token.type in ("table_open", "thead_open", "tbody_open"):
        return "\n".join(inner)
    return "\n\n".join(inner)  # paragraph, heading, cell


def to_text(source: str) -> str:
    """The plain-text rendering of staff Markdown for the text/plain part.

    Headings, emphasis and code marks are dropped (`*Golgo 13*` reads "Golgo 13"), links read
    "text (url)", lists keep their "- " and "1. ", a quote its "> ". Text in angle brackets stays: the HTML
    part shows it escaped, so the text part must show it too.
    """
    tokens = _parser().parse(source)
    blocks, _ = _blocks(tokens, 0, len(tokens))
    return "\n\n".join(block for block in blocks if block.strip()).strip()
