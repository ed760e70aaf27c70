"""Optional DKIM signing (dkimpy) of each outgoing message with the key in OUTREACH_DKIM_KEY_FILE."""

from __future__ import annotations

__all__ = ["DkimSigner", "signed_headers"]

from collections import Counter

import dkim

from outreach.config import Settings
from outreach.errors import InvalidInput
from outreach.message import seven_bit

# Signed once more than the message has them (RFC 6376 section 8.15, "over-signing"): a relay or a forger
# can then add none of them, a second From or Subject, nor a Reply-To or Cc the message did not have.
_OVERSIGNED = (
    b"from",
    b"sender",
    b"reply-to",
    b"to",
    b"cc",
    b"subject",
    b"date",
    b"message-id",
    b"in-reply-to",
    b"references",
    b"mime-version",
    b"content-type",
    b"feedback-id",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"list-help",
    b"list-subscribe",
    b"list-post",
    b"list-owner",
    b"list-archive",
)


def signed_headers(message: bytes) -> list[bytes]:
    """Each header name to sign, listed once more than the message has it (so an absent one, once)."""
    head = message.partition(b"\r\n\r\n")[0]
    present = Counter(
        line.partition(b":")[0].strip().lower()
        for line in head.split(b"\r\n")
        if line and line[:1] not in (b" ", b"\t")
    )
    return [name for name in _OVERSIGNED for _ in range(present[name] + 1)]


class DkimSigner:
    """Signs with relaxed/relaxed canonicalization, covering List-Unsubscribe-Post as RFC 8058 asks.

    Every part is made 7bit before signing (see `outreach.message.seven_bit`), and the headers a reader
    trusts are over-signed (see `signed_headers`): the signature survives relays and breaks on tampering.
    """

    def __init__(self, *, selector: str, domain: str, private_key: bytes) -> None:
        self.selector = selector.encode("ascii")
        self.domain = domain.encode("ascii")
        self._key = private_key

    @classmethod
    def from_settings(cls, settings: Settings) -> DkimSigner | None:
        config = settings.delivery
        if config.dkim_selector is None and config.dkim_key_file is None:
            return None
        if config.dkim_selector is None or config.dkim_key_file is None:
            raise InvalidInput("DKIM needs both OUTREACH_DKIM_SELECTOR and OUTREACH_DKIM_KEY_FILE")
        try:
            key = config.dkim_key_file.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read the DKIM key {config.dkim_key_file}: {exc.strerror}") from None
        signer = cls(
            selector=config.dkim_selector, domain=settings.sender_address.rpartition("@")[2], private_key=key
        )
        signer.sign(
            b"From: check@example.jp\r\nSubject: key check\r\n\r\nkey check\r\n"
        )  # a bad key fails now
        return signer

    def sign(self, message: bytes) -> bytes:
        """The DKIM-Signature header and the message, its 8bit parts re-encoded as base64 first."""
        message = seven_bit(message)
        try:
            signature = dkim.sign(
                message,
                self.selector,
                self.domain,
                self._key,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=signed_headers(message),
                linesep=b"\r\n",
            )
        except dkim.DKIMException as exc:
            raise InvalidInput(f"DKIM signing failed: {exc}") from None
        return bytes(signature) + message
