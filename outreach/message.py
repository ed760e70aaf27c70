"""Builds each recipient's RFC 5322 message from a rendition: headers encoded once, personal parts stamped."""

from __future__ import annotations

__all__ = ["MessageFactory", "Personal", "clean_header_text", "seven_bit"]

import binascii
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, quote
from zoneinfo import ZoneInfo

from markupsafe import escape

from outreach import jis
from outreach.render import Rendition, fits_charset
from outreach.stamp import Stamp

CRLF = "\r\n"
_JST = ZoneInfo("Asia/Tokyo")


def clean_header_text(value: str, *, limit: int = 200) -> str:
    """A single line for a header: every control character (CR, LF, TAB, NUL, …) becomes a space."""
    flattened = "".join(" " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char for char in value)
    return " ".join(flattened.split())[:limit]


def _plain_ascii(value: str) -> bool:
    """ASCII that a reader will not decode: text that looks like an encoded word (=?…?=) must be encoded."""
    return value.isascii() and "=?" not in value


def _short_encoded_word(value: str) -> str | None:
    """One UTF-8 encoded word when it fits in 75 characters (most names): the common case, made cheap."""
    raw = value.encode("utf-8")
    if len(raw) > 45:
        return None
    return f"=?utf-8?b?{binascii.b2a_base64(raw, newline=False).decode('ascii')}?="


def _encode_words(value: str, charset: str, header_name: str) -> str:
    if charset == "utf-8" and not _plain_ascii(value) and (word := _short_encoded_word(value)):
        return word
    if _plain_ascii(value):
        return Header(value, "us-ascii", header_name=header_name).encode(linesep=CRLF)
    return Header(
        value, charset if fits_charset(value, charset) else "utf-8", header_name=header_name
    ).encode(linesep=CRLF)


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


