"""The safety alerts' tables: each entry of the ministry's feed once, the places it concerns, the places each
subscriber does business in, and every poll of the feed."""

from __future__ import annotations

__all__ = ["AlertAction", "AlertPlace", "AlertPoll", "AlertState", "SafetyAlert", "SubscriberPlace"]

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from outreach.models import Base, _enum, utcnow


class AlertAction(enum.StrEnum):
    """What the rules say to do with an entry (outreach.alerts.rules)."""

    NOW = "now"  # an alert issue at once
    DIGEST = "digest"  # a line in the next regular issue, for the subscribers of its places
    RECORD = "record"  # kept and listed, sent to nobody


class AlertState(enum.StrEnum):
    """Where an entry is: waiting for its alert issue or the next regular issue, or done with."""

    WAITING = "waiting"  # `now`: no alert issue carries it yet; `digest`: no regular issue yet
    ISSUED = "issued"  # an alert issue carries it (the issue says whether it is a draft, sending or sent)
    DIGESTED = "digested"  # a regular issue carries it
    RECORDED = "recorded"  # sent to nobody: the rules, OUTREACH_ALERTS=off, or too old when it arrived


class SafetyAlert(Base):
    """One entry (<mail>) of the ministry's feed, stored once by its key (keyCd)."""

    __tablename__ = "safety_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    info_type: Mapped[str] = mapped_column(String(8))  # T40, T41, C30, C50, R10, R20, or one not known yet
    info_name: Mapped[str] = mapped_column(String(200), default="")
    published_at: Mapped[datetime | None]  # leaveDate (JST in the feed), as UTC
    title: Mapped[str] = mapped_column(Text, default="")
    lead: Mapped[str] = mapped_column(Text, default="")
    main_text: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    mission_code: Mapped[str] = mapped_column(String(16), default="")  # koukanCd: the embassy or consulate
    mission_name: Mapped[str] = mapped_column(String(200), default="")
    risk_levels: Mapped[list[int]] = mapped_column(JSON, default=list)  # the levels flagged, 1..4
    infection_levels: Mapped[list[int]] = mapped_column(JSON, default=list)
    change: Mapped[str] = mapped_column(String(10), default="")  # raised, lowered, same, or "" (not a level)
    rule: Mapped[str] = mapped_column(String(30))  # the rule that decided, e.g. "risk-raised"
    action: Mapped[AlertAction] = mapped_column(_enum(AlertAction))
    state: Mapped[AlertState] = mapped_column(_enum(AlertState))
    note: Mapped[str] = mapped_column(Text, default="")  # why it was recorded only, or what staff decided
    feed_url: Mapped[str] = mapped_column(String(500), default="")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    places: Mapped[list[AlertPlace]] = relationship(
        order_by="AlertPlace.id", cascade="all, delete-orphan", lazy="selectin"
    )


class AlertPlace(Base):
    """A region, or a country in it, that an entry concerns; `country_code` "" for the region as a whole."""

    __tablename__ = "safety_alert_places"
    __table_args__ = (Index("ix_safety_alert_places_place", "area_code", "country_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("safety_alerts.id", ondelete="CASCADE"), index=True)
    area_code: Mapped[str] = mapped_column(String(8))
    country_code: Mapped[str] = mapped_column(String(8), default="")
    name: Mapped[str] = mapped_column(
        String(200), default=""
    )  # as the feed names it (kept for unknown codes)


class SubscriberPlace(Base):
    """A region, or a country in it, that a subscriber's company does business in (`country_code` "" for the
    whole region); written only by subscribers.places."""

    __tablename__ = "subscriber_places"
    __table_args__ = (Index("ix_subscriber_places_place", "area_code", "country_code"),)

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    area_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    country_code: Mapped[str] = mapped_column(String(8), primary_key=True, default="")


class AlertPoll(Base):
    """One poll of the feed: what came back, how many entries were new, the validators for the next."""

    __tablename__ = "alert_polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    result: Mapped[str] = mapped_column(String(20), default="running")  # running, ok, unchanged, error
    http_status: Mapped[int | None] = mapped_column(Integer)
    etag: Mapped[str] = mapped_column(String(200), default="")
    last_modified: Mapped[str] = mapped_column(String(100), default="")
    entries: Mapped[int] = mapped_column(Integer, default=0)  # <mail> elements in the file
    new: Mapped[int] = mapped_column(Integer, default=0)  # stored for the first time
    detail: Mapped[str] = mapped_column(Text, default="")
