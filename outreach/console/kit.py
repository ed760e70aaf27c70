"""What every group of console pages is built with: the guard, the views, the settings, the clock."""

from __future__ import annotations

__all__ = ["Kit", "PageGroup", "Routes"]

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from outreach.config import Settings
from outreach.console.guard import Guard, Handler
from outreach.console.views import ConsoleViews
from outreach.links import PersonalLinks
from outreach.render import Renderer
from outreach.staff.roles import Permission
from outreach.staff.settings import StaffSettings

# (path under the console's base, handler, method, the permission it needs)
Routes = list[tuple[str, Handler, str, Permission]]


@dataclass(frozen=True)
class Kit:
    """Handed by outreach.console.pages.Console to each group of pages: `staff` are the console's own
    settings (approval rule, lockout), `site` the installation's (sender, relay, base URL: for previews and
    test sends)."""

    guard: Guard
    views: ConsoleViews
    staff: StaffSettings
    site: Settings
    renderer: Renderer
    links: PersonalLinks  # a subscriber's signed links, for test sends (the web app's SignedLinks)
    clock: Callable[[], datetime]


class PageGroup(Protocol):
    """A group of console pages: its routes, for the console to put behind its guard."""

    def routes(self) -> Routes: ...
