"""Optional DKIM signing (dkimpy) of each outgoing message with the key in OUTREACH_DKIM_KEY_FILE."""

from __future__ import annotations

__all__ = ["DkimSigner"]

import dkim

from outreach.config import Settings
from outreach.errors import InvalidInput

_SIGNED_HEADERS = [
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
]


class DkimSigner:
    """Signs with relaxed/relaxed canonicalization, covering List-Unsubscribe-Post as RFC 8058 asks."""

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
        try:
            signature = dkim.sign(
                message,
                self.selector,
                self.domain,
                self._key,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=_SIGNED_HEADERS,
                linesep=b"\r\n",
            )
        except dkim.DKIMException as exc:
            raise InvalidInput(f"DKIM signing failed: {exc}") from None
        return bytes(signature) + message
