"""Signed, expiring tokens for the links in mail: what they carry cannot be forged or changed."""

from __future__ import annotations

__all__ = ["ExpiredToken", "InvalidToken", "Tokens"]

from datetime import timedelta
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

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._secret.reveal(), salt=f"outreach.{purpose}")

    def sign(self, purpose: str, payload: Any) -> str:
        return str(self._serializer(purpose).dumps(payload))

    def verify(self, purpose: str, token: str, *, max_age: timedelta) -> Any:
        try:
            return self._serializer(purpose).loads(token, max_age=int(max_age.total_seconds()))
        except SignatureExpired as exc:
            raise ExpiredToken("this link has expired") from exc
        except BadSignature as exc:
            raise InvalidToken("this link is not valid") from exc
