"""What an SMTP reply means for a recipient, and the rate limits' accounting (with a controlled clock)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from outreach.models import DeliveryStatus
from outreach.policy import Bounce, Decision, RetryPolicy, enhanced_code
from outreach.ratelimit import SlidingWindow
from outreach.smtp import SmtpReply, dot_stuff

NOW = datetime(2026, 12, 1, tzinfo=UTC)
POLICY = RetryPolicy(first=timedelta(minutes=5), longest=timedelta(hours=1), deadline=timedelta(hours=24))


def test_backoff_doubles_up_to_the_longest_wait() -> None:
    waits = [POLICY.backoff(attempts) for attempts in range(1, 8)]
    assert waits == [timedelta(minutes=minutes) for minutes in (5, 10, 20, 40, 60, 60, 60)]


DEFERRED, FAILED, BOUNCED, SENT = (
    DeliveryStatus.DEFERRED,
    DeliveryStatus.FAILED,
    DeliveryStatus.BOUNCED,
    DeliveryStatus.SENT,
)


@pytest.mark.parametrize(
    ("reply", "status", "bounce", "reason"),
    [
        (SmtpReply(250, "2.0.0 Ok: queued"), SENT, None, "sent"),
        (SmtpReply(550, "5.1.1 <a@example.jp>: unknown", "RCPT"), BOUNCED, Bounce.HARD, "hard bounce 5.1.1"),
        (SmtpReply(550, "5.1.10 null MX", "RCPT"), BOUNCED, Bounce.HARD, "hard bounce 5.1.10"),
        (SmtpReply(550, "5.2.1 mailbox disabled"), BOUNCED, Bounce.HARD, "hard bounce 5.2.1"),
        (SmtpReply(552, "5.2.2 mailbox full", "RCPT"), FAILED, Bounce.SOFT, "soft bounce 5.2.2"),
        (SmtpReply(452, "4.2.2 mailbox full, try later", "RCPT"), DEFERRED, None, "temporary 4.2.2"),
        (SmtpReply(550, "5.7.1 rejected by policy", "RCPT"), FAILED, None, "policy refusal 5.7.1"),
        (SmtpReply(550, "5.7.26 unauthenticated mail is prohibited"), FAILED, None, "policy refusal 5.7.26"),
        (SmtpReply(552, "5.3.4 message too big for system"), FAILED, None, "policy refusal 5.3.4"),
        (SmtpReply(554, "5.6.0 content rejected"), FAILED, None, "policy refusal 5.6.0"),
        (SmtpReply(554, "5.4.4 unable to route"), FAILED, Bounce.SOFT, "soft bounce 5.4.4"),
        (SmtpReply(550, "user unknown", "RCPT"), FAILED, Bounce.SOFT, "soft bounce 550"),
        (SmtpReply(554, "4.1.1 mismatched class", "RCPT"), FAILED, Bounce.SOFT, "soft bounce 554"),
        (SmtpReply(553, "5.1.8 bad sender domain", "MAIL"), FAILED, None, "sender refused 5.1.8"),
        (SmtpReply(550, "5.1.1 sender unknown", "MAIL"), FAILED, None, "sender refused 5.1.1"),
        (SmtpReply(252, "2.1.5 cannot verify", "RCPT"), DEFERRED, None, "unexpected 252 to RCPT"),
        (SmtpReply(250, "2.1.5 ok", "RCPT"), DEFERRED, None, "unexpected 250 to RCPT"),
        (SmtpReply(251, "2.0.0 forwarded"), DEFERRED, None, "unexpected 251 to end-of-data"),
        (SmtpReply(354, "go ahead"), DEFERRED, None, "unexpected 354 to end-of-data"),
        (SmtpReply(421, "4.3.2 shutting down"), DEFERRED, None, "temporary 4.3.2"),
        (SmtpReply(451, "try later"), DEFERRED, None, "temporary 451"),
        (None, DEFERRED, None, "connection lost"),
    ],
)
def test_one_place_maps_replies_to_states(
    reply: SmtpReply | None, status: DeliveryStatus, bounce: Bounce | None, reason: str
) -> None:
    decision = POLICY.decide(reply, attempts=1, queued_at=NOW, now=NOW)
    assert (decision.status, decision.bounce, decision.reason) == (status, bounce, reason)
    assert decision.retry_at == (NOW + POLICY.first if status == DEFERRED else None)


def test_a_temporary_failure_past_the_deadline_is_final() -> None:
    late = NOW + timedelta(hours=23, minutes=30)
    decision = POLICY.decide(SmtpReply(451, "4.7.1 later"), attempts=6, queued_at=NOW, now=late)
    assert decision == Decision(FAILED, reason="gave up after the 24 h deadline: temporary 4.7.1")


def test_a_temporary_failure_within_the_deadline_waits_the_backoff() -> None:
    decision = POLICY.decide(None, attempts=3, queued_at=NOW, now=NOW + timedelta(hours=1))
    assert decision.retry_at == NOW + timedelta(hours=1, minutes=20)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("5.1.1 <a@example.jp>: user unknown", "5.1.1"),
        ("4.7.26\nsecond line", "4.7.26"),
        ("  5.2.2 leading spaces", "5.2.2"),
        ("5.1.1: with a colon", None),
        ("6.1.1 no such class", None),
        ("5.01.1 leading zero", None),
        ("5.1.1000 four digits", None),
        ("user unknown 5.1.1", None),
        ("", None),
        ("5.1.\u0661 arabic digit", None),
    ],
)
def test_the_enhanced_code_is_the_first_word_in_rfc_3463_form(text: str, code: str | None) -> None:
    assert enhanced_code(text) == code


@examples(max_examples=300, deadline=None)
@given(
    code=st.integers(0, 999),
    text=st.one_of(
        st.text(),
        st.builds(
            "{}.{}.{} {}".format, st.integers(0, 9), st.integers(0, 999), st.integers(0, 999), st.text()
        ),
    ),
    stage=st.sampled_from(["MAIL", "RCPT", "DATA", "end-of-data", "RSET"]),
    attempts=st.integers(0, 10_000),
)
def test_every_reply_gets_a_decision_and_only_250_after_the_data_is_sent(
    code: int, text: str, stage: str, attempts: int
) -> None:
    decision = POLICY.decide(SmtpReply(code, text, stage), attempts=attempts, queued_at=NOW, now=NOW)
    assert (decision.status == SENT) == (code == 250 and stage == "end-of-data")
    assert (decision.status == BOUNCED) == (decision.bounce == Bounce.HARD)
    assert (decision.retry_at is not None) == (decision.status == DEFERRED)
    assert decision.reason


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
