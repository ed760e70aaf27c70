"""Signed, expiring tokens for the links in mail: what they carry cannot be forged or changed."""

from __future__ import annotations

__all__ = ["ExpiredToken", "InvalidToken", "Tokens"]

from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from outreach.config import Secret
from outreach.errors import InvalidInput


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
        return payload, signed_at.astimezone(UTC)
