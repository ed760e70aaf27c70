"""What the fuzz suite feeds the edges: hostile text, huge numbers, control characters, raw bytes."""

from __future__ import annotations

__all__ = ["SPECIAL", "huge_numbers", "line_breaks", "nasty_text", "raw_bytes", "weighted"]

from typing import TypeVar

from hypothesis import strategies as st

T = TypeVar("T")

# Inputs that broke parsers elsewhere, or that an attacker tries first.
SPECIAL = [
    "",
    " ",
    "\u3000",
    "\x00",
    "\r\nBcc: victim@example.org",
    "x\nX-Injected: 1",
    "%00",
    "%0d%0aSet-Cookie: a=b",
    "-1",
    "0",
    "1e309",
    "NaN",
    "inf",
    "9" * 40,
    "99999999999999999999999999999999999999",
    "../../../etc/passwd",
    "<script>alert(1)</script>",
    "{{ 7 * 7 }}",
    "'; DROP TABLE subscribers; --",
    "\ufeff",
    "\u202e",
    "ｊａ",
    "ja",
    "en",
    "jetro",
    "meetings",
    "=?utf-8?q?=E0=80=80?=",
    "a" * 5000,
]


def huge_numbers() -> st.SearchStrategy[str]:
    """Whole numbers far beyond any column's range, negative too, as text."""
    return st.integers(min_value=-(10**40), max_value=10**40).map(str)


def line_breaks() -> st.SearchStrategy[str]:
    return st.sampled_from(["\r\n", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028"])


def nasty_text(*, max_size: int = 300) -> st.SearchStrategy[str]:
    """Any Unicode text that can travel as UTF-8, leaning towards what breaks things."""
    controls = st.characters(categories=["Cc", "Cf", "Zl", "Zp"])
    return st.one_of(
        st.sampled_from(SPECIAL),
        st.text(max_size=max_size),
        st.text(alphabet=controls, max_size=20),
        st.text(alphabet=st.one_of(controls, st.characters(codec="ascii")), max_size=max_size),
        huge_numbers(),
    )


def raw_bytes(*, max_size: int = 2000) -> st.SearchStrategy[bytes]:
    """Bytes that are seldom valid text: 8-bit, NUL, and stray line ends."""
    fragments = st.one_of(
        st.binary(max_size=40),
        st.sampled_from([b"\x00", b"\r", b"\n", b"\r\n", b"\xff\xfe", b"\x1b$B", b"\x80", b'"', b","]),
        nasty_text(max_size=40).map(lambda text: text.encode("utf-8")),
    )
    return st.lists(fragments, max_size=max_size // 40).map(b"".join)


def weighted(*choices: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """One of the strategies, each as often as its weight says (st.one_of draws each branch alike)."""
    branches = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(branches).flatmap(lambda strategy: strategy)
