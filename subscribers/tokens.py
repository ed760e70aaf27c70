"""Signed, expiring tokens for the links in mail: what they carry cannot be forged or changed."""

from __future__ import annotations

__all__ = ["LARGEST_ID", "ExpiredToken", "InvalidToken", "Tokens"]

import hmac
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, int_to_bytes, want_bytes

from outreach.config import Secret
from outreach.errors import InvalidInput

# The largest value of the schema's INTEGER columns (ids, issue numbers) on PostgreSQL; SQLite stops at 2**63.
LARGEST_ID = 2**31 - 1


class InvalidToken(InvalidInput):
    """A token that was not made by us, was changed, or is for another purpose."""


class ExpiredToken(InvalidToken):
    """A token of ours that is past its lifetime."""


class Tokens:
    """Signs payloads per purpose (a different salt each), and checks them with a maximum age."""

    def __init__(self, secret: Secret) -> None:
        self._secret = secret
        self._serializers: dict[str, URLSafeTimedSerializer] = {}
        self._number_signers: dict[str, _NumberSigner] = {}

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        """One serializer per purpose, made once: a send signs a link for every recipient."""
        if purpose not in self._serializers:
            salt = f"outreach.{purpose}"
            self._serializers[purpose] = URLSafeTimedSerializer(self._secret.reveal(), salt=salt)
        return self._serializers[purpose]

    def sign(self, purpose: str, payload: Any) -> str:
        if type(payload) is int and len(str(payload)) <= _NEVER_COMPRESSED:  # a subscriber's id, each message
            if purpose not in self._number_signers:
                self._number_signers[purpose] = _NumberSigner(self._serializer(purpose))
            return self._number_signers[purpose].sign(payload)
        return str(self._serializer(purpose).dumps(payload))

    def verify(self, purpose: str, token: str, *, max_age: timedelta) -> Any:
        return self.verify_issued(purpose, token, max_age=max_age)[0]

    def verify_issued(self, purpose: str, token: str, *, max_age: timedelta) -> tuple[Any, datetime]:
        """The payload and when the token was signed, so that a newer change can outrank an older link."""
        try:
            payload, signed_at = self._serializer(purpose).loads(
                token, max_age=int(max_age.total_seconds()), return_timestamp=True
            )
        except SignatureExpired as exc:
            raise ExpiredToken("this link has expired") from exc
        except BadSignature as exc:
            raise InvalidToken("this link is not valid") from exc
        if not _fits_a_column(payload):
            raise InvalidToken("this link is not valid")
        return payload, signed_at.astimezone(UTC)


# itsdangerous compresses a payload's JSON when that saves more than a byte; zlib's output takes 8 bytes at
# least (header, an empty block, checksum), so a JSON of 9 characters or fewer (a number to 999,999,999)
# never is, and its payload is its digits in base64.
_NEVER_COMPRESSED = 9


class _NumberSigner:
    """Makes the very token itsdangerous makes for a number, at a fraction of the cost: the key derived once
    (itsdangerous derives it for every token), one HMAC call in C, the time part made once a second."""

    def __init__(self, serializer: URLSafeTimedSerializer) -> None:
        signer = serializer.make_signer()
        self._key = signer.derive_key()
        self._digest: str = signer.digest_method().name
        self._separator = want_bytes(signer.sep)
        self._second = -1
        self._stamp = b""

    def sign(self, number: int) -> str:
        now = int(time.time())
        if now != self._second:
            self._second, self._stamp = now, self._separator + base64_encode(int_to_bytes(now))
        value = base64_encode(str(number).encode("ascii")) + self._stamp
        signature = base64_encode(hmac.digest(self._key, value, self._digest))
        return (value + self._separator + signature).decode("ascii")


def _fits_a_column(payload: Any) -> bool:
    """No number in a payload of ours is beyond a column's range: a database fails on one, not refuses."""
    if isinstance(payload, dict):
        return all(_fits_a_column(value) for value in payload.values())
    if isinstance(payload, list):
        return all(_fits_a_column(value) for value in payload)
    if isinstance(payload, int):
        return -LARGEST_ID - 1 <= payload <= LARGEST_ID
    return True
