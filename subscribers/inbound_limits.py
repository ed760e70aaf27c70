"""How many mails the inbound endpoint may send in answer: per connecting peer and in all, per hour.

Anyone can put any address in From, so every answer (a confirmation link, an "already subscribed" note, an
unsubscribe link) may go to a stranger: these limits keep the endpoint from being a cannon aimed at them.
Beyond a limit the mail is answered with a 4xx, so a real MTA tries again later; nothing is sent or stored.
The counts live where the web's rate limits live (OUTREACH_RATELIMIT_STORAGE), shared by every process there.
"""

from __future__ import annotations

__all__ = ["ReplyLimits", "peer_key"]

import ipaddress

from limits import RateLimitItemPerHour
from limits.aio.strategies import MovingWindowRateLimiter

from subscribers.ratelimit import async_storage
from subscribers.settings import SubscriptionSettings

_NAMESPACE = "outreach-inbound-replies"


def peer_key(host: str) -> str:
    """The key a peer is counted under: its IPv4 address, or its IPv6 /64 (one site's whole allocation)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # not an IP (a Unix socket, a test's name): counted as it is
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class ReplyLimits:
    """`refusal(peer)` counts one answer to be sent and says why it may not be, or None when it may."""

    def __init__(self, options: SubscriptionSettings) -> None:
        self._limiter = MovingWindowRateLimiter(async_storage(options.ratelimit_storage))
        self._per_peer = RateLimitItemPerHour(options.inbound_confirmations_per_peer_hour)
        self._in_all = RateLimitItemPerHour(options.inbound_confirmations_per_hour)

    async def refusal(self, peer: str) -> str | None:
        key = peer_key(peer)
        # The peer's own window first: a flood from one peer fills its window, not everyone's.
        if not await self._limiter.hit(self._per_peer, _NAMESPACE, "peer", key):
            return f"450 4.7.1 too many requests from {key}; please try again later"
        if not await self._limiter.hit(self._in_all, _NAMESPACE, "all"):
            return "451 4.7.1 too many requests just now; please try again later"
        return None
