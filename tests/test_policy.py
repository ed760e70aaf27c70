"""What an SMTP reply means for a recipient, and the rate limits' accounting (with a controlled clock)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from outreach.models import DeliveryStatus
from outreach.policy import RetryPolicy
from outreach.ratelimit import SlidingWindow
from outreach.smtp import SmtpReply, dot_stuff

NOW = datetime(2026, 12, 1, tzinfo=UTC)
POLICY = RetryPolicy(first=timedelta(minutes=5), longest=timedelta(hours=1), deadline=timedelta(hours=24))


def test_backoff_doubles_up_to_the_longest_wait() -> None:
    waits = [POLICY.backoff(attempts) for attempts in range(1, 8)]
    assert waits == [timedelta(minutes=minutes) for minutes in (5, 10, 20, 40, 60, 60, 60)]


@pytest.mark.parametrize(
    ("code", "status", "bounce"),
    [
        (250, DeliveryStatus.SENT, False),
        (251, DeliveryStatus.SENT, False),
        (421, DeliveryStatus.DEFERRED, False),
        (451, DeliveryStatus.DEFERRED, False),
        (550, DeliveryStatus.FAILED, True),
        (554, DeliveryStatus.FAILED, True),
        (None, DeliveryStatus.DEFERRED, False),
    ],
)
def test_one_place_maps_replies_to_states(code: int | None, status: DeliveryStatus, bounce: bool) -> None:
    reply = SmtpReply(code, "text") if code is not None else None
    decision = POLICY.decide(reply, attempts=1, queued_at=NOW, now=NOW)
    assert (decision.status, decision.bounce) == (status, bounce)
    assert (decision.retry_at is not None) == (status == DeliveryStatus.DEFERRED)


def test_a_temporary_failure_past_the_deadline_is_final() -> None:
    late = NOW + timedelta(hours=23, minutes=30)
    decision = POLICY.decide(SmtpReply(451, "later"), attempts=6, queued_at=NOW, now=late)
    assert decision.status == DeliveryStatus.FAILED


def test_the_sliding_window_counts_exactly() -> None:
    clock = [0.0]
    window = SlidingWindow(3, 60.0, clock=lambda: clock[0])
    for _ in range(3):
        asyncio.run(window.acquire())
    assert window.wait_time() == 60.0
    clock[0] = 59.0
    assert window.wait_time() == 1.0
    clock[0] = 60.0
    assert window.wait_time() == 0.0


def test_dot_stuffing_doubles_leading_dots_only() -> None:
    assert dot_stuff(b".a\r\nb.\r\n.\r\n..c\r\n") == b"..a\r\nb.\r\n..\r\n...c\r\n"
    assert dot_stuff(b"no dots\r\n") == b"no dots\r\n"
