"""What becomes of the entries the rules send at once: one alert issue for those waiting, then, as
OUTREACH_ALERTS says, its send started (auto), a draft and a mail to the staff on duty (approve), or nothing
(off: the entries are recorded only).

(A stub: the alert issue's part of issue 14 fills it in.)
"""

from __future__ import annotations

__all__ = ["Dispatched", "dispatch"]

from dataclasses import dataclass, field
from datetime import datetime

from outreach.alerts.settings import AlertSettings
from outreach.config import Settings
from outreach.db import Database


@dataclass
class Dispatched:
    """What a dispatch did: the alert issues it composed, and of those the ones whose send it started."""

    composed: list[int] = field(default_factory=list)  # issue numbers
    started: list[int] = field(
        default_factory=list
    )  # auto: being sent; a worker or the caller delivers them
    notified: list[str] = field(default_factory=list)  # approve: the staff addresses mailed a link
    recorded: int = 0  # entries left to nobody (off, or no subscriber's places match)

    def summary(self) -> str:
        return "nothing to send"


def dispatch(db: Database, site: Settings, alerts: AlertSettings, *, now: datetime, actor: str) -> Dispatched:
    """Compose the waiting immediate entries into one alert issue and act on it as `alerts.mode` says."""
    return Dispatched()
