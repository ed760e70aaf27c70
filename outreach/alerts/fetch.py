"""Fetching the feed: over HTTP(S) with a total time-out, a conditional request and a size cap, or a file.

The ministry refreshes its files about every five minutes and a poller asks as often, so each request carries
the validators (ETag, Last-Modified) of the last poll that read the file: an unchanged file costs a 304 and no
body. The size cap is enforced while the body streams in (and before, from Content-Length), so a huge or
endless answer is refused before it is held in memory; the time-out covers the whole exchange, not each read.
"""

from __future__ import annotations

__all__ = ["Fetched", "Validators", "fetch_feed", "is_url"]

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from outreach.alerts.errors import FeedUnavailable

MAX_REDIRECTS = 3
USER_AGENT = "outreach/0.1 (SME Overseas Safety Network mail; polls the overseas-safety open data)"


@dataclass(frozen=True)
class Validators:
    """What the last good read of a URL returned, sent back to ask whether the file changed since."""

    etag: str = ""
    last_modified: str = ""

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers

    def __bool__(self) -> bool:
        return bool(self.etag or self.last_modified)


@dataclass(frozen=True)
class Fetched:
    """A fetched feed: its body, or None when the server said it has not changed (304)."""

    source: str
    status: int | None  # None for a file
    body: bytes | None
    validators: Validators

    @property
    def unchanged(self) -> bool:
        return self.body is None


def is_url(source: str) -> bool:
    return urlsplit(source).scheme in ("http", "https")


async def fetch_feed(
    source: str,
    *,
    validators: Validators,
    timeout: float,
    max_bytes: int,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Fetched:
    """Fetch `source` (an http(s) URL, a file:// URL or a path); FeedUnavailable says in one line why not."""
    if not is_url(source):
        return _read_file(source, max_bytes)
    try:
        async with asyncio.timeout(timeout):
            return await _get(source, validators, timeout, max_bytes, transport)
    except TimeoutError:
        raise FeedUnavailable(source, f"no complete answer within {timeout:g} s") from None
    except httpx.TooManyRedirects:
        raise FeedUnavailable(source, f"more than {MAX_REDIRECTS} redirects") from None
    except httpx.HTTPError as error:
        raise FeedUnavailable(source, f"{type(error).__name__}: {error or 'the request failed'}") from None


async def _get(
    url: str,
    validators: Validators,
    timeout: float,
    max_bytes: int,
    transport: httpx.AsyncBaseTransport | None,
) -> Fetched:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/xml, text/xml;q=0.9, */*;q=0.1"}
    async with (
        httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            transport=transport,
            trust_env=False,
        ) as client,
        client.stream("GET", url, headers=headers | validators.headers()) as response,
    ):
        answered = Validators(response.headers.get("ETag", ""), response.headers.get("Last-Modified", ""))
        if response.status_code == httpx.codes.NOT_MODIFIED:
            return Fetched(url, response.status_code, None, answered or validators)
        if response.status_code != httpx.codes.OK:
            reason = response.reason_phrase or "no reason given"
            raise FeedUnavailable(url, f"HTTP {response.status_code} {reason}", status=response.status_code)
        body = await _bounded(url, response, max_bytes)
        return Fetched(url, response.status_code, body, answered)


async def _bounded(url: str, response: httpx.Response, max_bytes: int) -> bytes:
    """The body, refused as soon as it is known to exceed `max_bytes` (announced, or counted while read)."""
    announced = response.headers.get("Content-Length", "")
    if announced.isdigit() and int(announced) > max_bytes:
        raise FeedUnavailable(
            url, _too_large(max_bytes, f"it announces {int(announced):,} bytes"), status=200
        )
    chunks: list[bytes] = []
    received = 0
    async for chunk in response.aiter_bytes():
        received += len(chunk)
        if received > max_bytes:
            raise FeedUnavailable(url, _too_large(max_bytes, "refused while it streamed in"), status=200)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(max_bytes: int, how: str) -> str:
    return f"larger than OUTREACH_ALERTS_MAX_BYTES ({max_bytes:,} bytes): {how}"


def _read_file(source: str, max_bytes: int) -> Fetched:
    """A local copy of the feed (`--feed FILE`); it has no validators, and the store ignores what it knows."""
    path = Path(urlsplit(source).path if source.startswith("file://") else source)
    try:
        with path.open("rb") as file:
            body = file.read(max_bytes + 1)
    except OSError as error:
        raise FeedUnavailable(source, f"cannot read the file: {error.strerror or error}") from None
    if len(body) > max_bytes:
        raise FeedUnavailable(source, _too_large(max_bytes, "the file is larger"))
    stamp = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(path.stat().st_mtime))
    return Fetched(source, None, body, Validators(last_modified=stamp))
