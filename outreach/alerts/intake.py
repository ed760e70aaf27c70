"""Storing what a poll read: each entry once by its key, with its places, how its level changed, its rule,
action and state; and the record of every poll.

The only writer of `safety_alerts`, `safety_alert_places` and `alert_polls`, but for one hand-over: once an
entry waits, outreach.alerts.dispatch moves its `state` (and `note`) on when an issue carries it. An entry is
inserted with ON CONFLICT DO NOTHING on its unique key, so two pollers reading the same file at once (several
schedulers on PostgreSQL, or the console's "poll now" beside the scheduler) store it once between them.
"""

from __future__ import annotations

__all__ = [
    "Decision",
    "Stored",
    "close_poll",
    "decide",
    "last_validators",
    "open_poll",
    "store_entries",
]

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from outreach.alerts.fetch import Validators
from outreach.alerts.models import AlertAction, AlertPlace, AlertPoll, AlertState, SafetyAlert
from outreach.alerts.parse import Feed, FeedEntry, Place
from outreach.alerts.rules import classify, levelled
from outreach.alerts.settings import AlertMode, AlertSettings

NO_VALIDATORS = Validators()

# What a title says when no earlier entry of the country is known: the ministry's own words for a change.
_TITLE_WORDS = (("引き上げ", "raised"), ("引上げ", "raised"), ("引き下げ", "lowered"), ("引下げ", "lowered"),
                ("解除", "lowered"), ("継続", "same"))  # fmt: skip


@dataclass(frozen=True)
class Decision:
    """What becomes of an entry: how its level changed (T40/T41), its rule and action, its first state."""

    change: str
    rule: str
    action: AlertAction
    state: AlertState
    note: str = ""


@dataclass
class Stored:
    """What storing a file did: its entries, how many were new, and of the new ones each action and state."""

    entries: int = 0
    new: int = 0
    skipped: int = 0  # <mail> without a usable key
    actions: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)


# --- the polls ---------------------------------------------------------------------------------------------


def last_validators(session: Session, url: str) -> Validators:
    """The ETag and Last-Modified of the last poll of `url` that read it (ok, or unchanged since)."""
    poll = session.scalars(
        select(AlertPoll)
        .where(AlertPoll.url == url, AlertPoll.result.in_(("ok", "unchanged")))
        .order_by(AlertPoll.id.desc())
        .limit(1)
    ).first()
    return Validators(poll.etag, poll.last_modified) if poll is not None else Validators()


def open_poll(session: Session, url: str, *, now: datetime) -> AlertPoll:
    poll = AlertPoll(url=_fit(url, 500), started_at=now, result="running")
    session.add(poll)
    session.flush()
    return poll


def close_poll(
    poll: AlertPoll,
    *,
    result: str,
    finished_at: datetime,
    status: int | None,
    validators: Validators = NO_VALIDATORS,
    entries: int = 0,
    new: int = 0,
    detail: str = "",
) -> None:
    poll.result = result
    poll.finished_at = finished_at
    poll.http_status = status
    poll.etag = _fit(validators.etag, 200)
    poll.last_modified = _fit(validators.last_modified, 100)
    poll.entries = entries
    poll.new = new
    poll.detail = detail


# --- the entries -------------------------------------------------------------------------------------------


def store_entries(
    session: Session, feed: Feed, *, alerts: AlertSettings, now: datetime, feed_url: str
) -> Stored:
    """Store the entries not stored yet, oldest first (so each finds the one before it as its history)."""
    stored = Stored(entries=len(feed.entries), skipped=feed.skipped)
    keys = [entry.key for entry in feed.entries]
    known = set(session.scalars(select(SafetyAlert.key).where(SafetyAlert.key.in_(keys)))) if keys else set()
    fresh = [entry for entry in feed.entries if entry.key not in known]
    for entry in sorted(fresh, key=_oldest_first):
        decision = decide(session, entry, alerts, now=now)
        alert_id = _insert(session, entry, decision, now=now, feed_url=feed_url)
        if alert_id is None:  # another poller stored it a moment ago
            continue
        session.add_all(_places(alert_id, entry.places))
        session.flush()
        stored.new += 1
        stored.actions[decision.action.value] += 1
        stored.states[decision.state.value] += 1
    return stored


