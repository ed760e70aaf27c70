"""Tests for subscribers.addresses: one lowercase ASCII key per address, no header injection."""

from __future__ import annotations

import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from outreach.errors import InvalidInput
from subscribers.addresses import InvalidAddress, normalize_address


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Taro.Yamada@Example.CO.JP", "taro.yamada@example.co.jp"),
        ("  info@example.jp \u3000", "info@example.jp"),
        ("info@例え.jp", "info@xn--r8jz45g.jp"),
        ("INFO@XN--R8JZ45G.JP", "info@xn--r8jz45g.jp"),
        ("a+news@sub.example.com", "a+news@sub.example.com"),
    ],
)
def test_normalize_address(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "info.example.jp",
        "a..b@example.jp",
        "info@example..jp",
        "info@@example.jp",
        "a@b.jp\r\nBcc: x@y.jp",
        "a@b.jp\nBcc: x@y.jp",
        "a@b.jp\r\n",
        "\na@b.jp",
        "a@b.jp\x00",
        "a\t@b.jp",
        "山田@example.jp",
        "Taro <taro@example.jp>",
        "x" * 250 + "@b.jp",
    ],
)
def test_invalid_addresses_are_refused(raw: str) -> None:
    with pytest.raises(InvalidAddress) as caught:
        normalize_address(raw)
    assert caught.value.address == raw
    assert repr(raw) in str(caught.value)


def test_invalid_address_is_invalid_input_with_reason() -> None:
    with pytest.raises(InvalidInput, match=r"'a\.\.b@example\.jp'.*period") as caught:
        normalize_address("a..b@example.jp")
    assert isinstance(caught.value, ValueError)


def test_control_characters_show_in_the_message() -> None:
    with pytest.raises(InvalidAddress) as caught:
        normalize_address("a@b.jp\r\nBcc: x@y.jp")
    assert "\\r\\n" in str(caught.value)
    assert "\r" not in str(caught.value)


@given(st.text(), st.sampled_from(["\r", "\n", "\r\n"]), st.text())
def test_any_line_break_is_refused(before: str, line_break: str, after: str) -> None:
    with pytest.raises(InvalidAddress):
        normalize_address(before + line_break + after)


_ATOM = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~",
    min_size=1,
    max_size=20,
)


@given(st.one_of(st.emails(), st.builds("{}@{}".format, _ATOM, st.sampled_from(["例え.jp", "Example.COM"]))))
def test_normalisation_is_idempotent(raw: str) -> None:
    try:
        once = normalize_address(raw)
    except InvalidAddress:
        reject()
    assert normalize_address(once) == once
    assert once == once.lower()
    assert once.isascii()


_HIDDEN = [
    *map(chr, range(0x202A, 0x202F)),  # bidi embeddings and overrides
    *map(chr, range(0x2066, 0x206A)),  # bidi isolates
    *map(chr, range(0x200B, 0x2010)),  # zero-width space, non-joiner, joiner; direction marks
    "\ufeff",  # a BOM inside the value
    "\x01",  # C0
    "\x7f",  # DEL
    "\x85",  # C1 NEXT LINE
    "\x9b",  # C1 CONTROL SEQUENCE INTRODUCER
]


@pytest.mark.parametrize("hidden", _HIDDEN, ids=lambda char: f"U+{ord(char):04X}")
@pytest.mark.parametrize("where", ["{}a@example.jp", "a{}b@example.jp", "a@exam{}ple.jp", "a@example.jp{}"])
def test_hidden_characters_are_refused_by_their_code_point(hidden: str, where: str) -> None:
    raw = where.format(hidden)
    with pytest.raises(InvalidAddress) as caught:
        normalize_address(raw)
    assert f"U+{ord(hidden):04X}" in caught.value.reason
    assert hidden not in str(caught.value)  # escaped, so that it cannot turn the message around


@given(
    st.builds("{}@{}".format, _ATOM, st.sampled_from(["example.jp", "例え.jp"])),
    st.characters(categories=["Cf"]),
    st.data(),
)
def test_any_format_character_anywhere_is_refused_by_name(
    address: str, hidden: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(min_value=0, max_value=len(address)), label="where")
    with pytest.raises(InvalidAddress) as caught:
        normalize_address(address[:at] + hidden + address[at:])
    assert "invisible character" in caught.value.reason
    assert f"U+{ord(hidden):04X}" in caught.value.reason