def _crlf_lines(text: str) -> str:
    """The text with CRLF line ends, whatever it had (CR, LF or CRLF)."""
    return CRLF.join(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def _body(text: str, charset: str) -> tuple[str, bytes]:
    """The Content-Transfer-Encoding and the encoded body, with CRLF line ends in the canonical form.

    ISO-2022-JP goes as 7bit, as Japanese mail clients expect, while every line fits in 998 octets;
    anything else, and UTF-8 always, goes as base64.
    """
    encoded = _crlf_lines(text).encode(charset)
    if charset != "utf-8" and all(len(line) <= 998 for line in encoded.split(b"\r\n")):
        return "7bit", encoded + b"\r\n"
    return "base64", _base64_lines(encoded)


def _eight_bit(text: str) -> tuple[str, bytes]:
    return "8bit", _crlf_lines(text).encode("utf-8") + b"\r\n"


_EIGHT_BIT = b"Content-Transfer-Encoding: 8bit\r\n"
_BOUNDARY = re.compile(rb'boundary="([^"]+)"')


def seven_bit(message: bytes) -> bytes:
    """A message of ours with each 8bit part re-encoded as base64, as `build(eight_bit=False)` makes it.

    What DKIM signs must reach the reader byte for byte: a relay that finds no 8BITMIME on the next hop
    rewrites an 8bit part as quoted-printable, and the body hash no longer matches. A 7bit part is left alone.
    """
    head, _, body = message.partition(b"\r\n\r\n")
    boundary = _BOUNDARY.search(head)
    if _EIGHT_BIT not in body or boundary is None:
        return message
    chunks = body.split(b"--" + boundary.group(1))
    for index, chunk in enumerate(chunks):
        part_head, blank, part_body = chunk.partition(b"\r\n\r\n")
        if blank and part_head.endswith(_EIGHT_BIT[:-2]):
            # The part's text ends with the CRLF that _eight_bit added; base64 lines end with their own.
            chunks[index] = part_head[: -len(b"8bit")] + b"base64" + blank + _base64_lines(part_body[:-2])
    return head + b"\r\n\r\n" + (b"--" + boundary.group(1)).join(chunks)


def _base64_lines(data: bytes) -> bytes:
    """Base64 in 76-character lines with CRLF: one C call and slices (base64.encodebytes loops in Python)."""
    encoded = binascii.b2a_base64(data, newline=False)
    return b"\r\n".join([encoded[start : start + 76] for start in range(0, len(encoded), 76)]) + b"\r\n"


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


@dataclass(frozen=True)
class _LineBudget:
    """Where a stamp's holes fall: the longest line without holes, and each line with holes."""

    longest_plain: int
    lines_with_holes: tuple[tuple[int, tuple[str, ...]], ...]  # (bytes of literal text, the holes on it)

    @classmethod
    def of(cls, stamp: Stamp) -> _LineBudget:
        longest, length = 0, 0
        with_holes: list[tuple[int, tuple[str, ...]]] = []
        holes: list[str] = []
        for index, part in enumerate(stamp.parts):
            if index % 2:
                holes.append(part)
                continue
            lines = part.replace("\r\n", "\n").split("\n")
            for line_index, line in enumerate(lines):
                if line_index:  # the line ended: settle it
                    longest, with_holes = cls._settle(length, holes, longest, with_holes)
                    length, holes = 0, []
                length += len(line.encode("utf-8"))
        longest, with_holes = cls._settle(length, holes, longest, with_holes)
        return cls(longest, tuple(with_holes))

    @staticmethod
    def _settle(
        length: int, holes: list[str], longest: int, with_holes: list[tuple[int, tuple[str, ...]]]
    ) -> tuple[int, list[tuple[int, tuple[str, ...]]]]:
        if holes:
            with_holes.append((length, tuple(holes)))
            return longest, with_holes
        return max(longest, length), with_holes

    def fits(self, values: dict[str, str]) -> bool:
        """Whether every line stays within 998 octets with the values in (8bit allows no more)."""
        if self.longest_plain > 998:
            return False
        return all(
            length + sum(len(values[hole].encode("utf-8")) for hole in holes) <= 998
            for length, holes in self.lines_with_holes
        )


_Hole = tuple[str, bool]  # a personal field, and whether it goes into HTML (escaped)


@dataclass(frozen=True)
class _Template:
    """A message's bytes after its head, with holes: the literal pieces normalised to CRLF and encoded once
    per rendition, the personal values encoded into the holes per recipient. Normalising and encoding the
    whole body again for every message cost more than all the rest of building it."""

    pieces: tuple[bytes, ...]  # one more than the holes: piece, hole, piece, …, piece
    holes: tuple[_Hole, ...]
    dotted: bool  # a piece starts a line with a dot (RFC 5321 4.5.2 stuffs it): then SMTP looks for them
    line_starts: tuple[str, ...]  # the fields whose value starts a line: a dot there needs stuffing too
    before_dots: tuple[str, ...]  # the fields followed by a dot: at a line's start when the value is empty

    @classmethod
    def of(cls, segments: list[str | _Hole]) -> _Template:
        pieces: list[str] = [""]
        holes: list[_Hole] = []
        for segment in segments:
            if isinstance(segment, str):
                pieces[-1] += segment
            else:
                holes.append(segment)
                pieces.append("")
        encoded = tuple(piece.encode("utf-8") for piece in pieces)
        names = [name for name, _ in holes]
        return cls(
            encoded,
            tuple(holes),
            dotted=encoded[0].startswith(b".") or any(b"\n." in piece for piece in encoded),
            line_starts=tuple(
                name for name, piece in zip(names, encoded, strict=False) if piece.endswith(b"\n")
            ),
            before_dots=tuple(
                name for name, piece in zip(names, encoded[1:], strict=True) if piece[:1] == b"."
            ),
        )

    def stuffed(self, values: dict[str, str]) -> bool:
        """Whether the filled message has no line that starts with a dot: as it is, it is dot-stuffed."""
        return (
            not self.dotted
            and not any(values[name].startswith(".") for name in self.line_starts)
            and all(values[name] for name in self.before_dots)
        )

    def fill(self, values: dict[str, str]) -> bytes:
        chunks = [self.pieces[0]]
        for (name, html), piece in zip(self.holes, self.pieces[1:], strict=True):
            value = str(escape(values[name])) if html else values[name]
            chunks += (value.encode("utf-8"), piece)
        return b"".join(chunks)


def _stamp_segments(stamp: Stamp) -> list[str | _Hole] | None:
    """A stamp's text with CRLF line ends, piece by piece; None when a piece ends with a CR, whose LF may
    come after the hole (then only the whole text can be normalised)."""
    segments: list[str | _Hole] = []
    for index, part in enumerate(stamp.parts):
        if index % 2:
            segments.append((part, stamp.escape_html))
        elif part.endswith("\r") and index < len(stamp.parts) - 1:
            return None
        else:
            segments.append(_crlf_lines(part))
    return segments


def _part_head(boundary: str, subtype: str, charset: str, encoding: str) -> str:
    return (
        f"--{boundary}{CRLF}"
        f'Content-Type: text/{subtype}; charset="{charset}"{CRLF}'
        f"Content-Transfer-Encoding: {encoding}{CRLF}{CRLF}"
    )


def _eight_bit_template(rendition: Rendition, boundary: str) -> _Template | None:
    """Everything after the head of a UTF-8 message whose parts go as 8bit, for the common case."""
    text, html = _stamp_segments(rendition.text), _stamp_segments(rendition.html)
    if rendition.charset != "utf-8" or text is None or html is None:
        return None
    return _Template.of(
        [
            CRLF,
            _part_head(boundary, "plain", "utf-8", "8bit"),
            *text,
            CRLF,
            _part_head(boundary, "html", "utf-8", "8bit"),
            *html,
            CRLF,
            f"--{boundary}--{CRLF}",
        ]
    )


def _list_id(name: str, list_id: str, charset: str) -> str:
    """RFC 2919: a descriptive name (encoded words when it is not ASCII) before the list's identifier."""
    name = clean_header_text(name, limit=200)
    phrase = f"{_encode_words(name, charset, 'List-Id')} " if name else ""
    return f"List-Id: {phrase}<{list_id}>{CRLF}"


class MessageFactory:
    """Everything that is the same for all recipients of a rendition is prepared here once."""

    def __init__(
        self,
        rendition: Rendition,
        *,
        sender_name: str,
        sender_address: str,
        list_id: str,
        list_name: str = "",
        feedback_id: str = "",
    ) -> None:
        self.rendition = rendition
        charset = rendition.charset
        self._charset = charset
        self._boundary = f"==outreach_{secrets.token_hex(12)}"
        self._budgets = {"plain": _LineBudget.of(rendition.text), "html": _LineBudget.of(rendition.html)}
        self._eight_bit_template = _eight_bit_template(rendition, self._boundary)
        self._date: tuple[datetime, str] | None = None  # the last Date header: a send makes many a second
        # The sender's name takes the charset's substitutions as the rendition's texts did (see outreach.jis).
        sender_name, _ = jis.substitute(sender_name, charset)
        self._fixed = "".join(
            [
                f"From: {_mailbox(sender_name, sender_address, charset, 'From')}{CRLF}",
                _header("Subject", rendition.subject, charset),
                _list_id(list_name, list_id, charset),
                f"Feedback-ID: {clean_header_text(feedback_id)}{CRLF}" if feedback_id else "",
                f"List-Unsubscribe-Post: List-Unsubscribe=One-Click{CRLF}",
                f"MIME-Version: 1.0{CRLF}",
                f'Content-Type: multipart/alternative; boundary="{self._boundary}"{CRLF}',
            ]
        )

    def build(self, personal: Personal, *, now: datetime, eight_bit: bool = False) -> bytes:
        """The whole message as bytes with CRLF line endings (see build_marked)."""
        return self.build_marked(personal, now=now, eight_bit=eight_bit)[0]

    def build_marked(
        self, personal: Personal, *, now: datetime, eight_bit: bool = False
    ) -> tuple[bytes, bool]:
        """The whole message as bytes with CRLF line endings, and whether it is known to have no line that
        starts with a dot (so SMTP need not search 30 KB for one, which costs as much as building it).

        `eight_bit`: the server takes 8BITMIME, so UTF-8 parts whose lines fit go as they are, saving the
        base64 encoding of every message; otherwise, and for a part with a longer line, base64.
        """
        values = {
            "salutation": personal.salutation,
            "email": personal.email,
            "unsubscribe_url": personal.unsubscribe_url,
            "preferences_url": personal.preferences_url,
        }
        head = "".join(
            [
                f"To: {_mailbox(personal.display_name, personal.email, self._charset, 'To')}{CRLF}",
                f"Date: {self._date_of(now)}{CRLF}",
                f"Message-ID: {personal.message_id}{CRLF}",
                f"List-Unsubscribe: <{personal.unsubscribe_url}>,{CRLF}",
                f" <{personal.unsubscribe_mailto}>{CRLF}",
                self._fixed,
            ]
        ).encode("ascii")
        template = self._eight_bit_template
        if eight_bit and template is not None and self._fits_as_it_is(values):
            return head + template.fill(values), template.stuffed(values)
        text = self.rendition.text.fill(values)
        html = self.rendition.html.fill(values)
        # The rendition fits its charset; a personal part may not (髙 in a name): then this one goes as UTF-8.
        charset = (
            self._charset if all(fits_charset(value, self._charset) for value in values.values()) else "utf-8"
        )
        if charset != self._charset:  # and the page says what it is in
            html = html.replace(f"charset={self._charset}", f"charset={charset}", 1)
        raw = {
            subtype: eight_bit and charset == "utf-8" and self._budgets[subtype].fits(values)
            for subtype in ("plain", "html")
        }
        return head + CRLF.encode() + self._parts(text, html, charset, raw), False

    def _fits_as_it_is(self, values: dict[str, str]) -> bool:
        """Whether both parts go as 8bit with these values: on one line each (a value with a line break
        must be normalised with the text around it) and within 998 octets a line."""
        return not any("\r" in value or "\n" in value for value in values.values()) and all(
            budget.fits(values) for budget in self._budgets.values()
        )

    def _date_of(self, now: datetime) -> str:
        """The Date header's value, made once a second."""
        second = now.replace(microsecond=0)
        if self._date is None or self._date[0] != second:
            self._date = (second, format_datetime(second.astimezone(_JST)))
        return self._date[1]

    def _parts(self, text: str, html: str, charset: str, raw: dict[str, bool]) -> bytes:
        chunks: list[bytes] = []
        for subtype, content in (("plain", text), ("html", html)):
            encoding, body = _eight_bit(content) if raw[subtype] else _body(content, charset)
            chunks.append(_part_head(self._boundary, subtype, charset, encoding).encode("ascii") + body)
        chunks.append(f"--{self._boundary}--{CRLF}".encode("ascii"))
        return b"".join(chunks)
