"""The one place the console checks who may do what: login, role, CSRF, in that order, before any handler.

Anonymous -> 303 to the login page (with `next`, a local path); a role without the permission -> 403; a POST
without a valid CSRF token -> 403. A refused request changes nothing: the session's idle clock is reset only
once the request is allowed.
"""

from __future__ import annotations

__all__ = ["Allowed", "Guard", "Handler", "client_ip", "takes_a_file"]

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from outreach.console.cookies import SessionCookie
from outreach.console.forms import read_form
from outreach.console.paths import base_of, login_url, safe_next
from outreach.console.protocols import FormTokens
from outreach.console.views import ConsoleViews
from outreach.db import Database
from outreach.errors import InvalidInput
from outreach.staff import login
from outreach.staff.login import Visit
from outreach.staff.roles import Permission, allows
from outreach.staff.settings import StaffSettings

T = TypeVar("T")
# The console's forms as the guard reads them: the composer's checkboxes (meetings, promotions) and whole
# texts (a lead, a summary in Markdown); the body itself is capped by the web app (CONSOLE_BODY_BYTES).
_MAX_FIELDS = 400
_MAX_PART_BYTES = 256 * 1024


def client_ip(request: Request) -> str | None:
    """The browser's address, for the audit log. Behind a reverse proxy uvicorn puts the forwarded address
    here (--forwarded-allow-ips)."""
    return request.client.host if request.client else None


@dataclass(frozen=True)
class Allowed:
    """An allowed request: who sent it, their session's id (for logout) and, for a POST, the checked form."""

    visit: Visit
    session_id: str
    form: FormData | None


Handler = Callable[[Request, Allowed], Awaitable[Response]]


AnyHandler = TypeVar("AnyHandler", bound=Callable[..., Awaitable[Response]])


def takes_a_file(handler: AnyHandler) -> AnyHandler:
    """Mark a POST handler (a method too) whose form carries one uploaded file (a roster): the guard lets that
    one through; every other form with a file is refused (400)."""
    handler.takes_a_file = True  # type: ignore[attr-defined]
    return handler


Endpoint = Callable[[Request], Awaitable[Response]]


class Guard:
    def __init__(
        self,
        db: Database,
        settings: StaffSettings,
        views: ConsoleViews,
        tokens: FormTokens,
        cookie: SessionCookie,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.settings = settings
        self.views = views
        self.tokens = tokens
        self.cookie = cookie
        self.clock = clock

    async def run(self, work: Callable[[Session], T]) -> T:
        """Database work in one transaction, in a worker thread (password hashing is slow on purpose)."""
        return await asyncio.to_thread(self._run_now, work)

    def _run_now(self, work: Callable[[Session], T]) -> T:
        with self.db.session() as session:
            return work(session)

    async def visitor(self, request: Request) -> tuple[Visit, str] | None:
        """Who is logged in on this browser, and their session's id; None for nobody."""
        session_id = self.cookie.read(request)
        if session_id is None:
            return None
        now = self.clock()
        found = await self.run(
            lambda session: login.visit(session, session_id, now=now, settings=self.settings)
        )
        return (found, session_id) if found is not None else None

    def form_is_ours(self, request: Request, form: FormData) -> bool:
        try:
            self.tokens.check(request, form)
        except InvalidInput:
            return False
        return True

    def protect(self, handler: Handler, permission: Permission | None) -> Endpoint:
        """`handler` behind the login, the permission (None: any logged-in user) and, for a POST, CSRF."""

        async def guarded(request: Request) -> Response:
            found = await self.visitor(request)
            if found is None:
                return self._to_login(request)
            visit, session_id = found
            if permission is not None and not allows(visit.user.role, permission):
                return self.views.refusal(request, "forbidden", user=visit.user)
            form = None
            if request.method == "POST":
                files = 1 if getattr(handler, "takes_a_file", False) else 0
                form = await read_form(
                    request, max_fields=_MAX_FIELDS, max_part_size=_MAX_PART_BYTES, max_files=files
                )
                if form is None:
                    return self.views.refusal(request, "bad_request", user=visit.user, status=400)
                if not self.form_is_ours(request, form):
                    return self.views.refusal(request, "csrf", user=visit.user)
            now = self.clock()
            await self.run(lambda session: login.note_activity(session, visit, now=now))
            return await handler(request, Allowed(visit, session_id, form))

        return guarded

    def _to_login(self, request: Request) -> RedirectResponse:
        url = request.url
        here = url.path + (f"?{url.query}" if url.query else "")
        next_page = safe_next(here) if request.method in ("GET", "HEAD") else None
        return RedirectResponse(login_url(base_of(url.path), next_page), status_code=303)
