"""Signed, expiring tokens for the links in mail: what they carry cannot be forged or changed."""

from __future__ import annotations

__all__ = ["LARGEST_ID", "ExpiredToken", "InvalidToken", "Tokens"]

from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

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

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        """One serializer per purpose, made once: a send signs a link for every recipient."""
        if purpose not in self._serializers:
            salt = f"outreach.{purpose}"
            self._serializers[purpose] = URLSafeTimedSerializer(self._secret.reveal(), salt=salt)
        return self._serializers[purpose]

    def sign(self, purpose: str, payload: Any) -> str:
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


def _fits_a_column(payload: Any) -> bool:
    """No number in a payload of ours is beyond a column's range: a database fails on one, not refuses."""
    if isinstance(payload, dict):
        return all(_fits_a_column(value) for value in payload.values())
    if isinstance(payload, list):
        return all(_fits_a_column(value) for value in payload)
    if isinstance(payload, int):
        return -LARGEST_ID - 1 <= payload <= LARGEST_ID
    return True
