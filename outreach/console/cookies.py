"""The console's session cookie: HttpOnly, SameSite=Strict, and under https Secure with the __Host- prefix."""

from __future__ import annotations

__all__ = ["SessionCookie"]

from starlette.requests import Request
from starlette.responses import Response

_MAX_VALUE = 100


class SessionCookie:
    """Carries the session's random id; the server keeps only its digest (outreach.staff.sessions)."""

    def __init__(self, *, secure: bool) -> None:
        self._secure = secure
        # __Host-: sent only over https, only to this host, for every path; no subdomain can set it.
        self.name = "__Host-outreach_console" if secure else "outreach_console"

    def read(self, request: Request) -> str | None:
        value = request.cookies.get(self.name)
        return value if value and len(value) <= _MAX_VALUE else None

    def set(self, response: Response, session_id: str) -> None:
        # No Max-Age: the browser forgets it when it closes; the server ends it sooner (lifetime, idle).
        response.set_cookie(
            self.name, session_id, httponly=True, secure=self._secure, samesite="strict", path="/"
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(self.name, httponly=True, secure=self._secure, samesite="strict", path="/")
