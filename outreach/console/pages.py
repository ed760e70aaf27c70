"""The console's pages: login, logout, the dashboard, the audit log, an org-editor's placeholder, and the
issue pages (outreach.console.issues: an issue, its approval and its send).

Each page exists at /admin/… in Japanese and at /en/admin/… in English. Every page but the login is behind
outreach.console.guard, which checks the login, the role and the CSRF token before the handler runs.
"""

from __future__ import annotations

__all__ = ["Console"]

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from outreach.config import Settings
from outreach.console import queries
from outreach.console.alerts import AlertPages
from outreach.console.composer import ComposerPages
from outreach.console.content import ContentPages
from outreach.console.cookies import SessionCookie
from outreach.console.delivery import DeliveryPages
from outreach.console.forms import LoginFields, read_form, read_login
from outreach.console.forward import ForwardKitPages
from outreach.console.guard import Allowed, Guard, Handler, client_ip
from outreach.console.issues import IssuePages
from outreach.console.kit import Kit, PageGroup
from outreach.console.organizations import OrganizationPages
from outreach.console.orgreach import ReachPages
from outreach.console.paths import BASES, base_of, language_of, safe_next
from outreach.console.preview import PreviewPages
from outreach.console.protocols import FormTokens
from outreach.console.rosters import RosterPages
from outreach.console.views import ConsoleViews, jst
from outreach.db import Database
from outreach.links import PersonalLinks
from outreach.models import utcnow
from outreach.render import Renderer
from outreach.staff import audit, login
from outreach.staff.roles import Permission, allows, home_permission
from outreach.staff.settings import StaffSettings
from outreach.staff.users import StaffView

_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,5}")


def _home(request: Request, user: StaffView) -> str:
    """The dashboard; for an org-editor, their organization's page."""
    if home_permission(user.role) is Permission.ORGANIZATION and user.organization is not None:
        return f"{base_of(request.url.path)}/organizations/{user.organization}"
    return base_of(request.url.path) + "/"


def _page_number(request: Request) -> int:
    given = request.query_params.get("page", "1")
    return int(given) if _PAGE_NUMBER.fullmatch(given) else 1


class Console:
    """The console's routes, for the web app to mount; the composition root hands over the CSRF tokens."""

    def __init__(
        self,
        db: Database,
        renderer: Renderer,
        tokens: FormTokens,
        *,
        csrf_field: str,
        settings: StaffSettings,
        site: Settings,
        links: PersonalLinks,
        secure: bool,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.views = ConsoleViews(renderer, tokens, csrf_field=csrf_field)
        self.cookie = SessionCookie(secure=secure)
        self.guard = Guard(db, settings, self.views, tokens, self.cookie, clock)
        self.settings = settings
        self.clock = clock
        self.issues = IssuePages(self.guard, self.views, settings, clock)
        kit = Kit(self.guard, self.views, settings, site, renderer, links, clock)
        self.groups: list[PageGroup] = [
            self.issues,
            ContentPages(kit),
            ComposerPages(kit),
            PreviewPages(kit),
            DeliveryPages(kit),
            OrganizationPages(kit),
            RosterPages(kit),
            ForwardKitPages(kit),
            ReachPages(kit),
            AlertPages(kit),
        ]

    def routes(self) -> list[BaseRoute]:
        """A mount per language: /admin (Japanese) and /en/admin (English)."""
        guarded: list[tuple[str, Handler, str, Permission | None]] = [
            ("/", self.dashboard, "GET", Permission.DASHBOARD),
            ("/audit", self.audit_log, "GET", Permission.AUDIT_LOG),
            ("/logout", self.logout, "POST", None),
        ]
        for group in self.groups:
            guarded.extend(group.routes())
        pages: list[BaseRoute] = [
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
        ]
        for path, handler, method, permission in guarded:
            pages.append(Route(path, self.guard.protect(handler, permission), methods=[method]))
        return [Mount(base, routes=pages) for base in BASES.values()]

    # Logging in and out

    def _login_page(
        self, request: Request, fields: LoginFields | None, *, failed: bool = False, status: int = 200
    ) -> Response:
        context = {
            "email": fields.email if fields else "",
            "next_page": (fields.next_page if fields else safe_next(request.query_params.get("next"))) or "",
            "failed": failed,
            "logged_out": request.query_params.get("logged_out") == "1",
            "lockout_failures": self.settings.lockout_failures,
            "lockout_minutes": int(self.settings.lockout.total_seconds() // 60),
        }
        return self.views.page(request, "admin/login.html", context, status=status)

    async def login_form(self, request: Request) -> Response:
        found = await self.guard.visitor(request)
        if found is not None:
            next_page = safe_next(request.query_params.get("next"))
            return RedirectResponse(next_page or _home(request, found[0].user), status_code=303)
        return self._login_page(request, None)

    async def login(self, request: Request) -> Response:
        form = await read_form(request)
        if form is None:
            return self.views.refusal(request, "bad_request", user=None, status=400)
        if not self.guard.form_is_ours(request, form):
            return self.views.refusal(request, "csrf", user=None)
        fields = read_login(form)
        replacing = self.cookie.read(request)
        now, ip = self.clock(), client_ip(request)
        done = await self.guard.run(
            lambda session: login.log_in(
                session,
                fields.email,
                fields.password,
                fields.code,
                ip=ip,
                now=now,
                settings=self.settings,
                replacing=replacing,
            )
        )
        if done is None:
            return self._login_page(request, fields, failed=True, status=400)
        response = RedirectResponse(fields.next_page or _home(request, done.user), status_code=303)
        self.cookie.set(response, done.session_id)
        return response

    async def logout(self, request: Request, allowed: Allowed) -> Response:
        now, ip = self.clock(), client_ip(request)
        await self.guard.run(
            lambda session: login.log_out(session, allowed.session_id, allowed.visit, ip=ip, now=now)
        )
        response = RedirectResponse(f"{base_of(request.url.path)}/login?logged_out=1", status_code=303)
        self.cookie.clear(response)
        return response

    # The pages

    async def dashboard(self, request: Request, allowed: Allowed) -> Response:
        rows = await self.guard.run(queries.issue_rows)
        language = language_of(request.url.path)
        issues = [
            {
                "number": row.number,
                "date": row.issue_date,
                "subject": row.subject(language),
                "status": row.status.value,
                "recipients": row.recipients,
                "kind": row.kind,
            }
            for row in rows
        ]
        user = allowed.visit.user
        deleted = request.query_params.get("deleted", "")
        context = {
            "issues": issues,
            "may_compose": allows(user.role, Permission.COMPOSE),
            "deleted": int(deleted) if _PAGE_NUMBER.fullmatch(deleted) else None,
        }
        return self.views.page(request, "admin/dashboard.html", context, user=user)

    async def audit_log(self, request: Request, allowed: Allowed) -> Response:
        actor = request.query_params.get("actor", "")
        page = _page_number(request)
        found = await self.guard.run(lambda session: audit.read_page(session, page=page, actor=actor))
        entries = [_entry(entry) for entry in found.entries]
        context = {"log": found, "entries": entries}
        return self.views.page(request, "admin/audit.html", context, user=allowed.visit.user)


def _entry(entry: audit.AuditEntry) -> dict[str, Any]:
    return {
        "when": jst(entry.occurred_at),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target or "",
        "detail": entry.detail or "",
        "ip": entry.ip or "",
    }