def _oldest_first(entry: FeedEntry) -> tuple[float, str]:
    return (entry.published_at.timestamp() if entry.published_at else float("inf"), entry.key)


def decide(session: Session, entry: FeedEntry, alerts: AlertSettings, *, now: datetime) -> Decision:
    """The change, rule, action and state of a new entry, from the stored history and the settings."""
    kind = levelled(entry.info_type)
    change = _change(session, entry, kind) if kind is not None else ""
    rule = classify(entry.info_type, change)
    action = alerts.rules.action(rule)
    if action is AlertAction.RECORD:
        return Decision(change, rule, action, AlertState.RECORDED, f"the rules: {rule}=record")
    if alerts.mode is AlertMode.OFF:
        return Decision(change, rule, action, AlertState.RECORDED, "OUTREACH_ALERTS=off")
    if entry.published_at is not None and entry.published_at < now - alerts.max_age:
        hours = int(alerts.max_age.total_seconds() // 3600)
        note = f"older than {hours} h when it arrived: a first poll sends no history"
        return Decision(change, rule, action, AlertState.RECORDED, note)
    return Decision(change, rule, action, AlertState.WAITING)


def _highest(kind: str, risk: Sequence[int], infection: Sequence[int]) -> int:
    return max(risk if kind == "risk" else infection, default=0)


def _change(session: Session, entry: FeedEntry, kind: str) -> str:
    """raised, lowered or same against the last stored entry of its type for its places; else its title's."""
    previous = _previous(session, entry)
    if previous is None:
        return next((change for word, change in _TITLE_WORDS if word in entry.title), "raised")
    now = _highest(kind, entry.risk_levels, entry.infection_levels)
    before = _highest(kind, previous.risk_levels, previous.infection_levels)
    return "raised" if now > before else "lowered" if now < before else "same"


def _previous(session: Session, entry: FeedEntry) -> SafetyAlert | None:
    """The latest stored entry of its type for the same country (or the same region, if it names none)."""
    matches = [
        AlertPlace.country_code == place.country_code
        if place.country_code
        else and_(AlertPlace.area_code == place.area_code, AlertPlace.country_code == "")
        for place in entry.places
    ]
    if not matches:
        return None
    query = (
        select(SafetyAlert)
        .join(AlertPlace, AlertPlace.alert_id == SafetyAlert.id)
        .where(SafetyAlert.info_type == _fit(entry.info_type, 8), or_(*matches))
        .order_by(SafetyAlert.published_at.desc().nulls_last(), SafetyAlert.id.desc())
        .limit(1)
    )
    if entry.published_at is not None:
        query = query.where(SafetyAlert.published_at <= entry.published_at)
    return session.scalars(query).first()


def _insert(
    session: Session, entry: FeedEntry, decision: Decision, *, now: datetime, feed_url: str
) -> int | None:
    """Insert the entry unless its key is stored (by anyone, even now); its id, or None."""
    values: dict[str, Any] = {
        "key": entry.key,
        "info_type": _fit(entry.info_type, 8),
        "info_name": _fit(entry.info_name, 200),
        "published_at": entry.published_at,
        "title": entry.title,
        "lead": entry.lead,
        "main_text": entry.main_text,
        "url": _fit(entry.url, 500),
        "mission_code": _fit(entry.mission_code, 16),
        "mission_name": _fit(entry.mission_name, 200),
        "risk_levels": list(entry.risk_levels),
        "infection_levels": list(entry.infection_levels),
        "change": decision.change,
        "rule": decision.rule,
        "action": decision.action,
        "state": decision.state,
        "note": decision.note,
        "feed_url": _fit(feed_url, 500),
        "received_at": now,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(SafetyAlert)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(SafetyAlert.id)
    )
    alert_id: int | None = session.execute(statement).scalar_one_or_none()
    return alert_id


def _places(alert_id: int, places: Sequence[Place]) -> list[AlertPlace]:
    return [
        AlertPlace(
            alert_id=alert_id,
            area_code=_fit(place.area_code, 8),
            country_code=_fit(place.country_code, 8),
            name=_fit(place.name, 200),
        )
        for place in places
    ]


def _fit(text: str, length: int) -> str:
    """A feed's value cut to its column (an unexpected long one is stored cut rather than refused)."""
    return text[:length]
