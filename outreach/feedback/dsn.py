"""The machine-readable parts of a report: RFC 3464 delivery-status and RFC 5965 feedback-report fields.

Both parts are blocks of header-like fields separated by blank lines. The email package parses a
message/delivery-status part into one Message per block, and a message/feedback-report part into one
Message; a part it left as text (a report built by hand, say) is split into blocks here, so all look alike.
Only parts of the report itself are read, never those of a returned original inside it.
"""

from __future__ import annotations

__all__ = [
    "RecipientBlock",
    "address_of",
    "field_blocks",
    "fold",
    "header_text",
    "part_text",
    "recipient_blocks",
    "report_parts",
]

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from outreach.feedback.classes import ENHANCED_CODE, first_code

_MAX_PARTS = 200  # more MIME parts than any report has: the rest of a message is not read
_MAX_DIAGNOSTIC = 500
_BLOCK_BREAK = re.compile(r"\r?\n[ \t]*\r?\n")
_ADDRESS = re.compile(r"[^\s<>@\"(),;:]+@[^\s<>@\"(),;:]+")
_FAILED_ACTIONS = ("fail", "error")  # "failed"; opensmtpd writes "error"
_SHIFT_JIS = frozenset({"shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j"})


@dataclass(frozen=True)
class RecipientBlock:
    """One per-recipient block of a delivery-status part, as its fields say."""

    recipient: str | None  # Original-Recipient (what we sent to), else Final-Recipient; lower-cased
    action: str  # lower-cased: failed, delayed, delivered, relayed, expanded
    status: str | None  # the RFC 3463 code of the Status field, if well-formed
    diagnostic: str  # Diagnostic-Code without its type ("smtp;"), on one line

    @property
    def failed(self) -> bool:
        return self.action.startswith(_FAILED_ACTIONS)


def report_parts(message: Message) -> Iterator[Message]:
    """The leaf parts of a message, a message/* part counting as a leaf: its content is never entered."""
    stack = [message]
    seen = 0
    while stack and seen < _MAX_PARTS:
        part = stack.pop()
        seen += 1
        payload = part.get_payload()
        if part.get_content_maintype() == "multipart" and isinstance(payload, list):
            stack.extend(reversed([child for child in payload if isinstance(child, Message)]))
        else:
            yield part


def part_text(part: Message) -> str:
    """A leaf part's decoded text in its charset; bytes it cannot decode become U+FFFD."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = str(part.get_content_charset("us-ascii") or "us-ascii")
    if charset in _SHIFT_JIS:
        charset = "cp932"  # Japanese mail says Shift_JIS and means Windows' CP932
    try:
        codec = codecs.lookup(charset).name
        return payload.decode(codec, errors="replace")
    except (LookupError, UnicodeError, ValueError):  # no such charset, or not a text one
        return payload.decode("utf-8", errors="replace")


def field_blocks(part: Message) -> list[Message]:
    """The blocks of fields of a delivery-status or feedback-report part, each as a Message."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    parser = HeaderParser()
    return [parser.parsestr(block.lstrip()) for block in _BLOCK_BREAK.split(part_text(part)) if block.strip()]


def recipient_blocks(message: Message) -> list[RecipientBlock]:
    """Every per-recipient block of every message/delivery-status part of a report, in order."""
    blocks: list[RecipientBlock] = []
    for part in report_parts(message):
        if part.get_content_type() != "message/delivery-status":
            continue
        for fields in field_blocks(part):
            block = _recipient_block(fields)
            if block is not None:
                blocks.append(block)
    return blocks


def _recipient_block(fields: Message) -> RecipientBlock | None:
    """A per-recipient block; None for the per-message block (it names no recipient and no action)."""
    action = header_text(fields, "action").lower()
    final = header_text(fields, "final-recipient")
    if not action and not final:
        return None
    status = ENHANCED_CODE.match(header_text(fields, "status").strip())
    diagnostic = fold(_without_type(header_text(fields, "diagnostic-code")))
    return RecipientBlock(
        recipient=address_of(header_text(fields, "original-recipient")) or address_of(final),
        action=action,
        status=status.group(0) if status else first_code(diagnostic),
        diagnostic=diagnostic,
    )


def address_of(value: str) -> str | None:
    """The address in a field such as "rfc822; <Rcpt@Example.JP>", lower-cased; None if it has none."""
    _, semicolon, rest = value.partition(";")
    found = _ADDRESS.search(rest if semicolon else value)
    return found.group(0).lower() if found else None


def fold(text: str) -> str:
    """A text on one line, runs of whitespace as one space, at most 500 characters."""
    return " ".join(text.split())[:_MAX_DIAGNOSTIC]


def header_text(headers: Message | None, name: str) -> str:
    """A header's or field's value as it stands, "" if absent."""
    value = None if headers is None else headers.get(name)
    return "" if value is None else str(value)


def _without_type(diagnostic: str) -> str:
    """A Diagnostic-Code's text without its diagnostic type: "smtp; 550 …" -> "550 …"."""
    kind, semicolon, text = diagnostic.partition(";")
    return text if semicolon and kind.strip() and " " not in kind.strip() else diagnostic
