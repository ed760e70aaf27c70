"""VERP and Message-IDs: what names a delivery outside, keyed so that nobody can count, guess or forge it.

The envelope sender is `bounces+<code>.<mac>@<bounce domain>`: `<code>` is the delivery's id through a keyed
permutation of 64-bit numbers (a four-round Feistel network on HMAC-SHA256), so consecutive deliveries look
unrelated and reveal nothing of the list's size, and `<mac>` is 16 characters of an HMAC of the id. Both are
base 32 in lower case (mail servers may change the case of a local part), 38 characters in all, far below
RFC 5321's 64. A bounce that comes back to a forged or altered address names no delivery.

A message's Message-ID is a keyed hash of its delivery and the issue's creation time: the same on every resend
of that delivery (so a reader's mail client can drop a second copy), different after a database reset or in
another installation (Gmail drops a message whose Message-ID it has seen), and not countable either. Reports
that name a message only by its Message-ID find it through the ledger, where it is stored.

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
_LOCAL = re.compile(rf"{BOUNCE_MAILBOX}\+([a-z2-7]{{13}})\.([a-z2-7]{{16}})")
_HALF = 32
_MASK = (1 << _HALF) - 1
_ROUNDS = 4


def _base32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


class Verp:
    """Makes and reads the envelope senders of one bounce domain, and the Message-IDs of deliveries."""

    def __init__(self, secret: Secret, domain: str) -> None:
        self._key = hashlib.sha256(_SALT + secret.reveal().encode()).digest()
        self.domain = domain.lower()

    def address(self, delivery_id: int) -> str:
        """The envelope sender of a delivery's message."""
        return f"{BOUNCE_MAILBOX}+{self._code(delivery_id)}.{self.signature(delivery_id)}@{self.domain}"

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
        delivery_id = self._decode(match.group(1))
        if delivery_id is None or self._code(delivery_id) != match.group(1):  # one spelling per id
            return None
        if not hmac.compare_digest(self.signature(delivery_id), match.group(2)):
            return None
        return delivery_id

    def message_id(self, delivery_id: int, issue_created: str, domain: str) -> str:
        """The Message-ID of a delivery's message; `issue_created` tells installations and resets apart."""
        digest = self._hmac(f"message:{delivery_id}:{issue_created}".encode())
        return f"<{_base32(digest[:15])}@{domain}>"

    def signature(self, delivery_id: int) -> str:
        """16 characters no one without the key can make for a delivery."""
        return _base32(self._hmac(str(delivery_id).encode())[:10])

    def _hmac(self, data: bytes) -> bytes:
        return hmac.new(self._key, data, hashlib.sha256).digest()

    def _round(self, index: int, half: int) -> int:
        digest = self._hmac(b"round" + bytes([index]) + half.to_bytes(4, "big"))
        return int.from_bytes(digest[:4], "big")

    def _code(self, delivery_id: int) -> str:
        """The id through the keyed permutation, as 13 base 32 characters."""
        left, right = delivery_id >> _HALF & _MASK, delivery_id & _MASK
        for index in range(_ROUNDS):
            left, right = right, left ^ self._round(index, right)
        return _base32((left << _HALF | right).to_bytes(8, "big"))

    def _decode(self, code: str) -> int | None:
        try:
            number = int.from_bytes(base64.b32decode(code.upper() + "===", casefold=False), "big")
        except ValueError:
            return None
        if number >> 2 * _HALF:
            return None
        left, right = number >> _HALF, number & _MASK
        for index in reversed(range(_ROUNDS)):
            left, right = right ^ self._round(index, left), left
        return left << _HALF | right
