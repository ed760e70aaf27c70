"""VERP: each message's envelope sender names its delivery, so that a bounce says whose it is.

The address is `bounces+<id>.<mac>@<bounce domain>`: the delivery's id in base 36 and 16 characters of an
HMAC-SHA256 of it under the secret key, in base 32, all lower case (mail servers may change the case of a
local part, and may not be trusted to keep it). A bounce that comes back to a forged or altered address
names no delivery. The local part stays far below RFC 5321's 64 octets (at most 32).

From stays the sender's address; only the envelope (Return-Path) changes.
"""

from __future__ import annotations

__all__ = ["BOUNCE_MAILBOX", "Verp"]

import base64
import hashlib
import hmac
import re

from outreach.secret import Secret

BOUNCE_MAILBOX = "bounces"
_SALT = b"outreach.verp."
_LOCAL = re.compile(rf"{BOUNCE_MAILBOX}\+([0-9a-z]{{1,13}})\.([a-z2-7]{{16}})")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(number: int) -> str:
    text = ""
    while True:
        number, digit = divmod(number, 36)
        text = _DIGITS[digit] + text
        if not number:
            return text


class Verp:
    """Makes and reads the envelope senders of one bounce domain."""

    def __init__(self, secret: Secret, domain: str) -> None:
        self._key = hashlib.sha256(_SALT + secret.reveal().encode()).digest()
        self.domain = domain.lower()

    def address(self, delivery_id: int) -> str:
        """The envelope sender of a delivery's message."""
        return f"{BOUNCE_MAILBOX}+{_base36(delivery_id)}.{self.signature(delivery_id)}@{self.domain}"

    def is_ours(self, address: str) -> bool:
        """Whether an address is a bounce mailbox of this domain (`bounces@`, `bounces+…@`), forged or not."""
        local, at, host = address.strip("<>").rpartition("@")
        mailbox = local.lower().partition("+")[0]
        return bool(at) and host.lower() == self.domain and mailbox == BOUNCE_MAILBOX

    def delivery_id(self, address: str) -> int | None:
        """The delivery an address of ours names; None when it is not one, or its signature does not hold."""
        local, at, host = address.strip("<>").rpartition("@")
        match = _LOCAL.fullmatch(local.lower())
        if not at or host.lower() != self.domain or match is None:
            return None
        delivery_id = int(match.group(1), 36)
        if not hmac.compare_digest(self.signature(delivery_id), match.group(2)):
            return None
        return delivery_id

    def signature(self, delivery_id: int) -> str:
        """16 characters no one without the key can make for a delivery (also in its Message-ID, so that
        a report that names a message only by its Message-ID cannot be forged by guessing one)."""
        digest = hmac.new(self._key, str(delivery_id).encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:10]).decode().lower()
