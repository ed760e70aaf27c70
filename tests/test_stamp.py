"""Render once, stamp many: holes compiled once, filled per recipient, escaped only in HTML."""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach.stamp import PERSONAL_FIELDS, Stamp, placeholder

VALUES = {
    "salutation": "株式会社テスト 山田様",
    "email": "yamada@example.jp",
    "unsubscribe_url": "https://mailmag.example.jp/u/tok",
    "preferences_url": "https://mailmag.example.jp/p/tok",
}


def test_placeholder_names_a_personal_field() -> None:
    assert placeholder("email") == "@@OUTREACH:email@@"
    assert {placeholder(field) for field in PERSONAL_FIELDS} == {
        "@@OUTREACH:salutation@@",
        "@@OUTREACH:email@@",
        "@@OUTREACH:unsubscribe_url@@",
        "@@OUTREACH:preferences_url@@",
    }
    with pytest.raises(KeyError):
        placeholder("company")


def test_compile_splits_at_the_holes() -> None:
    stamp = Stamp.compile(f"{placeholder('salutation')}\n本文 {placeholder('email')} 宛", escape_html=False)
    assert stamp.parts == ("", "salutation", "\n本文 ", "email", " 宛")
    assert stamp.fields == frozenset({"salutation", "email"})
    assert not stamp.escape_html


def test_a_text_without_holes_is_one_literal() -> None:
    stamp = Stamp.compile("穴のない本文", escape_html=True)
    assert stamp.parts == ("穴のない本文",)
    assert stamp.fields == frozenset()
    assert stamp.fill({}) == "穴のない本文"


def test_fill_puts_each_value_in_its_holes() -> None:
    salutation, email = placeholder("salutation"), placeholder("email")
    unsubscribe = placeholder("unsubscribe_url")
    text = f"{salutation}\n{email} / {email}\n{unsubscribe}"
    filled = Stamp.compile(text, escape_html=False).fill(VALUES)
    assert filled == (
        "株式会社テスト 山田様\nyamada@example.jp / yamada@example.jp\nhttps://mailmag.example.jp/u/tok"
    )


def test_html_stamps_escape_values() -> None:
    stamp = Stamp.compile(
        f'<p>{placeholder("salutation")}</p><a href="{placeholder("unsubscribe_url")}">x</a>',
        escape_html=True,
    )
    filled = stamp.fill({"salutation": "<b>\"A&B\"</b> 'x'", "unsubscribe_url": 'https://e.jp/u?a=1&b="2"'})
    assert filled == (
        "<p>&lt;b&gt;&#34;A&amp;B&#34;&lt;/b&gt; &#39;x&#39;</p>"
        '<a href="https://e.jp/u?a=1&amp;b=&#34;2&#34;">x</a>'
    )
    assert "<b>" not in filled


def test_text_stamps_do_not_escape_values() -> None:
    stamp = Stamp.compile(f"{placeholder('salutation')} {placeholder('unsubscribe_url')}", escape_html=False)
    filled = stamp.fill({"salutation": '<b>"A&B"</b>', "unsubscribe_url": "https://e.jp/u?a=1&b=2"})
    assert filled == '<b>"A&B"</b> https://e.jp/u?a=1&b=2'


def test_an_unknown_placeholder_field_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown personal field"):
        Stamp.compile("Dear @@OUTREACH:company@@", escape_html=False)
    with pytest.raises(ValueError, match="company, password"):
        Stamp.compile("@@OUTREACH:password@@ @@OUTREACH:company@@ @@OUTREACH:email@@", escape_html=True)


def test_a_missing_value_is_an_error_not_an_empty_hole() -> None:
    stamp = Stamp.compile(f"{placeholder('email')}", escape_html=False)
    with pytest.raises(KeyError):
        stamp.fill({"salutation": "x"})


def test_values_that_look_like_holes_are_not_filled_again() -> None:
    stamp = Stamp.compile(f"{placeholder('salutation')}|{placeholder('email')}", escape_html=False)
    filled = stamp.fill({"salutation": placeholder("email"), "email": "yamada@example.jp"})
    assert filled == "@@OUTREACH:email@@|yamada@example.jp"


# Literal text that cannot form a hole with its neighbours.
literals = st.text().filter(
    lambda text: "@@" not in text and not text.startswith("@") and not text.endswith("@")
)
fields = st.sampled_from(PERSONAL_FIELDS)


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(st.tuples(fields, literals), max_size=6),
    head=literals,
    values=st.fixed_dictionaries({field: st.text() for field in PERSONAL_FIELDS}),
)
def test_filling_a_text_stamp_and_splitting_back_gives_the_literal_parts(
    pieces: list[tuple[str, str]], head: str, values: dict[str, str]
) -> None:
    source = head + "".join(placeholder(field) + literal for field, literal in pieces)
    stamp = Stamp.compile(source, escape_html=False)
    assert stamp.parts == (head, *[part for piece in pieces for part in piece])
    filled = stamp.fill(values)
    # split the filled text back: literal, value, literal, value, …
    position = 0
    recovered: list[str] = []
    for index, part in enumerate(stamp.parts):
        chunk = part if index % 2 == 0 else values[part]
        assert filled[position : position + len(chunk)] == chunk
        if index % 2 == 0:
            recovered.append(chunk)
        position += len(chunk)
    assert position == len(filled)
    assert tuple(recovered) == stamp.parts[0::2]


@settings(max_examples=200, deadline=None)
@given(head=literals, tail=literals, value=st.text())
def test_an_html_stamp_value_unescapes_back_and_never_adds_markup(head: str, tail: str, value: str) -> None:
    stamp = Stamp.compile(f"{head}{placeholder('salutation')}{tail}", escape_html=True)
    filled = stamp.fill({"salutation": value})
    assert filled.startswith(head)
    assert filled.endswith(tail)
    inner = filled[len(head) : len(filled) - len(tail)]
    assert html.unescape(inner) == value
    assert not set(inner) & set("<>\"'")
