"""Signed links in mail: a subscriber's unsubscribe and preference pages, and subscription confirmations."""

from __future__ import annotations

__all__ = ["CONFIRM_TOKEN", "SUBSCRIBER_TOKEN", "SUBSCRIBER_TOKEN_LIFETIME", "SignedLinks"]

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from outreach.config import Settings
from outreach.links import SubscriberLinks
from subscribers.tokens import Tokens

SUBSCRIBER_TOKEN = "subscriber"  # noqa: S105 (a token purpose, not a password)
# An issue's links keep working for more than a year: an old mail must still let its reader leave.
SUBSCRIBER_TOKEN_LIFETIME = timedelta(days=400)
# A confirmation link carries what the person asked for; it lives as long as a pending subscription.
CONFIRM_TOKEN = "confirm"  # noqa: S105 (a token purpose, not a password)


class SignedLinks:
    """One token per subscriber serves both the unsubscribe and the preferences link."""

    def __init__(self, settings: Settings) -> None:
        self._tokens = Tokens(settings.secret_key)
        self._base = settings.base_url
        self._mailto_prefix = f"mailto:{settings.unsubscribe_mailto}?subject={quote('unsubscribe ')}"

    def for_subscriber(self, subscriber_id: int, language: str) -> SubscriberLinks:
        token = self._tokens.sign(SUBSCRIBER_TOKEN, subscriber_id)
        prefix = _prefix(language)
        return SubscriberLinks(
            unsubscribe_url=f"{self._base}{prefix}/unsubscribe/{token}",
            # A token is URL-safe base64 and dots, which quote() leaves as they are: quoted once.
            unsubscribe_mailto=f"{self._mailto_prefix}{token}",
            preferences_url=f"{self._base}{prefix}/preferences/{token}",
        )

    def confirmation_url(self, details: Any, language: str) -> str:
        """The link that confirms a subscription with the details (a JSON-able payload) it carries."""
        return f"{self._base}{_prefix(language)}/confirm/{self._tokens.sign(CONFIRM_TOKEN, details)}"


def _prefix(language: str) -> str:
    return "" if language == "ja" else f"/{language}"
