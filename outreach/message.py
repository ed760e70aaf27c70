"""Builds each recipient's RFC 5322 message from a rendition: headers encoded once, personal parts stamped."""

from __future__ import annotations

__all__ = ["MessageFactory", "Personal", "clean_header_text"]

import base64
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, quote
from zoneinfo import ZoneInfo

from outreach.render import Rendition

CRLF = "\r\n"
_JST = ZoneInfo("Asia/Tokyo")


def clean_header_text(value: str, *, limit: int = 200) -> str:
    """A single line for a header: every control character (CR, LF, TAB, NUL, …) becomes a space."""
    flattened = "".join(" " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char for char in value)
    return " ".join(flattened.split())[:limit]


def _plain_ascii(value: str) -> bool:
    """ASCII that a reader will not decode: text that looks like an encoded word (=?…?=) must be encoded."""
    return value.isascii() and "=?" not in value


def _fits(value: str, charset: str) -> bool:
    try:
        value.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def _encode_words(value: str, charset: str, header_name: str) -> str:
    if _plain_ascii(value):
        return Header(value, "us-ascii", header_name=header_name).encode(linesep=CRLF)
    return Header(value, charset if _fits(value, charset) else "utf-8", header_name=header_name).encode(
        linesep=CRLF
    )


def _header(name: str, value: str, charset: str) -> str:
    return f"{name}: {_encode_words(clean_header_text(value, limit=400), charset, name)}{CRLF}"


def _mailbox(display_name: str, address: str, charset: str, header_name: str) -> str:
    if any(char in address for char in '\r\n<>"(),;: \t'):
        raise ValueError(f"refusing an unsafe address in {header_name}: {address!r}")
    name = clean_header_text(display_name)
    if not name:
        return address
    if _plain_ascii(name):
        return f'"{quote(name)}" <{address}>'
    return f"{_encode_words(name, charset, header_name)} <{address}>"


def _body(text: str, charset: str) -> tuple[str, bytes]:
    """The Content-Transfer-Encoding and the encoded body, with CRLF line ends in the canonical form.

    ISO-2022-JP goes as 7bit, as Japanese mail clients expect, while every line fits in 998 octets;
    anything else, and UTF-8 always, goes as base64.
    """
    encoded = CRLF.join(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")).encode(charset)
    if charset != "utf-8" and all(len(line) <= 998 for line in encoded.split(b"\r\n")):
        return "7bit", encoded + b"\r\n"
    return "base64", base64.encodebytes(encoded).replace(b"\n", b"\r\n")


@dataclass(frozen=True)
class Personal:
    """What differs per recipient."""

    email: str
    display_name: str
    message_id: str
    salutation: str
    unsubscribe_url: str
    unsubscribe_mailto: str
    preferences_url: str


class MessageFactory:
    """Everything that is the same for all recipients of a rendition is prepared here once."""

    def __init__(self, rendition: Rendition, *, sender_name: str, sender_address: str, list_id: str) -> None:
        self.rendition = rendition
        charset = rendition.charset
        self._charset = charset
        self._boundary = f"==outreach_{secrets.token_hex(12)}"
        self._fixed = "".join(
            [
                f"From: {_mailbox(sender_name, sender_address, charset, 'From')}{CRLF}",
                _header("Subject", rendition.subject, charset),
                f"List-Id: <{list_id}>{CRLF}",
                f"List-Unsubscribe-Post: List-Unsubscribe=One-Click{CRLF}",
                f"MIME-Version: 1.0{CRLF}",
                f'Content-Type: multipart/alternative; boundary="{self._boundary}"{CRLF}',
            ]
        )

    def build(self, personal: Personal, *, now: datetime) -> bytes:
        """The whole message as bytes with CRLF line endings."""
        values = {
            "salutation": personal.salutation,
            "email": personal.email,
            "unsubscribe_url": personal.unsubscribe_url,
            "preferences_url": personal.preferences_url,
        }
        head = "".join(
            [
                f"To: {_mailbox(personal.display_name, personal.email, self._charset, 'To')}{CRLF}",
                f"Date: {format_datetime(now.astimezone(_JST))}{CRLF}",
                f"Message-ID: {personal.message_id}{CRLF}",
                f"List-Unsubscribe: <{personal.unsubscribe_url}>,{CRLF}",
                f" <{personal.unsubscribe_mailto}>{CRLF}",
                self._fixed,
            ]
        )
        text = self.rendition.text.fill(values)
        html = self.rendition.html.fill(values)
        # The rendition fits its charset; a personal part may not (髙 in a name): then this one goes as UTF-8.
        charset = self._charset if all(_fits(value, self._charset) for value in values.values()) else "utf-8"
        return head.encode("ascii") + CRLF.encode() + self._parts(text, html, charset)

    def _parts(self, text: str, html: str, charset: str) -> bytes:
        chunks: list[bytes] = []
        for subtype, content in (("plain", text), ("html", html)):
            encoding, body = _body(content, charset)
            chunks.append(
                (
                    f"--{self._boundary}{CRLF}"
                    f'Content-Type: text/{subtype}; charset="{charset}"{CRLF}'
                    f"Content-Transfer-Encoding: {encoding}{CRLF}{CRLF}"
                ).encode("ascii")
                + body
            )
        chunks.append(f"--{self._boundary}--{CRLF}".encode("ascii"))
        return b"".join(chunks)
