"""What people can do with their subscription, for every channel: the lifecycle plus the links and mails.

The web app, the inbound mail endpoint and the command line all call this; database work runs in a worker
thread so that the asynchronous callers never block their event loop on it.
"""

from __future__ import annotations

__all__ = ["Subscriptions"]

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from outreach.alerts.places import Place, find
from outreach.config import Settings
from outreach.db import Database
from outreach.models import Subscriber, SubscriberStatus, utcnow
from subscribers import lifecycle
from subscribers import places as subscriber_places
from subscribers.consent import Origin
from subscribers.directory import OrganizationChoice, organization_choices
from subscribers.lifecycle import (
    Confirmed,
    Details,
    Preferences,
    Requested,
    RequestOutcome,
    SubscriberView,
)
from subscribers.links import CONFIRM_TOKEN, SUBSCRIBER_TOKEN, SUBSCRIBER_TOKEN_LIFETIME, SignedLinks
from subscribers.notices import Notice, NoticeKind, Notices
from subscribers.settings import SubscriptionSettings
from subscribers.tokens import InvalidToken, Tokens

T = TypeVar("T")
_PLACES = "p"  # the confirmation payload's places: codes, regions as "10", countries as "0066"


class Subscriptions:
    """Subscribe, confirm, choose, leave: one method per thing a person does."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        options: SubscriptionSettings,
        *,
        notices: Notices | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.settings = settings
        self.options = options
        self.notices = notices or Notices(settings, clock=clock)
        self.links = SignedLinks(settings)
        self._tokens = Tokens(settings.secret_key)
        self._clock = clock

    async def _run(self, work: Callable[[Session], T], *, dry_run: bool = False) -> T:
        return await asyncio.to_thread(self._run_now, work, dry_run)

    def _run_now(self, work: Callable[[Session], T], dry_run: bool) -> T:
        with self.db.session(dry_run=dry_run) as session:
            return work(session)

    async def organizations(self) -> list[OrganizationChoice]:
        return await self._run(organization_choices)

    async def request(
        self,
        details: Details,
        origin: Origin,
        *,
        auto_submitted: str = "auto-generated",
        places: list[Place] | None = None,
    ) -> None:
        """Start a double opt-in; an address that is already active is told so instead: same page for both.
        `places` (the web form's countries and regions) travel in the link and are saved on confirming."""
        now = self._clock()

        def work(session: Session) -> Requested:
            return lifecycle.request_subscription(session, details, origin, now=now)

        try:
            requested = await self._run(work)
        except IntegrityError:  # the same new address, asked for twice at the same moment: go again
            requested = await self._run(work)
        await self.notices.send([self._answer(details, requested, auto_submitted, places)])

    def _answer(
        self, details: Details, requested: Requested, auto_submitted: str, places: list[Place] | None
    ) -> Notice:
        if requested.outcome == RequestOutcome.ACTIVE:
            links = self.links.for_subscriber(requested.subscriber_id, requested.language)
            values = {"preferences_url": links.preferences_url, "unsubscribe_url": links.unsubscribe_url}
            return Notice(
                NoticeKind.ALREADY_SUBSCRIBED, details.email, requested.language, values, auto_submitted
            )
        return self._confirm_notice(details, auto_submitted, places)

    def _confirm_notice(
        self, details: Details, auto_submitted: str = "auto-generated", places: list[Place] | None = None
    ) -> Notice:
        language = details.preferences.language
        payload = details.to_payload()
        if places is not None:  # a roster's confirmation links carry none: confirming keeps the roster's
            payload[_PLACES] = " ".join(place.country_code or place.area_code for place in places)
        values: dict[str, str | int] = {
            "url": self.links.confirmation_url(payload, language),
            "days": self.options.pending_lifetime.days,
        }
        return Notice(NoticeKind.CONFIRM, details.email, language, values, auto_submitted)

    def read_confirmation(self, token: str) -> tuple[Details, datetime]:
        """The details a confirmation link carries and when it was signed; InvalidToken when it is bad."""
        payload, signed_at = self._tokens.verify_issued(
            CONFIRM_TOKEN, token, max_age=self.options.pending_lifetime
        )
        return Details.from_payload(payload), signed_at

    def confirmation_places(self, token: str) -> list[Place] | None:
        """The places a confirmation link carries; None for a link that carries none (a roster's)."""
        payload, _ = self._tokens.verify_issued(CONFIRM_TOKEN, token, max_age=self.options.pending_lifetime)
        codes = payload.get(_PLACES) if isinstance(payload, dict) else None
        if not isinstance(codes, str):
            return None
        # A code the table no longer knows (changed since the link was sent) is left out.
        return [place for code in codes.split() if (place := find(code)) is not None]

    async def confirm(self, token: str, origin: Origin) -> Confirmed:
        details, signed_at = self.read_confirmation(token)
        places = self.confirmation_places(token)
        now = self._clock()

        def work(session: Session) -> Confirmed:
            confirmed = lifecycle.confirm_subscription(session, details, origin, signed_at=signed_at, now=now)
            if places is not None and not confirmed.already:
                subscriber = session.get(Subscriber, confirmed.subscriber_id)
                assert subscriber is not None  # just confirmed, in this transaction
                subscriber_places.replace_places(session, subscriber, places, origin, now=now)
            return confirmed

        return await self._run(work)

    def subscriber_token(self, subscriber_id: int) -> str:
        """The token of a subscriber's own preference and unsubscribe pages."""
        return self._tokens.sign(SUBSCRIBER_TOKEN, subscriber_id)

    def subscriber_id(self, token: str) -> int:
        """The subscriber a link in an issue is for; InvalidToken when it is bad, expired or not ours."""
        payload = self._tokens.verify(SUBSCRIBER_TOKEN, token, max_age=SUBSCRIBER_TOKEN_LIFETIME)
        if not isinstance(payload, int) or isinstance(payload, bool):
            raise InvalidToken("this link is not valid")
        return payload

    async def subscriber(self, subscriber_id: int) -> SubscriberView:
        return await self._run(lambda session: lifecycle.subscriber_view(session, subscriber_id))

    async def unsubscribe(self, subscriber_id: int, origin: Origin) -> SubscriberView:
        now = self._clock()
        return await self._run(lambda session: lifecycle.unsubscribe(session, subscriber_id, origin, now=now))

    async def places(self, subscriber_id: int) -> list[Place]:
        return await self._run(lambda session: subscriber_places.places_of(session, subscriber_id))

    async def change_preferences(
        self,
        subscriber_id: int,
        preferences: Preferences,
        origin: Origin,
        *,
        places: list[Place] | None = None,
    ) -> SubscriberView:
        """Change the preferences and, when given, the places, in one transaction."""
        now = self._clock()

        def work(session: Session) -> SubscriberView:
            view = lifecycle.change_preferences(session, subscriber_id, preferences, origin, now=now)
            if places is not None:
                subscriber = session.get(Subscriber, subscriber_id)
                assert subscriber is not None  # lifecycle found it
                subscriber_places.replace_places(session, subscriber, places, origin, now=now)
            return view

        return await self._run(work)

    async def send_unsubscribe_link(self, email: str, *, auto_submitted: str = "auto-replied") -> bool:
        """Mail a subscribed address the link to its unsubscribe page; False (and no mail) for others."""

        def find(session: Session) -> SubscriberView | None:
            found = lifecycle.find_subscriber(session, email)
            return found if found and found.status != SubscriberStatus.UNSUBSCRIBED else None

        found = await self._run(find)
        if found is None:
            return False
        language = found.preferences.language
        links = self.links.for_subscriber(found.id, language)
        notice = Notice(
            NoticeKind.UNSUBSCRIBE_LINK,
            found.email,
            language,
            {"unsubscribe_url": links.unsubscribe_url, "preferences_url": links.preferences_url},
            auto_submitted,
        )
        await self.notices.send([notice])
        return True

    async def purge_expired(self) -> list[str]:
        now, lifetime = self._clock(), self.options.pending_lifetime
        return await self._run(lambda session: lifecycle.purge_expired(session, now=now, lifetime=lifetime))
