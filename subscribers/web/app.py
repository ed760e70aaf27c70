"""The web composition root: `create_app(settings)` wires the engine, the subscriptions and the pages."""

from __future__ import annotations

__all__ = ["MAX_BODY_BYTES", "create_app", "create_app_from_environment"]

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.types import ASGIApp

from outreach.composer import senders
from outreach.config import Settings, load_settings
from outreach.console import Console
from outreach.db import Database
from outreach.mailer import Mailer, make_mailer
from outreach.render import Renderer
from outreach.staff.settings import StaffSettings, load_staff_settings
from subscribers.links import SignedLinks
from subscribers.notices import Notices
from subscribers.ratelimit import RateLimits
from subscribers.settings import SubscriptionSettings, load_subscription_settings
from subscribers.subscriptions import Subscriptions
from subscribers.web.archive import Archive
from subscribers.web.csrf import CSRF_FIELD, Csrf
from subscribers.web.guards import BodyLimit, SecurityHeaders
from subscribers.web.pages import Site
from subscribers.web.views import Views

# The largest form of ours, every field filled to its limit and every country checked, is about 10 KiB.
MAX_BODY_BYTES = 16 * 1024
# The console's forms carry whole texts (a meeting's summary in Markdown, in two languages); a roster upload
# is a whole CSV file (100,000 rows, the import's own limit, of about 100 bytes).
CONSOLE_BODY_BYTES = 512 * 1024
ROSTER_BODY_BYTES = 16 * 1024 * 1024
_ROSTER_UPLOAD = re.compile(r"/(?:en/)?admin/organizations/[^/]+/roster/import$")
_CONSOLE = re.compile(r"/(?:en/)?admin/")


class _HeadersOutermost(Starlette):
    """Starlette with the security headers outermost: around its 500 page too, which it answers outside
    every middleware of ours."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def create_app(
    settings: Settings,
    *,
    options: SubscriptionSettings | None = None,
    staff: StaffSettings | None = None,
    mailer_factory: Callable[[Settings], Mailer] = make_mailer,
) -> Starlette:
    """The public web app for subscribers, and the staff console under /admin/ and /en/admin/; it checks at
    startup that the database is migrated."""
    options = options or load_subscription_settings(settings)
    staff = staff or load_staff_settings()
    db = Database(settings.database_url.reveal())
    renderer = Renderer(sender=senders(settings))
    csrf = Csrf(settings.secret_key, secure=settings.base_url.startswith("https://"))
    views = Views(renderer, csrf, options=options)
    subscriptions = Subscriptions(
        db, settings, options, notices=Notices(settings, mailer_factory=mailer_factory)
    )
    site = Site(subscriptions, views, csrf, RateLimits(options), Archive(db, renderer))
    secure = settings.base_url.startswith("https://")
    console = Console(
        db,
        renderer,
        csrf,
        csrf_field=CSRF_FIELD,
        settings=staff,
        site=settings,
        links=SignedLinks(settings),
        secure=secure,
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        db.require_migrated()
        yield
        db.dispose()

    return _HeadersOutermost(
        routes=[*console.routes(), *site.routes()],
        middleware=[
            Middleware(
                BodyLimit,
                max_bytes=MAX_BODY_BYTES,
                reject=views.asgi_error(413, "too_large"),
                wider=((_ROSTER_UPLOAD, ROSTER_BODY_BYTES), (_CONSOLE, CONSOLE_BODY_BYTES)),
            ),
        ],
        exception_handlers={HTTPException: views.http_error, Exception: views.server_error},
        lifespan=lifespan,
    )


def create_app_from_environment() -> Starlette:
    """For `uvicorn --factory subscribers.web.app:create_app_from_environment` and `outreach serve`."""
    return create_app(load_settings())
