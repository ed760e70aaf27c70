"""The consent record: each change of a subscription writes a ConsentEvent saying when, how, from where."""

from __future__ import annotations

__all__ = ["ConsentSource", "Origin", "record", "record_many"]

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from outreach.models import ConsentEvent, Subscriber
from subscribers.copy_rows import insert_rows

_MAX_IP = 45  # the column's width: the longest textual IPv6 address
_MAX_DETAIL = 500
_EVENTS = ConsentEvent.metadata.tables[ConsentEvent.__tablename__]
_COLUMNS = ("subscriber_id", "email", "action", "source", "ip", "detail", "occurred_at")


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
    """Add one event per (subscriber id, address, action, detail), all from `origin`, in one statement (COPY
    on PostgreSQL): the record of a bulk change such as a roster import. Returns how many."""
    source, ip = origin.source.value, _ip(origin)
    rows = [
        (subscriber_id, email, action, source, ip, _detail(detail, origin), now)
        for subscriber_id, email, action, detail in events
    ]
    insert_rows(session, _EVENTS, _COLUMNS, rows)
    return len(rows)


def _event(
    subscriber_id: int, email: str, action: str, origin: Origin, *, now: datetime, detail: str | None = None
) -> dict[str, object]:
    values = (subscriber_id, email, action, origin.source.value, _ip(origin), _detail(detail, origin), now)
    return dict(zip(_COLUMNS, values, strict=True))


def _ip(origin: Origin) -> str | None:
    return origin.ip[:_MAX_IP] if origin.ip else None


def _detail(detail: str | None, origin: Origin) -> str | None:
    text = "; ".join(part for part in (detail, origin.note) if part) or None
    return text[:_MAX_DETAIL] if text else None
