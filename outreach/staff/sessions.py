"""Console sessions: a random id in the browser's cookie, its SHA-256 in `staff_sessions` (the only writer).

A session ends at its lifetime (OUTREACH_SESSION_HOURS) or after being idle (OUTREACH_SESSION_IDLE_MINUTES),
at logout, and when its user is disabled or gets a new password.
"""

from __future__ import annotations

__all__ = ["close", "close_all", "digest", "find", "open_session", "purge_ended", "touch"]

import hashlib
import re
import secrets
from datetime import datetime

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from outreach.staff.models import StaffSession
from outreach.staff.settings import StaffSettings

_ID = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32): 256 random bits


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def open_session(
    session: Session, user_id: int, *, ip: str | None, now: datetime, settings: StaffSettings
) -> str:
    """A new session with a new random id, returned once for the cookie; only its digest is stored."""
    session_id = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            id_hash=digest(session_id),
            user_id=user_id,
            created_at=now,
            expires_at=now + settings.session_lifetime,
            last_seen_at=now,
            ip=ip,
        )
    )
    return session_id


def _live(row: StaffSession, *, now: datetime, settings: StaffSettings) -> bool:
    return now < row.expires_at and now < row.last_seen_at + settings.session_idle


def find(session: Session, session_id: str, *, now: datetime, settings: StaffSettings) -> StaffSession | None:
    """The live session with this id, or None (unknown, malformed, expired or idle too long); reads only."""
    if not _ID.fullmatch(session_id):
        return None
    row = session.get(StaffSession, digest(session_id))
    return row if row is not None and _live(row, now=now, settings=settings) else None


def touch(session: Session, id_hash: str, *, now: datetime) -> None:
    """Mark the session as used now: the idle timeout counts from here."""
    session.execute(update(StaffSession).where(StaffSession.id_hash == id_hash).values(last_seen_at=now))


def close(session: Session, session_id: str) -> bool:
    """End the session with this id; whether there was one."""
    if not _ID.fullmatch(session_id):
        return False
    ended = session.execute(delete(StaffSession).where(StaffSession.id_hash == digest(session_id)))
    return bool(getattr(ended, "rowcount", 0))


def close_all(session: Session, user_id: int) -> int:
    """End every session of a user (disabled, new password); how many there were."""
    ended = session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
    return int(getattr(ended, "rowcount", 0))


def purge_ended(session: Session, user_id: int, *, now: datetime, settings: StaffSettings) -> None:
    """Delete a user's sessions that have run out (done at each login, so the table does not grow)."""
    session.execute(
        delete(StaffSession).where(
            StaffSession.user_id == user_id,
            or_(
                StaffSession.expires_at <= now,
                StaffSession.last_seen_at <= now - settings.session_idle,
            ),
        )
    )
