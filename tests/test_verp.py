"""The VERP envelope sender: it names its delivery, survives a change of case, and cannot be forged."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from outreach.secret import Secret
from outreach.verp import Verp
from subscribers.tokens import LARGEST_ID

KEY = Secret("test-secret-key-0123456789-long-enough-for-prod")
VERP = Verp(KEY, "Example.JP")


@given(st.integers(min_value=1, max_value=LARGEST_ID))
def test_an_address_names_its_delivery_whatever_the_case(delivery_id: int) -> None:
    address = VERP.address(delivery_id)
    local, _, domain = address.partition("@")
    assert domain == "example.jp"
    assert local.startswith("bounces+")
    assert len(local) <= 32  # RFC 5321 allows 64
    assert VERP.delivery_id(address) == delivery_id
    assert VERP.delivery_id(address.upper()) == delivery_id
    assert VERP.delivery_id(f"<{address}>") == delivery_id
    assert VERP.is_ours(address)


def test_a_forged_or_altered_address_names_nothing() -> None:
    address = VERP.address(42)
    local, _, _ = address.partition("@")
    token = local.partition("+")[2]
    number, _, signature = token.partition(".")
    assert Verp(Secret("another-key-0123456789-long-enough-for-prod"), "example.jp").address(42) != address
    forged = [
        Verp(Secret("another-key-0123456789-long-enough-for-prod"), "example.jp").address(42),
        f"bounces+{number}@example.jp",
        f"bounces+{number}.{signature[:-1]}@example.jp",
        f"bounces+{number}.{'a' * 16}@example.jp",
        f"bounces+{int(number, 36) + 1:x}.{signature}@example.jp",
        f"bounces+{token}@other.example.jp",
        f"bounces+{token}",
        f"subscribe+{token}@example.jp",
        "",
        "@",
    ]
    for address in forged:
        assert VERP.delivery_id(address) is None, address


def test_the_bounce_mailbox_is_ours_with_or_without_a_token() -> None:
    assert VERP.is_ours("bounces@example.jp")
    assert VERP.is_ours("BOUNCES+anything@EXAMPLE.jp")
    assert not VERP.is_ours("bounces@other.example.jp")
    assert not VERP.is_ours("subscribe@example.jp")
    assert not VERP.is_ours("bouncesx@example.jp")
