"""CSRF protection for the forms: a signed double-submit token, made with itsdangerous.

A random key lives in an HttpOnly, SameSite=Lax cookie; each form carries that key signed with the secret key
and a timestamp. A POST is accepted only when the form's token is ours, is fresh, and names the cookie's key:
another site can neither read the cookie nor sign a token for it. It works without JavaScript.
"""

from __future__ import annotations

__all__ = ["CSRF_FIELD", "Csrf", "CsrfFailed"]

import hmac
import re
import secrets
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from outreach.config import Secret
from outreach.errors import InvalidInput

CSRF_FIELD = "csrf_token"
_KEY = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


class CsrfFailed(InvalidInput):
    """A form came back without a valid token for this browser."""


class Csrf:
    """Issues form tokens bound to a per-browser cookie, and checks them."""

    def __init__(self, secret: Secret, *, secure: bool, lifetime: timedelta = timedelta(days=1)) -> None:
        self._serializer = URLSafeTimedSerializer(secret.reveal(), salt="outreach.csrf")
        self._secure = secure
        self._lifetime = lifetime
        # __Host- cookies are sent only over HTTPS, only to this host, for every path: the strictest kind.
        self.cookie = "__Host-outreach_csrf" if secure else "outreach_csrf"

    def _key(self, request: Request) -> str | None:
        key = request.cookies.get(self.cookie)
        return key if key and _KEY.fullmatch(key) else None

    def issue(self, request: Request) -> tuple[str, str | None]:
        """A token for the forms of a page, and the new cookie key to set if the browser had none."""
        key = self._key(request)
        fresh = None if key else secrets.token_urlsafe(32)
        return str(self._serializer.dumps(key or fresh)), fresh

    def set_cookie(self, response: Response, key: str) -> None:
        response.set_cookie(self.cookie, key, httponly=True, secure=self._secure, samesite="lax", path="/")

    def check(self, request: Request, form: FormData) -> None:
        key = self._key(request)
        submitted = form.get(CSRF_FIELD)
        if key is None or not isinstance(submitted, str) or len(submitted) > 200:
            raise CsrfFailed("the form has no valid CSRF token")
        try:
            signed = self._serializer.loads(submitted, max_age=int(self._lifetime.total_seconds()))
        except BadSignature:
            raise CsrfFailed("the form's CSRF token is not valid or has expired") from None
        if not isinstance(signed, str) or not hmac.compare_digest(signed, key):
            raise CsrfFailed("the form's CSRF token is for another browser")
