"""What the console's HTTP tests share: the console served on a real port, its users and their password.

The `console` fixture that serves it with a user of each role is in tests/conftest.py; a module that needs a
different setting defines its own `console`.
"""

from __future__ import annotations

__all__ = ["OPTIONS", "PASSWORD", "STAFF", "USERS", "Console", "add_user", "served"]

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta

import httpx

from outreach.config import Settings
from outreach.db import Database
from outreach.models import utcnow
from outreach.staff import users as staff_users
from outreach.staff.models import StaffRole
from outreach.staff.settings import StaffSettings
from outreach.staff.users import NewUser
from subscribers.settings import SubscriptionSettings
from subscribers.web import create_app
from tests.web_server import WebServer

PASSWORD = "correct horse battery staple"
OPTIONS = SubscriptionSettings(
    ratelimit_per_ip="1000/minute", ratelimit_per_address="1000/minute", inbound_domain="example.jp"
)
STAFF = StaffSettings(lockout_failures=3, lockout=timedelta(minutes=15))
USERS = {
    StaffRole.ADMIN: "admin@example.jp",
    StaffRole.STAFF: "staff@example.jp",
    StaffRole.APPROVER: "approver@example.jp",
    StaffRole.ORG_EDITOR: "jetro-editor@example.jp",
}


@dataclass
class Console:
    url: str
    db: Database
    settings: Settings

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)


@contextmanager
def served(db: Database, settings: Settings, *, base_url: str | None = None) -> Iterator[Console]:
    with WebServer() as web:
        site_settings = replace(settings, base_url=base_url or web.url)
        web.serve(create_app(site_settings, options=OPTIONS, staff=STAFF))
        yield Console(web.url, db, site_settings)


def add_user(db: Database, role: StaffRole, email: str | None = None) -> str:
    email = email or USERS[role]
    organization = "jetro" if role is StaffRole.ORG_EDITOR else None
    with db.session() as session:
        new = NewUser(email, role, PASSWORD, name=f"{role.value} user", organization=organization)
        staff_users.add_user(session, new, actor="cli:tester", now=utcnow())
    return email
