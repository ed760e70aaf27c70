"""What the browser tests share: Debian's Chromium and its flags, the mark that skips them without it, the
rate limits of a site they drive, and the console's users and runs.

The `browser` fixture that launches it, and `console_run`, are in tests/conftest.py.
"""

from __future__ import annotations

__all__ = [
    "CHROMIUM",
    "FLAGS",
    "OPTIONS",
    "ConsoleRun",
    "add_staff",
    "as_user",
    "log_in",
    "needs_chromium",
    "resident_worker",
]

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page

from outreach.config import Settings
from outreach.db import Database
from outreach.models import utcnow
from outreach.staff import users
from outreach.staff.models import StaffRole
from outreach.staff.users import NewUser
from outreach.usecases.sends import make_worker
from subscribers.links import SignedLinks
from subscribers.settings import SubscriptionSettings
from tests.console_support import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Limits no test reaches: a browser test fills the forms far faster than a person would.
OPTIONS = SubscriptionSettings(
    ratelimit_per_ip="1000/minute", ratelimit_per_address="1000/minute", inbound_domain="example.jp"
)

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="browser tests skipped: no /usr/bin/chromium (`apt-get install chromium`; .ci/run does it)",
)


@dataclass(frozen=True)
class ConsoleRun:
    """One run of a console's browser test: its language, the console's base path in it, and whether the run
    keeps its screenshots in docs/screenshots (the Japanese run on SQLite)."""

    language: str
    base: str
    keep: bool


def log_in(page: Page, *, email: str, password: str) -> None:
    """Fill in the login form on the page and send it."""
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")


def as_user(page: Page, console: str, email: str) -> None:
    """Log in at the console whose pages are below CONSOLE (the site's address and /admin or /en/admin) as the
    user EMAIL, with the tests' password."""
    page.goto(f"{console}/login")
    log_in(page, email=email, password=PASSWORD)


def add_staff(
    db: Database, email: str, role: StaffRole, *, name: str = "", organization: str | None = None
) -> None:
    """A console user with the tests' password, added as `outreach users add` adds one."""
    with db.session() as session:
        new = NewUser(email, role, PASSWORD, name=name, organization=organization)
        users.add_user(session, new, actor="cli:root", now=utcnow())


@contextmanager
def resident_worker(db: Database, settings: Settings) -> Iterator[None]:
    """What `outreach worker` runs, on a thread of its own until the test is done: the console's send now
    only starts a send (start_for_workers), and a resident worker delivers it."""
    worker = make_worker(db, settings, links=SignedLinks(settings))
    running: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
    ready = threading.Event()

    async def serve() -> None:
        stop = asyncio.Event()
        running["it"] = (asyncio.get_running_loop(), stop)
        ready.set()
        await worker.run(until_idle=False, stop=stop)

    thread = threading.Thread(target=asyncio.run, args=(serve(),), name="resident worker")
    thread.start()
    assert ready.wait(timeout=30)
    try:
        yield
    finally:
        loop, stop = running["it"]
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=60)
        worker.close()
    assert not thread.is_alive()
