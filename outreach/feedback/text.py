"""The human side of a report: its notification text, and the copy of our original it returns.

A text bounce (qmail, Exim, Yahoo's legacy form) is one text: the notification, a marker line such as
"--- Below this line is a copy of the message.", then the original quoted. The notification is read
for the code and the diagnostic next to an address (flufl.bounce finds addresses, never why they
failed); the original for its Message-ID and Return-Path, as a message/rfc822 or text/rfc822-headers
part holds them in a MIME report.
"""

from __future__ import annotations

__all__ = ["code_paragraph", "envelope", "near", "notification", "returned_original"]

import html
import re
from email.message import Message
from email.parser import HeaderParser

from outreach.feedback.classes import first_code
from outreach.feedback.dsn import fold, header_text, part_text, report_parts

# The line a text bounce puts before its copy of the original: qmail, Exim, Yahoo, Gmail, Exchange.
_COPY_MARKER = re.compile(
    r"^[ \t-]*(?:below this line is a copy of the message|this is a copy of the message"
    r"|original message follows|original message headers:|original message[ \t]*-{3,})",
    re.IGNORECASE | re.MULTILINE,
)
_QUOTED_MESSAGE_ID = re.compile(
    r"^message-id:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE
)
_QUOTED_RETURN_PATH = re.compile(r"^return-path:[ \t]*<?([^<>\s]+@[^<>\s]+)>?", re.IGNORECASE | re.MULTILINE)
_BRACKETED = re.compile(r"<[^<>]+>")
_ENVELOPE_ADDRESS = re.compile(r"[^\s<>]+@[^\s<>]+")
_TAG = re.compile(r"<[^>]*>")
_PARAGRAPH_LINES = 12  # a diagnostic paragraph longer than this is cut (and folded to 500 characters)


def notification(message: Message) -> str:
    """The human-readable text of a report, up to its copy of the original."""
    text = _body_text(message)
    marker = _COPY_MARKER.search(text)
    return text[: marker.start()] if marker else text


def near(text: str, address: str | None, *, single: bool) -> tuple[str | None, str]:
    """The code and the diagnostic (one line) next to an address in a notification.

    The paragraph that starts at the line naming the address. When the text never names it and the
    report has this one failure only, the paragraph of the first code (with more failures, a code
    elsewhere could be another recipient's).
    """
    lines = text.splitlines()
    wanted = (address or "\0").lower()
    start = next((i for i, line in enumerate(lines) if wanted in line.lower()), None)
    if start is None:
        return code_paragraph(text) if single else (None, "")
    paragraph = " ".join(_paragraph(lines, start))
    return first_code(paragraph) or (first_code(text) if single else None), fold(paragraph)


def code_paragraph(text: str) -> tuple[str | None, str]:
    """The first code of a notification and the paragraph that starts at its line; (None, "") if none."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if first_code(line)), None)
    if start is None:
        return None, ""
    return first_code(lines[start]), fold(" ".join(_paragraph(lines, start)))


def returned_original(message: Message) -> tuple[str | None, str | None]:
    """The returned original's Message-ID (with its brackets) and Return-Path, where the report has them."""
    headers = _returned_headers(message)
    message_id = _message_id(header_text(headers, "message-id")) if headers is not None else None
    return_path = envelope(header_text(headers, "return-path")) if headers is not None else None
    if message_id is None or return_path is None:
        quoted = _quoted_original(message)
        if message_id is None and (found := _QUOTED_MESSAGE_ID.search(quoted)):
            message_id = found.group(1)
        if return_path is None and (found := _QUOTED_RETURN_PATH.search(quoted)):
            return_path = found.group(1)
    return message_id, return_path


def envelope(value: str) -> str | None:
    """The address of a Return-Path or Original-Mail-From, its case kept (a VERP token may need it)."""
    found = _ENVELOPE_ADDRESS.search(value.replace("<", " ").replace(">", " "))
    return found.group(0) if found else None


def _paragraph(lines: list[str], start: int) -> list[str]:
    """The line at `start` and those after it to the end of their paragraph (blank lines first skipped)."""
    taken = [lines[start].strip()]
    for line in lines[start + 1 : start + _PARAGRAPH_LINES]:
        if line.strip():
            taken.append(line.strip())
        elif len(taken) > 1:
            break
    return taken


def _body_text(message: Message) -> str:
    """The text/plain parts of a report (its text/html stripped of tags if it has none), joined."""
    leaves = list(report_parts(message))
    plain = [part_text(part) for part in leaves if part.get_content_type() == "text/plain"]
    if plain:
        return "\n".join(plain)
    pages = [part_text(part) for part in leaves if part.get_content_type() == "text/html"]
    return "\n".join(html.unescape(_TAG.sub(" ", page)) for page in pages)


def _quoted_original(message: Message) -> str:
    """The text from a text bounce's copy marker on: the original's headers, quoted."""
    text = _body_text(message)
    marker = _COPY_MARKER.search(text)
    return text[marker.start() :] if marker else ""


def _returned_headers(message: Message) -> Message | None:
    """The header block of a report's first message/rfc822 or text/rfc822-headers part."""
    for part in report_parts(message):
        if part is message:
            continue
        content_type = part.get_content_type()
        payload = part.get_payload()
        if content_type == "message/rfc822" and isinstance(payload, list) and payload:
            inner = payload[0]
            return inner if isinstance(inner, Message) else None
        if content_type == "text/rfc822-headers":
            return HeaderParser().parsestr(part_text(part).lstrip(), headersonly=True)
    return None


def _message_id(value: str) -> str | None:
    """A Message-ID with its brackets and no whitespace (folding and quoted-printable breaks undone)."""
    compact = "".join(value.split())
    found = _BRACKETED.search(compact)
    if found:
        return found.group(0)
    return f"<{compact}>" if "@" in compact and "<" not in compact and ">" not in compact else None
