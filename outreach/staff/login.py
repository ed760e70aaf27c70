"""Logging in and out of the console, and recognizing a logged-in browser: what the console's edge calls."""

from __future__ import annotations

__all__ = ["LoggedIn", "Visit", "log_in", "log_out", "note_activity", "visit"]

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from outreach.staff import audit, sessions, users
from outreach.staff.models import StaffUser
from outreach.staff.settings import StaffSettings
from outreach.staff.users import StaffView


@dataclass(frozen=True)
class LoggedIn:
    """A new session: its id goes into the cookie and is never stored or shown again."""

    user: StaffView
    session_id: str


@dataclass(frozen=True)
class Visit:
    """A request from a logged-in browser."""

    user: StaffView
    session_key: str  # the stored digest of the session's id


def log_in(
    session: Session,
    email: str,
    password: str,
    code: str,
    *,
    ip: str | None,
    now: datetime,
    settings: StaffSettings,
    replacing: str | None = None,
) -> LoggedIn | None:
    """A new session for the user these credentials prove, or None (see users.authenticate).

    The session id is always new: a session the browser held before (`replacing`) ends, so an id planted
    in a browser before the login is worth nothing after it.
    """
    user = users.authenticate(session, email, password, code, now=now, ip=ip, settings=settings)
    if user is None:
        return None
    if replacing:
        sessions.close(session, replacing)
    sessions.purge_ended(session, user.id, now=now, settings=settings)
    session_id = sessions.open_session(session, user.id, ip=ip, now=now, settings=settings)
    audit.record(
        session,
        actor=audit.staff_actor(user.email),
        action="login",
        target=user.email,
        detail="password and TOTP code" if user.totp_enrolled else "password",
        ip=ip,
        now=now,
    )
    return LoggedIn(user, session_id)


def visit(session: Session, session_id: str, *, now: datetime, settings: StaffSettings) -> Visit | None:
    """Who holds this session id, or None: no such session, ended, or its user disabled. Reads only."""
    found = sessions.find(session, session_id, now=now, settings=settings)
    if found is None:
        return None
    user = session.scalar(
        select(StaffUser).where(StaffUser.id == found.user_id).options(selectinload(StaffUser.organization))
    )
    if user is None or user.disabled:
        return None
    return Visit(users.staff_view(user), found.id_hash)


def note_activity(session: Session, visit: Visit, *, now: datetime) -> None:
    """The visit was allowed: its session's idle time starts again."""
    sessions.touch(session, visit.session_key, now=now)


def log_out(session: Session, session_id: str, visit: Visit, *, ip: str | None, now: datetime) -> None:
    sessions.close(session, session_id)
    audit.record(
        session,
        actor=audit.staff_actor(visit.user.email),
        action="logout",
        target=visit.user.email,
        ip=ip,
        now=now,
    )
