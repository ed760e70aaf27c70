"""The consent record: each change of a subscription writes a ConsentEvent saying when, how, from where."""

from __future__ import annotations

__all__ = ["ConsentSource", "Origin", "record"]

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from outreach.models import ConsentEvent, Subscriber

_MAX_IP = 45  # the column's width: the longest textual IPv6 address
_MAX_DETAIL = 500


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
    text = "; ".join(part for part in (detail, origin.note) if part) or None
    event = ConsentEvent(
        subscriber_id=subscriber.id,
        email=subscriber.email,
        action=action,
        source=origin.source.value,
        ip=origin.ip[:_MAX_IP] if origin.ip else None,
        detail=text[:_MAX_DETAIL] if text else None,
        occurred_at=now,
    )
    session.add(event)
    return event
