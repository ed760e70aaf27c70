"""Inbound mail's headers as Japanese mailers write them: raw 8-bit text, encoded words in any charset.

Python's parser reads raw 8-bit header bytes as ASCII with escapes, which turns a Shift_JIS name into noise,
and gives up on an encoded word whose charset it cannot decode (Shift_JIS with ①, ISO-2022-JP with ㈱).
So the header block is decoded line by line first: UTF-8, then CP932 (Shift_JIS as Windows writes it) for
8-bit lines, ISO-2022-JP for 7-bit lines with its escape sequences (UTF-8 would take those as plain ASCII).
Every encoded word is then rewritten as a UTF-8 encoded word: still one word, so it can never add a comma,
an angle bracket or a quote to a From header, and only then does the standard parser read the structure.
"""

from __future__ import annotations

__all__ = ["decode_header_bytes", "read_headers"]

import base64
import binascii
import codecs
import email.policy
import re
from email.message import EmailMessage
from email.parser import HeaderParser

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=")
# JIS escape sequences: into two-byte JIS X 0208, back to ASCII (or JIS Roman), into half-width katakana.
_JIS_ESCAPE = re.compile(rb"(\x1b\$[@B]|\x1b\([BJI])")
_SHIFT_JIS = {"shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "csshiftjis", "windows-31j", "cp932"}


def read_headers(raw: bytes) -> EmailMessage:
    """The header block of a raw message, decoded; the body is not read (no command of ours needs it)."""
    lines: list[str] = []
    for line in raw.split(b"\n"):
        line = line.removesuffix(b"\r")
        if not line:
            break
        lines.append(_ENCODED_WORD.sub(_as_utf8_word, decode_header_bytes(line)))
    message = HeaderParser(policy=email.policy.default).parsestr("\n".join(lines) + "\n\n")
    assert isinstance(message, EmailMessage)  # the default policy's message factory
    return message


def decode_header_bytes(raw: bytes) -> str:
    """One header line as text: UTF-8, CP932, ISO-2022-JP as fits; undecodable bytes become U+FFFD."""
    if raw.isascii():
        return _from_jis(raw) if b"\x1b" in raw else raw.decode("ascii")
    for codec in ("utf-8", "cp932"):
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


def _as_utf8_word(match: re.Match[str]) -> str:
    charset, encoding, payload = match.groups()
    try:
        data = _word_bytes(encoding, payload)
    except (binascii.Error, ValueError):
        return match.group(0)  # not a well-formed word: the parser shows it as the text it is
    text = _decode_in(charset.partition("*")[0].lower(), data)  # RFC 2231: charset*language
    return f"=?utf-8?b?{base64.b64encode(text.encode('utf-8')).decode('ascii')}?="


def _word_bytes(encoding: str, payload: str) -> bytes:
    if encoding in "Bb":
        # Mailers drop the padding now and then; the decoder wants it.
        return base64.b64decode(payload + "=" * (-len(payload) % 4), validate=True)
    return binascii.a2b_qp(payload.encode("ascii"), header=True)


def _decode_in(charset: str, data: bytes) -> str:
    """Bytes in the charset a word names, read as its senders meant them; a wrong name falls back."""
    if charset in _SHIFT_JIS:
        charset = "cp932"  # Shift_JIS mail is written on Windows: ①, ㈱ and 髙 are CP932's, not Shift_JIS's
    try:
        return data.decode(codecs.lookup(charset).name)
    except (LookupError, UnicodeError):  # no such charset, not a text one, or not these bytes
        pass
    return _from_jis(data) if charset.startswith("iso-2022-jp") else decode_header_bytes(data)


def _from_jis(data: bytes) -> str:
    """ISO-2022-JP, with the characters Windows adds to it (①, ㈱) that Python's codec refuses."""
    try:
        return data.decode("iso-2022-jp")
    except UnicodeDecodeError:
        pass
    try:
        return _jis_through_cp932(data)
    except (UnicodeDecodeError, ValueError):
        return data.decode("ascii", "replace") if data.isascii() else decode_header_bytes(data)


def _jis_through_cp932(data: bytes) -> str:
    """Each JIS part rewritten as the CP932 bytes of the same characters, and read as CP932."""
    mode, parts = b"\x1b(B", []
    for part in _JIS_ESCAPE.split(data):
        if _JIS_ESCAPE.fullmatch(part):
            mode = part
        elif mode in (b"\x1b$@", b"\x1b$B"):
            parts.append(_jis_pairs_as_cp932(part).decode("cp932"))
        elif mode == b"\x1b(I":
            parts.append(bytes(byte | 0x80 for byte in part).decode("cp932"))
        else:
            parts.append(part.decode("ascii"))
    return "".join(parts)


def _jis_pairs_as_cp932(part: bytes) -> bytes:
    if len(part) % 2 or any(not 0x21 <= byte <= 0x7E for byte in part):
        raise ValueError("not JIS X 0208 pairs")
    out = bytearray()
    for first, second in zip(part[::2], part[1::2], strict=True):
        lead = (first + 1) // 2 + 0x70
        lead += 0x40 if lead >= 0xA0 else 0
        # An odd JIS row takes the low half of the Shift_JIS trail bytes (which skip 0x7F), an even the high.
        trail = second + 0x1F + int(second + 0x1F >= 0x7F) if first % 2 else second + 0x7E
        out += bytes((lead, trail))
    return bytes(out)
