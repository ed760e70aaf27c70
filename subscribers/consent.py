"""The consent record: each change of a subscription writes a ConsentEvent saying when, how, from where."""

from __future__ import annotations

__all__ = ["ConsentSource", "Origin", "record", "record_many"]

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from outreach.models import ConsentEvent, Subscriber

_MAX_IP = 45  # the column's width: the longest textual IPv6 address
_MAX_DETAIL = 500
_EVENTS = ConsentEvent.metadata.tables[ConsentEvent.__tablename__]


class ConsentSource(enum.StrEnum):
    """The channel a change came through."""

    WEB = "web"
    EMAIL = "email"
    IMPORT = "import"
    STAFF = "staff"
    COMPLAINT = "complaint"  # a feedback-loop report: the reader marked an issue as spam


@dataclass(frozen=True)
class Origin:
    """Who asked for a change: the channel, the request's IP for the web, and a note (e.g. a Message-ID)."""

    source: ConsentSource
    ip: str | None = None
    note: str | None = None


def record(
    session: Session,
    subscriber: Subscriber,
    action: str,
    origin: Origin,
    *,
    now: datetime,
    detail: str | None = None,
) -> ConsentEvent:
    """Add the event for `subscriber` (flushing first if it is new, so that it has an id)."""
    if subscriber.id is None:
        session.flush()
    event = ConsentEvent(**_event(subscriber.id, subscriber.email, action, origin, now=now, detail=detail))
    session.add(event)
    return event


def record_many(
    session: Session,
    events: Iterable[tuple[int, str, str, str | None]],
    origin: Origin,
    *,
    now: datetime,
) -> int:
    """Add one event per (subscriber id, address, action, detail), all from `origin`, in one statement: the
    record of a bulk change such as a roster import. Returns how many."""
    values = [
        _event(subscriber_id, email, action, origin, now=now, detail=detail)
        for subscriber_id, email, action, detail in events
    ]
    if values:
        session.execute(insert(_EVENTS), values)  # Core: no ORM work per row
    return len(values)


def _event(
    subscriber_id: int, email: str, action: str, origin: Origin, *, now: datetime, detail: str | None = None
) -> dict[str, object]:
    text = "; ".join(part for part in (detail, origin.note) if part) or None
    return {
        "subscriber_id": subscriber_id,
        "email": email,
        "action": action,
        "source": origin.source.value,
        "ip": origin.ip[:_MAX_IP] if origin.ip else None,
        "detail": text[:_MAX_DETAIL] if text else None,
        "occurred_at": now,
    }
