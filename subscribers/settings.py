"""The subscription side's own settings, read like outreach's: environment, then `.env`, then defaults."""

from __future__ import annotations

__all__ = ["SubscriptionSettings", "load_subscription_settings"]

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from dotenv import dotenv_values
from limits import parse_many

from outreach.config import Settings
from outreach.errors import InvalidInput


@dataclass(frozen=True)
class SubscriptionSettings:
    """Lifetimes, rate limits and the inbound mail endpoint. Build it with `load_subscription_settings`."""

    pending_lifetime: timedelta = timedelta(days=7)
    ratelimit_storage: str = "memory://"
    ratelimit_per_ip: str = "20/hour"
    ratelimit_per_address: str = "3/hour"
    inbound_domain: str = "anzen-network.example.jp"
    inbound_max_bytes: int = 256 * 1024

    @property
    def subscribe_address(self) -> str:
        return f"subscribe@{self.inbound_domain}"

    @property
    def unsubscribe_address(self) -> str:
        return f"unsubscribe@{self.inbound_domain}"


def _positive_int(merged: Mapping[str, str | None], name: str, default: int) -> int:
    raw = merged.get(name) or str(default)
    if not raw.isdecimal() or int(raw) <= 0:
        raise InvalidInput(f"{name} must be a positive whole number; got {raw!r}")
    return int(raw)


def _rate(merged: Mapping[str, str | None], name: str, default: str) -> str:
    value = merged.get(name) or default
    try:
        parse_many(value)
    except ValueError:
        raise InvalidInput(f"{name} must look like '20/hour' or '3/minute;20/day'; got {value!r}") from None
    return value


def load_subscription_settings(
    settings: Settings, environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> SubscriptionSettings:
    """Read OUTREACH_PENDING_DAYS, OUTREACH_RATELIMIT_* and OUTREACH_INBOUND_*; the environment wins."""
    merged: dict[str, str | None] = {}
    if env_file is not None and env_file.is_file():
        merged.update(dotenv_values(env_file))
    merged.update(os.environ if environ is None else environ)
    mailto_domain = settings.unsubscribe_mailto.rpartition("@")[2]
    return SubscriptionSettings(
        pending_lifetime=timedelta(days=_positive_int(merged, "OUTREACH_PENDING_DAYS", 7)),
        ratelimit_storage=merged.get("OUTREACH_RATELIMIT_STORAGE") or "memory://",
        ratelimit_per_ip=_rate(merged, "OUTREACH_RATELIMIT_PER_IP", "20/hour"),
        ratelimit_per_address=_rate(merged, "OUTREACH_RATELIMIT_PER_ADDRESS", "3/hour"),
        inbound_domain=(merged.get("OUTREACH_INBOUND_DOMAIN") or mailto_domain).lower(),
        inbound_max_bytes=_positive_int(merged, "OUTREACH_INBOUND_MAX_BYTES", 256 * 1024),
    )
