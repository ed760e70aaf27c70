"""Rate limits on asking for subscriptions, per IP and per address, with the `limits` package.

In memory by default (per process); point OUTREACH_RATELIMIT_STORAGE at Redis to share the counts between
several uvicorn workers or hosts.
"""

from __future__ import annotations

__all__ = ["RateLimits", "async_storage"]

from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import ConfigurationError
from limits.storage import storage_from_string

from outreach.errors import InvalidInput
from subscribers.settings import SubscriptionSettings


def async_storage(uri: str) -> Storage:
    """`memory://` or `redis://host:6379` as written in the settings; the async variant of it."""
    name = uri if uri.startswith("async+") else f"async+{uri}"
    try:
        storage = storage_from_string(name)
    except ConfigurationError as error:
        raise InvalidInput(f"OUTREACH_RATELIMIT_STORAGE cannot be used: {error}") from None
    assert isinstance(storage, Storage)
    return storage


class RateLimits:
    """A moving window per IP and one per address; `allow_*` counts the attempt and says if it may go on."""

    def __init__(self, options: SubscriptionSettings) -> None:
        self._limiter = MovingWindowRateLimiter(async_storage(options.ratelimit_storage))
        self._per_ip = parse_many(options.ratelimit_per_ip)
        self._per_address = parse_many(options.ratelimit_per_address)

    async def allow_ip(self, ip: str) -> bool:
        return await self._allow(self._per_ip, "ip", ip)

    async def allow_address(self, address: str) -> bool:
        return await self._allow(self._per_address, "address", address)

    async def _allow(self, limits: list[RateLimitItem], kind: str, key: str) -> bool:
        allowed = True
        for limit in limits:  # every window counts the attempt, even once one of them is full
            allowed = await self._limiter.hit(limit, "outreach-subscribe", kind, key) and allowed
        return allowed
