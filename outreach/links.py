"""The personal links in every message, as the engine asks for them; `subscribers` signs them."""

from __future__ import annotations

__all__ = ["PersonalLinks", "SubscriberLinks"]

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SubscriberLinks:
    unsubscribe_url: str
    unsubscribe_mailto: str
    preferences_url: str


class PersonalLinks(Protocol):
    """Makes the signed links of one subscriber; the composition root passes the implementation in."""

    def for_subscriber(self, subscriber_id: int, language: str) -> SubscriberLinks: ...
