"""A subscription's life: pending -> active -> unsubscribed (or bounced), each change on the consent record.

Rules that hold whatever the channel:
- a new address starts `pending`; only the person confirming a link sent to it makes it `active`;
- an import makes a new address `active` only when the organization vouches for consent, else `pending`;
- an `unsubscribed` or `bounced` address is never made active again by an import, only by confirming anew,
  and a confirmation link signed before the person unsubscribed no longer brings them back;
- pending subscriptions that nobody confirmed within the lifetime are purged.

A roster is written in bulk under the same rules by subscribers.roster_writer, the one other module that
writes `subscribers`: a thousand rows in a few statements, where this module goes one subscriber at a time.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_PENDING_LIFETIME",
    "Confirmed",
    "Details",
    "ImportConsent",
    "NotSubscribed",
    "Preferences",
    "RequestOutcome",
    "Requested",
    "StaleConfirmation",
    "SubscriberView",
    "change_preferences",
    "confirm_subscription",
    "find_subscriber",
    "purge_expired",
    "request_subscription",
    "subscriber_view",
    "unsubscribe",
]

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from outreach.errors import InvalidInput, NotFound
from outreach.i18n import LANGUAGES
from outreach.models import Subscriber, SubscriberStatus, SubscriberTopic, Topic
from outreach.outbox import cancel_subscriber_rows
from subscribers.addresses import normalize_address
from subscribers.consent import ConsentSource, Origin, record
from subscribers.directory import organization_or_none
from subscribers.roster import ImportConsent, clean_text
from subscribers.tokens import InvalidToken

DEFAULT_PENDING_LIFETIME = timedelta(days=7)


class NotSubscribed(InvalidInput):
    """A change that needs a live subscription was asked of an unsubscribed one."""


class StaleConfirmation(InvalidToken):
    """A confirmation link signed before its address unsubscribed: it cannot bring the address back."""


@dataclass(frozen=True)
class Preferences:
    """What a subscriber can change about what they receive; no topics means every issue."""

    organization: str | None = None
    language: str = "ja"
    topics: frozenset[Topic] = frozenset()

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise InvalidInput(f"the language must be one of {', '.join(LANGUAGES)}; got {self.language!r}")


@dataclass(frozen=True)
class Details:
    """What a person asked for when subscribing; it travels inside the signed confirmation link."""

    email: str
    company: str = ""
    name: str = ""
    preferences: Preferences = field(default_factory=Preferences)

    def to_payload(self) -> dict[str, Any]:
        prefs = self.preferences
        return {
            "e": self.email,
            "c": self.company,
            "n": self.name,
            "o": prefs.organization,
            "l": prefs.language,
            "t": sorted(topic.value for topic in prefs.topics),
        }

    @classmethod
    def from_payload(cls, payload: Any) -> Details:
        """The details of a verified token; a payload of another shape is refused as an invalid link."""
        try:
            assert isinstance(payload, Mapping)
            preferences = Preferences(
                organization=_optional_str(payload["o"]),
                language=str(payload["l"]),
                topics=frozenset(Topic(value) for value in payload["t"]),
            )
            # Signed by us, but checked as input all the same: what it carries is stored as it is.
            email = normalize_address(str(payload["e"]))
            return cls(email, clean_text(str(payload["c"])), clean_text(str(payload["n"])), preferences)
        except (AssertionError, KeyError, TypeError, ValueError):
            raise InvalidToken("this link is not valid") from None


def _optional_str(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError("organization")
    return value


@dataclass(frozen=True)
class SubscriberView:
    """A subscriber as the pages and mails show it, detached from any session."""

    id: int
    email: str
    company: str
    name: str
    status: SubscriberStatus
    preferences: Preferences


def _view(subscriber: Subscriber) -> SubscriberView:
    return SubscriberView(
        id=subscriber.id,
        email=subscriber.email,
        company=subscriber.company,
        name=subscriber.name,
        status=subscriber.status,
        preferences=_preferences_of(subscriber),
    )


def _preferences_of(subscriber: Subscriber) -> Preferences:
    return Preferences(
        organization=subscriber.organization.slug if subscriber.organization else None,
        language=subscriber.language,
        topics=frozenset(row.topic for row in subscriber.topics),
    )


def _by_email(session: Session, email: str) -> Subscriber | None:
    return session.scalar(
        select(Subscriber).where(Subscriber.email == email).options(selectinload(Subscriber.topics))
    )


def _by_id(session: Session, subscriber_id: int) -> Subscriber:
    subscriber = session.get(Subscriber, subscriber_id, options=[selectinload(Subscriber.topics)])
    if subscriber is None:
        raise NotFound(f"there is no subscriber {subscriber_id}")
    return subscriber


def subscriber_view(session: Session, subscriber_id: int) -> SubscriberView:
    return _view(_by_id(session, subscriber_id))


def find_subscriber(session: Session, email: str) -> SubscriberView | None:
    subscriber = _by_email(session, email)
    return _view(subscriber) if subscriber else None


def _set_topics(subscriber: Subscriber, topics: frozenset[Topic]) -> None:
    kept = [row for row in subscriber.topics if row.topic in topics]
    have = {row.topic for row in kept}
    subscriber.topics = kept + [SubscriberTopic(topic=topic) for topic in sorted(topics - have)]


def _apply(session: Session, subscriber: Subscriber, preferences: Preferences) -> None:
    subscriber.organization = organization_or_none(session, preferences.organization)
    subscriber.language = preferences.language
    _set_topics(subscriber, preferences.topics)


def _apply_details(session: Session, subscriber: Subscriber, details: Details) -> None:
    subscriber.company = details.company
    subscriber.name = details.name
    _apply(session, subscriber, details.preferences)


def _new(session: Session, details: Details, status: SubscriberStatus, *, now: datetime) -> Subscriber:
    subscriber = Subscriber(email=details.email, status=status, created_at=now, updated_at=now, topics=[])
    _apply_details(session, subscriber, details)
    session.add(subscriber)
    session.flush()
    return subscriber


class RequestOutcome(enum.StrEnum):
    """What a subscription request found; every outcome looks the same to the person asking."""

    NEW = "new"  # a pending subscription was made: send a confirmation link
    PENDING = "pending"  # asked again before confirming: send the link again
    ACTIVE = "active"  # already subscribed: tell the address so, with a link to its preferences
    RETURNING = "returning"  # unsubscribed or bounced before: send a confirmation link


@dataclass(frozen=True)
class Requested:
    outcome: RequestOutcome
    subscriber_id: int
    language: str


def request_subscription(session: Session, details: Details, origin: Origin, *, now: datetime) -> Requested:
    """Start (or restart) a double opt-in for `details.email`; an active subscription is left as it is."""
    subscriber = _by_email(session, details.email)
    if subscriber is None:
        subscriber = _new(session, details, SubscriberStatus.PENDING, now=now)
        record(session, subscriber, "subscribe_requested", origin, now=now)
        return Requested(RequestOutcome.NEW, subscriber.id, subscriber.language)
    if subscriber.status == SubscriberStatus.PENDING:
        _apply_details(session, subscriber, details)
        subscriber.updated_at = now
        record(session, subscriber, "subscribe_requested", origin, now=now, detail="again while pending")
        return Requested(RequestOutcome.PENDING, subscriber.id, subscriber.language)
    if subscriber.status == SubscriberStatus.ACTIVE:
        record(session, subscriber, "subscribe_requested", origin, now=now, detail="already active")
        return Requested(RequestOutcome.ACTIVE, subscriber.id, subscriber.language)
    # Unsubscribed or bounced: nothing changes until the person confirms; the link carries their choices.
    detail = f"returning from {subscriber.status.value}"
    record(session, subscriber, "subscribe_requested", origin, now=now, detail=detail)
    return Requested(RequestOutcome.RETURNING, subscriber.id, details.preferences.language)


@dataclass(frozen=True)
class Confirmed:
    subscriber_id: int
    already: bool  # it was active before this confirmation: nothing changed


def confirm_subscription(
    session: Session, details: Details, origin: Origin, *, signed_at: datetime, now: datetime
) -> Confirmed:
    """Activate the address of a verified confirmation link, with the choices it carries."""
    subscriber = _by_email(session, details.email)
    if subscriber is None:  # purged while its link was still valid: the person has now confirmed
        subscriber = _new(session, details, SubscriberStatus.ACTIVE, now=now)
    elif subscriber.status == SubscriberStatus.ACTIVE:
        return Confirmed(subscriber.id, already=True)
    else:
        left = subscriber.unsubscribed_at
        # Tokens carry whole seconds: compare with the second the address left in.
        if (
            subscriber.status == SubscriberStatus.UNSUBSCRIBED
            and left
            and signed_at < left.replace(microsecond=0)
        ):
            raise StaleConfirmation("this confirmation link is older than the unsubscription")
        _apply_details(session, subscriber, details)
    subscriber.status = SubscriberStatus.ACTIVE
    subscriber.consent_source = origin.source.value
    subscriber.confirmed_at = subscriber.updated_at = now
    subscriber.unsubscribed_at = None
    subscriber.bounce_count = 0
    record(session, subscriber, "confirmed", origin, now=now)
    return Confirmed(subscriber.id, already=False)


def unsubscribe(session: Session, subscriber_id: int, origin: Origin, *, now: datetime) -> SubscriberView:
    """Stop all mail to the subscriber at once; doing it again changes nothing."""
    subscriber = _by_id(session, subscriber_id)
    if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
        detail = f"was {subscriber.status.value}"
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        subscriber.unsubscribed_at = subscriber.updated_at = now
        record(session, subscriber, "unsubscribed", origin, now=now, detail=detail)
    # Final at once: nothing queued, deferred or claimed for them goes out any more (again: a no-op).
    cancel_subscriber_rows(
        session, subscriber.id, reason=f"the subscriber unsubscribed ({origin.source})", now=now
    )
    return _view(subscriber)


def _describe_change(before: Preferences, after: Preferences) -> str:
    changes = []
    if before.organization != after.organization:
        changes.append(f"organization {before.organization or 'none'} -> {after.organization or 'none'}")
    if before.language != after.language:
        changes.append(f"language {before.language} -> {after.language}")
    if before.topics != after.topics:
        topics = ",".join(sorted(topic.value for topic in after.topics)) or "all"
        changes.append(f"topics -> {topics}")
    return "; ".join(changes)


def change_preferences(
    session: Session, subscriber_id: int, preferences: Preferences, origin: Origin, *, now: datetime
) -> SubscriberView:
    """Change organization, language and topics; an unchanged form records nothing."""
    subscriber = _by_id(session, subscriber_id)
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        raise NotSubscribed("this address is unsubscribed; subscribe again to choose what you receive")
    change = _describe_change(_preferences_of(subscriber), preferences)
    if change:
        _apply(session, subscriber, preferences)
        subscriber.updated_at = now
        record(session, subscriber, "preferences_changed", origin, now=now, detail=change)
    return _view(subscriber)


def purge_expired(
    session: Session, *, now: datetime, lifetime: timedelta = DEFAULT_PENDING_LIFETIME
) -> list[str]:
    """Delete the pending subscriptions untouched for longer than `lifetime`; return their addresses."""
    expired = session.scalars(
        select(Subscriber).where(
            Subscriber.status == SubscriberStatus.PENDING, Subscriber.updated_at < now - lifetime
        )
    ).all()
    origin = Origin(ConsentSource.STAFF, note=f"not confirmed within {lifetime.days} days")
    for subscriber in expired:
        record(session, subscriber, "expired", origin, now=now)
    session.flush()  # the events keep the address; deleting the row sets their subscriber_id to NULL
    ids = [subscriber.id for subscriber in expired]
    if ids:
        session.execute(delete(Subscriber).where(Subscriber.id.in_(ids)))
    return [subscriber.email for subscriber in expired]
