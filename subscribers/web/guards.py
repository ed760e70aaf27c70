"""Guards around every request: a cap on the body's size, and the security headers of every response."""

from __future__ import annotations

__all__ = ["BodyLimit", "SecurityHeaders"]

import re

from starlette.datastructures import MutableHeaders
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Both may run their own script files, never inline ones: progressive enhancement only (the country picker's
# filter, the console's previews); every page works without them.
_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; script-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_CONSOLE_POLICY = _POLICY + "; connect-src 'self'"
_CONSOLE_PREFIXES = ("/admin/", "/en/admin/")
_HEADERS = {
    "Content-Security-Policy": _POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # The pages' URLs hold personal tokens: never pass them on to another site.
    "Referrer-Policy": "no-referrer",
}


# The answer when even our own error page failed: still ours, still with the headers, in both languages.
_LAST_RESORT = (
    '<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8"><title>エラー / Error</title></head>'
    '<body><h1>システムでエラーが起きました</h1><p lang="en">Something went wrong on our side.</p>'
    "<p>しばらく時間をおいてから、もう一度お試しください。 / Please try again later.</p></body></html>\n"
)


class SecurityHeaders:
    """No scripts (the console: only its own), no framing, no referrer; and, unless a page says otherwise, no
    caching.

    Put it outermost: an exception that escapes the app still gets a 500 page with these headers, and goes on
    to the server, which logs it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in _HEADERS.items():
                    headers[name] = value
                if scope["path"].startswith(_CONSOLE_PREFIXES):
                    headers["Content-Security-Policy"] = _CONSOLE_POLICY
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:  # else the page went out already; the server closes the connection
                await HTMLResponse(_LAST_RESORT, status_code=500)(scope, receive, send_with_headers)
            raise


# A refused body up to this size is read to its end before the 413: a connection closed on unread data
# is reset, and a reset can throw away the answer before the client reads it.
_DRAIN_BYTES = 1024 * 1024


def _declared_length(scope: Scope) -> int | None:
    """The body's Content-Length (0 when none is sent: chunked or empty); None when it is no length."""
    declared = dict(scope["headers"]).get(b"content-length", b"0")
    return int(declared) if declared.isdigit() and len(declared) <= 18 else None


class BodyLimit:
    """Read at most `max_bytes` of a body before the app sees it (`wider`: more for the paths a pattern
    matches from their start, the first that matches); more gets the `reject` answer (413)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        reject: ASGIApp,
        wider: tuple[tuple[re.Pattern[str], int], ...] = (),
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.reject = reject
        self.wider = wider

    def _limit(self, path: str) -> int:
        return next((limit for pattern, limit in self.wider if pattern.match(path)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        max_bytes = self._limit(scope["path"])
        declared = _declared_length(scope)
        if declared is None or declared > max_bytes:
            drain = declared is not None and declared <= _DRAIN_BYTES
            await self._refuse(scope, receive, send, drain=drain)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # the client went away; let the app see that
            size += len(message.get("body", b""))
            if size > max_bytes:
                await self._refuse(scope, receive, send, drain=message.get("more_body", False))
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, *, drain: bool) -> None:
        read = 0
        while drain and read <= _DRAIN_BYTES:
            message = await receive()
            read += len(message.get("body", b""))
            drain = message["type"] == "http.request" and message.get("more_body", False)
        await self.reject(scope, receive, send)
