"""A local stand-in for the ministry's open-data server, for the alert tests: real HTTP on 127.0.0.1.

It serves the fixtures in tests/fixtures/mofa with an ETag and a Last-Modified and answers a conditional
request for an unchanged file with 304, as a static web server does; `state` chooses the file that the feed's
URL serves now. It also serves what goes wrong: a malformed file, an XML bomb, an HTML maintenance page, an
HTTP 500, an answer that never comes (until the test ends), a huge file streamed in chunks, redirects.
Every request is recorded (path and headers), so a test can see what the client asked.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.web_server import WebServer

FIXTURES = Path(__file__).parent / "fixtures" / "mofa"
FEED_PATH = "/opendata/area/newarrivalA.xml"
HUGE_CHUNK = 64 * 1024
HUGE_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]


class FeedServer:
    """`with FeedServer() as server:` — `server.url()` is the feed, `server.url("/500")` a failure."""

    def __init__(self, state: str = "newarrival_1.xml") -> None:
        self.state = state
        self.requests: list[Seen] = []
        self._release = threading.Event()
        self._web = WebServer()
        self._stamps: dict[str, str] = {}

    def url(self, path: str = FEED_PATH) -> str:
        return f"{self._web.url}{path}"

    def __enter__(self) -> FeedServer:
        self._web.__enter__()
        self._web.serve(self._app())
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()  # a request that hangs is answered now, so the server can stop
        self._web.__exit__(*exc)

    def _app(self) -> Starlette:
        routes = [
            Route(FEED_PATH, self._feed),
            Route("/fixture/{name}", self._fixture),
            Route("/500", self._error),
            Route("/hang", self._hang),
            Route("/huge.xml", self._huge),
            Route("/redirect", lambda request: RedirectResponse(FEED_PATH, status_code=302)),
            Route("/loop", lambda request: RedirectResponse("/loop", status_code=302)),
        ]
        return Starlette(routes=routes)

    def _seen(self, request: Request) -> None:
        self.requests.append(Seen(request.url.path, dict(request.headers)))

    def _static(self, request: Request, name: str) -> Response:
        """A file as a static server sends it: validators, and 304 when the client's still match."""
        body = (FIXTURES / name).read_bytes()
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        stamp = self._stamps.setdefault(
            name, formatdate(1_790_000_000 + len(self._stamps) * 600, usegmt=True)
        )
        headers = {"ETag": etag, "Last-Modified": stamp}
        if request.headers.get("if-none-match") == etag or (
            "if-none-match" not in request.headers and request.headers.get("if-modified-since") == stamp
        ):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/xml", headers=headers)

    async def _feed(self, request: Request) -> Response:
        self._seen(request)
        return self._static(request, self.state)

    async def _fixture(self, request: Request) -> Response:
        self._seen(request)
        return self._static(request, request.path_params["name"])

    async def _error(self, request: Request) -> Response:
        self._seen(request)
        return Response("internal error", status_code=500)

    async def _hang(self, request: Request) -> Response:
        """Never answers while the test runs: it waits for the server to be stopped, not for a time."""
        self._seen(request)
        await anyio.to_thread.run_sync(self._release.wait)
        return Response("too late", status_code=200)

    async def _huge(self, request: Request) -> Response:
        """A file of HUGE_BYTES, streamed without a length: the client must stop reading it itself."""
        self._seen(request)

        async def chunks() -> AsyncIterator[bytes]:
            yield b'<?xml version="1.0" encoding="UTF-8"?>\n<opendata dataType="A">\n'
            for _ in range(HUGE_BYTES // HUGE_CHUNK):
                if self._release.is_set() or await request.is_disconnected():
                    return
                yield b" " * HUGE_CHUNK

        return StreamingResponse(chunks(), media_type="application/xml")
