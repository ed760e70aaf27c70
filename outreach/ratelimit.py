"""Rate limits per relay (messages per second and a sliding one-hour cap) and per recipient domain."""

from __future__ import annotations

__all__ = ["RateLimits", "SlidingWindow"]

import asyncio
import time
from collections import deque
from collections.abc import Callable

from aiolimiter import AsyncLimiter


class SlidingWindow:
    """At most `limit` acquisitions in any `period` seconds, counted exactly (a deque of times)."""

    def __init__(self, limit: int, period: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.period = period
        self._clock = clock
        self._times: deque[float] = deque()

    def wait_time(self) -> float:
        now = self._clock()
        while self._times and self._times[0] <= now - self.period:
            self._times.popleft()
        if len(self._times) < self.limit:
            return 0.0
        return self._times[0] + self.period - now

    async def acquire(self) -> None:
        while (delay := self.wait_time()) > 0:
            await asyncio.sleep(delay)
        self._times.append(self._clock())


class RateLimits:
    """The limits one message passes before it is sent: its relay's, then its recipient domain's."""

    def __init__(self, *, rate: float | None, per_hour: int | None, domain_rates: dict[str, float]) -> None:
        self._rate = AsyncLimiter(rate, 1.0) if rate else None
        self._hourly = SlidingWindow(per_hour, 3600.0) if per_hour else None
        self._domains = {domain: AsyncLimiter(limit, 1.0) for domain, limit in domain_rates.items()}

    async def acquire(self, recipient: str) -> None:
        domain = self._domains.get(recipient.rpartition("@")[2])
        if domain is not None:
            await domain.acquire()
        if self._rate is not None:
            await self._rate.acquire()
        if self._hourly is not None:
            await self._hourly.acquire()
