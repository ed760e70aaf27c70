"""The one place that decides what an SMTP reply means for a recipient: sent, retry later, or give up."""

from __future__ import annotations

__all__ = ["Decision", "RetryPolicy"]

from dataclasses import dataclass
from datetime import datetime, timedelta

from outreach.mailer import SmtpReply
from outreach.models import DeliveryStatus


@dataclass(frozen=True)
class Decision:
    status: DeliveryStatus
    retry_at: datetime | None = None
    bounce: bool = False  # a permanent refusal that counts against the subscriber's address


@dataclass(frozen=True)
class RetryPolicy:
    """2xx sent; 4xx and dropped connections retried with exponential backoff until a deadline; 5xx failed."""

    first: timedelta = timedelta(minutes=5)
    longest: timedelta = timedelta(hours=6)
    deadline: timedelta = timedelta(hours=72)

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the given number of attempts: first, 2 x first, 4 x first, … at most `longest`."""
        delay: timedelta = self.first * (2 ** max(attempts - 1, 0))
        return min(delay, self.longest)

    def decide(
        self, reply: SmtpReply | None, *, attempts: int, queued_at: datetime, now: datetime
    ) -> Decision:
        """`reply` None: the connection dropped with the message in flight. `attempts` counts this one."""
        code = reply.code if reply is not None else None
        if code is not None and 200 <= code < 300:
            return Decision(DeliveryStatus.SENT)
        if code is not None and code >= 500:
            return Decision(DeliveryStatus.FAILED, bounce=True)
        if code is None or 400 <= code < 500:
            retry_at = now + self.backoff(attempts)
            if retry_at > queued_at + self.deadline:
                return Decision(DeliveryStatus.FAILED)
            return Decision(DeliveryStatus.DEFERRED, retry_at=retry_at)
        return Decision(DeliveryStatus.FAILED)
