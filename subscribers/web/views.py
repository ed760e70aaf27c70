"""Pages in Japanese (at /) or English (at /en/): the templates of templates/web, rendered for a request."""

from __future__ import annotations

__all__ = ["Views", "language_of", "prefix_of"]

from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from outreach.network import NETWORK_SLUG
from outreach.render import Renderer
from subscribers.settings import SubscriptionSettings
from subscribers.web.csrf import CSRF_FIELD, Csrf

_REASON_BY_STATUS = {400: "bad_request", 404: "not_found", 405: "method", 413: "too_large"}


def language_of(path: str) -> str:
    return "en" if path == "/en" or path.startswith("/en/") else "ja"


def prefix_of(language: str) -> str:
    return "" if language == "ja" else f"/{language}"


def _other_language_url(path: str) -> str:
    if language_of(path) == "en":
        return path[3:] or "/"
    return f"/en{path}"


class Views:
    """Renders a page with what every page shows: language switch, sender, CSRF token for its forms."""

    def __init__(self, renderer: Renderer, csrf: Csrf, *, options: SubscriptionSettings) -> None:
        self._renderer = renderer
        self._csrf = csrf
        self._common = {
            "csrf_field": CSRF_FIELD,
            "subscribe_address": options.subscribe_address,
            "unsubscribe_address": options.unsubscribe_address,
            "pending_days": options.pending_lifetime.days,
        }

    def page(
        self, request: Request, template: str, context: Mapping[str, Any] | None = None, *, status: int = 200
    ) -> HTMLResponse:
        path = request.url.path
        language = language_of(path)
        token, fresh_key = self._csrf.issue(request)
        values = {
            **self._common,
            **(context or {}),
            "lang": language,
            "prefix": prefix_of(language),
            "other_language_url": _other_language_url(path),
            "sender": self._renderer.sender[language],
            "csrf_token": token,
        }
        html = self._renderer.environment(NETWORK_SLUG, language).get_template(template).render(values)
        response = HTMLResponse(html, status_code=status)
        if fresh_key:
            self._csrf.set_cookie(response, fresh_key)
        return response

    def error(
        self, request: Request, status: int, reason: str, *, headers: Mapping[str, str] | None = None
    ) -> HTMLResponse:
        response = self.page(request, "web/error.html", {"reason": reason, "status": status}, status=status)
        response.headers.update(headers or {})
        return response

    async def http_error(self, request: Request, exc: Exception) -> Response:
        """Starlette's own refusals (no such page, wrong method, a form it cannot parse) as our error page."""
        assert isinstance(exc, HTTPException)
        reason = _REASON_BY_STATUS.get(exc.status_code, "bad_request")
        return self.error(request, exc.status_code, reason, headers=exc.headers)

    async def server_error(self, request: Request, exc: Exception) -> Response:
        return self.error(request, 500, "server")

    def asgi_error(self, status: int, reason: str) -> _ErrorApp:
        return _ErrorApp(self, status, reason)


class _ErrorApp:
    """An error page as an ASGI app, for the guards that answer before routing."""

    def __init__(self, views: Views, status: int, reason: str) -> None:
        self._views, self._status, self._reason = views, status, reason

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = self._views.error(
            Request(scope), self._status, self._reason, headers={"Connection": "close"}
        )
        await response(scope, receive, send)
