"""The connection pool of a worker: lanes spread over the relays by weight, each with its relay's limits."""

from __future__ import annotations

__all__ = ["Lane", "lanes_for"]

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from outreach.config import Settings, SmtpRelay, SmtpTimeouts
from outreach.errors import RelayUnavailable
from outreach.mailer import FileMailer, Mailer
from outreach.ratelimit import RateLimits
from outreach.smtp import SmtpConnection


@dataclass(frozen=True)
class Lane:
    """One connection slot of the pool: how to open its mailer, and the limits its messages pass."""

    open_mailer: Callable[[], Mailer]
    limits: RateLimits


def _relay_order(relays: tuple[SmtpRelay, ...], slot: int) -> list[SmtpRelay]:
    """The relay for a connection slot, by weight, then the others in order as failover."""
    weighted = [relay for relay in relays for _ in range(relay.weight)]
    first = weighted[slot % len(weighted)]
    return [first, *[relay for relay in relays if relay is not first]]


class _FailoverConnection(SmtpConnection):
    """An SMTP connection that, when its relay cannot be reached, opens the next one instead."""

    def __init__(self, relays: list[SmtpRelay], *, timeouts: SmtpTimeouts) -> None:
        super().__init__(relays[0], timeouts=timeouts)
        self._relays = relays

    async def open(self) -> None:
        errors: list[str] = []
        for relay in self._relays:
            self.relay = relay
            try:
                await super().open()
            except RelayUnavailable as exc:
                errors.append(str(exc))
                continue
            return
        raise RelayUnavailable("; ".join(errors))


def lanes_for(settings: Settings) -> list[Lane]:
    """The connection pool the settings describe: the local outbox, or N connections over the relays."""
    if not settings.relays:
        folder = settings.outbox_dir
        return [Lane(lambda: FileMailer(folder), RateLimits(rate=None, per_hour=None, domain_rates={}))]
    limits = {
        id(relay): RateLimits(rate=relay.rate, per_hour=relay.per_hour, domain_rates={})
        for relay in settings.relays
    }
    lanes = []
    for slot in range(settings.delivery.connections):
        order = _relay_order(settings.relays, slot)
        open_mailer = partial(_FailoverConnection, order, timeouts=settings.delivery.timeouts)
        lanes.append(Lane(open_mailer, limits[id(order[0])]))
    return lanes
