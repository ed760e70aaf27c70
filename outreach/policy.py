"""The one place that decides what an SMTP reply means for a recipient: sent, retry later, or give up.

Replies are read by their basic code (RFC 5321) and, for permanent ones, by the enhanced status code that
starts their text (RFC 3463, e.g. "550 5.1.1 <a@example.jp>: user unknown"); an enhanced code whose class
differs from the basic code's first digit is ignored.

=====================================  ==========  ======  ================================================
reply                                  status      bounce  meaning
=====================================  ==========  ======  ================================================
250 after the final dot                SENT        -       the server took the message
4xx, a dropped connection (None)       DEFERRED    -       temporary: retried with exponential backoff ...
any code a stage does not expect       DEFERRED    -       ... e.g. 252 to RCPT; FAILED after the deadline
5.1.x (not 5.1.7, 5.1.8), 5.2.1        BOUNCED     HARD    no such address, or the mailbox is disabled
5.2.2                                  FAILED      SOFT    mailbox full: counts toward the bounce limit
5.7.x, 5.3.4, 5.6.x                    FAILED      -       policy, security, spam, too big, content:
                                                           counts toward the send's auto-pause
5xx to MAIL, 5.1.7, 5.1.8              FAILED      -       the server refuses our sender, not the address
any other 5xx, with or without a code  FAILED      SOFT    permanent for this message: toward the limit
=====================================  ==========  ======  ================================================
"""

from __future__ import annotations

__all__ = ["Bounce", "Decision", "RetryPolicy", "enhanced_code"]

import enum
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from outreach.models import DeliveryStatus
from outreach.smtp import END_OF_DATA, SmtpReply

_ENHANCED = re.compile(r"[245]\.(?:0|[1-9][0-9]{0,2})\.(?:0|[1-9][0-9]{0,2})")  # RFC 3463 section 2
_SENDER_CODES = frozenset({"5.1.7", "5.1.8"})  # bad sender address: not the subscriber's fault
_POLICY_SUBJECTS = ("5.7.", "5.6.")  # security or policy; media (content)


class Bounce(enum.StrEnum):
    HARD = "hard"  # the address does not exist or is disabled: the subscriber is bounced at once
    SOFT = "soft"  # e.g. 5.2.2 mailbox full: counts toward OUTREACH_BOUNCE_LIMIT


@dataclass(frozen=True)
class Decision:
    status: DeliveryStatus  # SENT, DEFERRED, FAILED or BOUNCED
    retry_at: datetime | None = None
    bounce: Bounce | None = None  # what the refusal says about the subscriber's address, if anything
    reason: str = ""  # short, for people: "hard bounce 5.1.1", "temporary 4.2.0", …


def enhanced_code(text: str) -> str | None:
    """The enhanced status code that starts a reply's text ("5.1.1 user unknown" -> "5.1.1"), else None."""
    words = text.split(maxsplit=1)
    if words and _ENHANCED.fullmatch(words[0]):
        return words[0]
    return None


def _matching_code(reply: SmtpReply) -> str | None:
    """The reply's enhanced code when its class agrees with the basic code (RFC 3463: it must)."""
    code = enhanced_code(reply.text)
    return code if code is not None and code[0] == str(reply.code)[0] else None


def _permanent(reply: SmtpReply) -> Decision:
    """A 5xx reply: whose fault it is decides whether the address, the send, or neither is counted."""
    code = _matching_code(reply)
    label = code or str(reply.code)
    if reply.stage == "MAIL" or code in _SENDER_CODES:
        return Decision(DeliveryStatus.FAILED, reason=f"sender refused {label}")
    if code is not None and (code.startswith("5.1.") or code == "5.2.1"):
        return Decision(DeliveryStatus.BOUNCED, bounce=Bounce.HARD, reason=f"hard bounce {label}")
    if code is not None and (code.startswith(_POLICY_SUBJECTS) or code == "5.3.4"):
        return Decision(DeliveryStatus.FAILED, reason=f"policy refusal {label}")
    return Decision(DeliveryStatus.FAILED, bounce=Bounce.SOFT, reason=f"soft bounce {label}")


def _why_later(reply: SmtpReply | None) -> str:
    if reply is None:
        return "connection lost"
    if 400 <= reply.code < 500:
        return f"temporary {_matching_code(reply) or reply.code}"
    return f"unexpected {reply.code} to {reply.stage}"


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} h"


_SENT = Decision(DeliveryStatus.SENT, reason="sent")


@dataclass(frozen=True)
class RetryPolicy:
    """250 sent; 4xx, drops and surprises retried with backoff until a deadline; 5xx read by RFC 3463."""

    first: timedelta = timedelta(minutes=5)
    longest: timedelta = timedelta(hours=6)
    deadline: timedelta = timedelta(hours=72)

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the given number of attempts: first, 2 x first, 4 x first, … at most `longest`."""
        delay = self.first
        for _ in range(attempts - 1):  # doubling step by step: `first * 2**attempts` overflows timedelta
            if delay >= self.longest or not delay:
                break
            delay *= 2
        return min(delay, self.longest)

    def decide(
        self, reply: SmtpReply | None, *, attempts: int, queued_at: datetime, now: datetime
    ) -> Decision:
        """`reply` None: the connection dropped with the message in flight. `attempts` counts this one."""
        if reply is not None and reply.code == 250 and reply.stage == END_OF_DATA:
            return _SENT
        if reply is not None and 500 <= reply.code < 600:
            return _permanent(reply)
        reason = _why_later(reply)
        retry_at = now + self.backoff(attempts)
        if retry_at > queued_at + self.deadline:
            return Decision(
                DeliveryStatus.FAILED, reason=f"gave up after the {_hours(self.deadline)} deadline: {reason}"
            )
        return Decision(DeliveryStatus.DEFERRED, retry_at=retry_at, reason=reason)
