"""Signed links' tokens: a subscriber's number is signed the quick way, into the token itsdangerous makes."""

from __future__ import annotations

import time
from datetime import timedelta

from hypothesis import example, given
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer

from outreach.config import Secret
from subscribers.tokens import InvalidToken, Tokens

KEY = "a-secret-key-long-enough-for-tests-0123456789"
TOKENS = Tokens(Secret(KEY))
REFERENCE = URLSafeTimedSerializer(KEY, salt="outreach.subscriber")  # what every link was signed with
DAY = timedelta(days=1)


def _both_ways(number: int) -> tuple[str, str]:
    """The quick token and itsdangerous's own, signed within one second (the token carries the second)."""
    while True:
        second = int(time.time())
        quick = TOKENS.sign("subscriber", number)
        reference = str(REFERENCE.dumps(number))
        if int(time.time()) == second:
            return quick, reference


@given(st.integers(min_value=-(10**12), max_value=10**12))
@example(0)
@example(999_999_999)  # the longest number signed the quick way
@example(1_111_111_111)  # one digit more: itsdangerous compresses it, and so does the slow way
@example(-99_999_999)
def test_a_number_is_signed_into_the_token_itsdangerous_makes(number: int) -> None:
    quick, reference = _both_ways(number)

    assert quick == reference


def test_a_quick_token_verifies_and_stays_tied_to_its_purpose_and_key() -> None:
    token = TOKENS.sign("subscriber", 4242)

    assert TOKENS.verify("subscriber", token, max_age=DAY) == 4242
    for purpose, tokens in [("confirm", TOKENS), ("subscriber", Tokens(Secret("another-key-" * 4)))]:
        try:
            tokens.verify(purpose, token, max_age=DAY)
        except InvalidToken:
            continue
        raise AssertionError(f"a token verified for {purpose} with the wrong purpose or key")
