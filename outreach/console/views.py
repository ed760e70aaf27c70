"""The console's pages rendered with the same Jinja2 environment as the public pages (templates/admin)."""

from __future__ import annotations

__all__ = ["ConsoleViews", "NavLink", "jst"]

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from outreach.calendar import JST
from outreach.console.paths import base_of, language_of, other_language_url
from outreach.console.protocols import FormTokens
from outreach.network import NETWORK_SLUG
from outreach.render import Renderer
from outreach.staff.roles import Permission, allows
from outreach.staff.users import StaffView

# The top bar's links, in order: (the permission a page needs, its path under the console's base, the name the
# template gives its label by).
_PAGES = (
    (Permission.DASHBOARD, "/", "dashboard"),
    (Permission.CONTENT, "/meetings", "content"),
    (Permission.ORGANIZATION, "/organizations", "organization"),
    (Permission.DASHBOARD, "/reach", "reach"),
    (Permission.DASHBOARD, "/alerts", "alerts"),
    (Permission.AUDIT_LOG, "/audit", "audit-log"),
)


@dataclass(frozen=True)
class NavLink:
    page: str  # the template gives it its label by this name
    url: str
    current: bool


def jst(moment: datetime | None) -> str:
    """`2026-12-01 09:30`: a moment in Japan time, as the console shows it (its pages say JST)."""
    return f"{moment.astimezone(JST):%Y-%m-%d %H:%M}" if moment is not None else ""


def _nav(user: StaffView | None, base: str, path: str) -> list[NavLink]:
    if user is None:
        return []
    return [
        NavLink(name, base + suffix, path == base + suffix)
        for permission, suffix, name in _PAGES
        if allows(user.role, permission)
    ]


class ConsoleViews:
    """Renders an admin page with what every page shows: the top bar, the language switch, a CSRF token."""

    def __init__(self, renderer: Renderer, tokens: FormTokens, *, csrf_field: str) -> None:
        self._renderer = renderer
        self._tokens = tokens
        self._csrf_field = csrf_field

    def page(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        user: StaffView | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        path = request.url.path
        language = language_of(path)
        base = base_of(path)
        token, fresh_key = self._tokens.issue(request)
        values = {
            **(context or {}),
            "lang": language,
            "base": base,
            "other_language_url": other_language_url(path, request.url.query),
            "user": user,
            "nav": _nav(user, base, path),
            "csrf_field": self._csrf_field,
            "csrf_token": token,
        }
        environment = self._renderer.environment(NETWORK_SLUG, language)
        response = HTMLResponse(environment.get_template(template).render(values), status_code=status)
        if fresh_key:
            self._tokens.set_cookie(response, fresh_key)
        return response

    def refusal(
        self, request: Request, reason: str, *, user: StaffView | None, status: int = 403
    ) -> HTMLResponse:
        """The page for a refused request: `forbidden` (the role may not) or `csrf` (no valid form token)."""
        return self.page(request, "admin/error.html", {"reason": reason}, user=user, status=status)
