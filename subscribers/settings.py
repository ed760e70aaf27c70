"""The subscription side's own settings, read and validated by outreach's one settings reader."""

from __future__ import annotations

__all__ = ["SubscriptionSettings", "load_subscription_settings"]

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from limits import parse_many
from pydantic import Field, field_validator

from outreach.config import EnvironmentModel, Settings, read_environment, whole_number

_RATE = "a rate limit like '20/hour' or '3/minute;20/day'"


@dataclass(frozen=True)
class SubscriptionSettings:
    """Lifetimes, rate limits and the inbound mail endpoint. Build it with `load_subscription_settings`."""

    pending_lifetime: timedelta = timedelta(days=7)
    ratelimit_storage: str = "memory://"
    ratelimit_per_ip: str = "20/hour"
    ratelimit_per_address: str = "3/hour"
    inbound_domain: str = "anzen-network.example.jp"
    inbound_max_bytes: int = 256 * 1024
    # Mails the inbound endpoint sends in answer (confirmations, unsubscribe links), per hour.
    inbound_confirmations_per_peer_hour: int = 20
    inbound_confirmations_per_hour: int = 200

    @property
    def subscribe_address(self) -> str:
        return f"subscribe@{self.inbound_domain}"

    @property
    def unsubscribe_address(self) -> str:
        return f"unsubscribe@{self.inbound_domain}"


class _Environment(EnvironmentModel):
    """OUTREACH_PENDING_DAYS, OUTREACH_RATELIMIT_* and OUTREACH_INBOUND_*; None: derived from `Settings`."""

    pending_days: int = whole_number(7, 1, 365, of="days")
    # A Redis URL may carry a password: never shown in an error.
    ratelimit_storage: str = Field("memory://", repr=False, description="a `limits` storage URL")
    ratelimit_per_ip: str = Field("20/hour", description=_RATE)
    ratelimit_per_address: str = Field("3/hour", description=_RATE)
    inbound_domain: str | None = None
    inbound_max_bytes: int = whole_number(256 * 1024, 1024, 100 * 1024 * 1024, of="bytes")
    inbound_confirmations_per_peer_hour: int = whole_number(20, 1, 100_000, of="mails")
    inbound_confirmations_per_hour: int = whole_number(200, 1, 1_000_000, of="mails")

    @field_validator("ratelimit_per_ip", "ratelimit_per_address")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        parse_many(value)  # its ValueError becomes the variable's one-line message
        return value


def load_subscription_settings(
    settings: Settings, environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> SubscriptionSettings:
    """Read OUTREACH_PENDING_DAYS, OUTREACH_RATELIMIT_* and OUTREACH_INBOUND_*; the environment wins."""
    env = read_environment(_Environment, environ, env_file=env_file)
    mailto_domain = settings.unsubscribe_mailto.rpartition("@")[2]
    return SubscriptionSettings(
        pending_lifetime=timedelta(days=env.pending_days),
        ratelimit_storage=env.ratelimit_storage,
        ratelimit_per_ip=env.ratelimit_per_ip,
        ratelimit_per_address=env.ratelimit_per_address,
        inbound_domain=(env.inbound_domain or mailto_domain).lower(),
        inbound_max_bytes=env.inbound_max_bytes,
        inbound_confirmations_per_peer_hour=env.inbound_confirmations_per_peer_hour,
        inbound_confirmations_per_hour=env.inbound_confirmations_per_hour,
    )
