"""VERP addresses and Message-IDs: they name their delivery, survive a change of case, cannot be forged, and
reveal nothing countable."""

from __future__ import annotations

import base64
import itertools

from hypothesis import given
from hypothesis import strategies as st

from outreach.secret import Secret
from outreach.verp import Verp
from subscribers.tokens import LARGEST_ID

KEY = Secret("test-secret-key-0123456789-long-enough-for-prod")
OTHER_KEY = Secret("another-key-0123456789-long-enough-for-prod")
VERP = Verp(KEY, "Example.JP")


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_an_address_names_its_delivery_whatever_the_case(delivery_id: int) -> None:
    address = VERP.address(delivery_id)
    local, _, domain = address.partition("@")
    assert domain == "example.jp"
    assert local.startswith("bounces+")
    assert len(local) <= 64  # RFC 5321
    assert VERP.delivery_id(address) == delivery_id
    assert VERP.delivery_id(address.upper()) == delivery_id
    assert VERP.delivery_id(f"<{address}>") == delivery_id
    assert VERP.is_ours(address)


def _common_prefix(first: str, second: str) -> int:
    return next((i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b), len(first))


def test_consecutive_deliveries_share_nothing_countable() -> None:
    codes = [VERP.address(n).partition("+")[2].partition(".")[0] for n in range(1, 65)]
    ids = [VERP.message_id(n, "2026-12-01T00:00:00+00:00", "example.jp") for n in range(1, 65)]
    for values in (codes, ids):
        assert len(set(values)) == 64
        # Unrelated: consecutive ids share no more leading characters than chance would give.
        shared = [_common_prefix(a, b) for a, b in itertools.pairwise(values)]
        assert sum(shared) / len(shared) < 1.5
    plain = base64.b32encode((1).to_bytes(8, "big")).decode().rstrip("=").lower()
    assert codes[0] != plain


def test_a_message_id_is_stable_for_a_delivery_and_new_after_a_reset_or_elsewhere() -> None:
    created = "2026-12-01T00:00:00+00:00"
    first = VERP.message_id(42, created, "example.jp")
    assert first == VERP.message_id(42, created, "example.jp")  # a resend
    assert first != VERP.message_id(42, "2026-12-02T00:00:00+00:00", "example.jp")  # a reset database
    elsewhere = Verp(OTHER_KEY, "example.jp")
    assert first != elsewhere.message_id(42, created, "example.jp")  # another installation
    assert first.startswith("<")
    assert first.endswith("@example.jp>")


def test_a_forged_or_altered_address_names_nothing() -> None:
    address = VERP.address(42)
    token = address.partition("@")[0].partition("+")[2]
    code, _, signature = token.partition(".")
    neighbour = VERP.address(43).partition("+")[2].partition(".")[0]
    forged = [
        Verp(OTHER_KEY, "example.jp").address(42),
        f"bounces+{code}@example.jp",
        f"bounces+{code}.{signature[:-1]}@example.jp",
        f"bounces+{code}.{'a' * 16}@example.jp",
        f"bounces+{neighbour}.{signature}@example.jp",
        f"bounces+{code[:-1]}{'b' if code[-1] != 'b' else 'c'}.{signature}@example.jp",
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
    assert VERP.delivery_id(VERP.address(LARGEST_ID)) == LARGEST_ID
