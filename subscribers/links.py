"""Signed links to a subscriber's unsubscribe and preference pages, for List-Unsubscribe and footers."""

from __future__ import annotations

__all__ = ["SUBSCRIBER_TOKEN", "SUBSCRIBER_TOKEN_LIFETIME", "SignedLinks"]

from datetime import timedelta
from urllib.parse import quote

from outreach.config import Settings
from outreach.links import SubscriberLinks
from subscribers.tokens import Tokens

SUBSCRIBER_TOKEN = "subscriber"  # noqa: S105 (a token purpose, not a password)
# An issue's links keep working for more than a year: an old mail must still let its reader leave.
SUBSCRIBER_TOKEN_LIFETIME = timedelta(days=400)


class SignedLinks:
    """One token per subscriber serves both the unsubscribe and the preferences link."""

    def __init__(self, settings: Settings) -> None:
        self._tokens = Tokens(settings.secret_key)
        self._base = settings.base_url
        self._mailto = settings.unsubscribe_mailto

    def for_subscriber(self, subscriber_id: int, language: str) -> SubscriberLinks:
        token = self._tokens.sign(SUBSCRIBER_TOKEN, subscriber_id)
        prefix = "" if language == "ja" else f"/{language}"
        return SubscriberLinks(
            unsubscribe_url=f"{self._base}{prefix}/unsubscribe/{token}",
            unsubscribe_mailto=f"mailto:{self._mailto}?subject={quote('unsubscribe ' + token)}",
            preferences_url=f"{self._base}{prefix}/preferences/{token}",
        )
