"""Staff Markdown: raw HTML is escaped, unsafe links are refused, links read as "text (url)" in plain text."""

from __future__ import annotations

import re

import pytest

from outreach.markdown import to_html, to_text

_HREF = re.compile(r"""href\s*=\s*["']?([^"'\s>]*)""", re.IGNORECASE)


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "前文 <script src=https://evil.example/x.js></script> 後文",
        "<SCRIPT>alert(1)</SCRIPT>",
        "段落\n\n<div><script>alert(1)</script></div>",
    ],
)
def test_raw_html_is_escaped(source: str) -> None:
    rendered = to_html(source)
    assert not re.search(r"<\s*script", rendered, re.IGNORECASE)
    assert "&lt;script" in rendered.lower()


def test_raw_html_attributes_never_become_markup() -> None:
    rendered = to_html('a <img src=x onerror="alert(1)"> b')
    assert "<img" not in rendered
    assert "&lt;img" in rendered


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JavaScript:alert(1))",
        "[x](javas&#99;ript:alert(1))",
        "[x](&#x6A;avascript:alert(1))",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(1)",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "![x](javascript:alert(1))",
    ],
)
def test_unsafe_links_get_no_href(source: str) -> None:
    rendered = to_html(source)
    hrefs = [href.lower() for href in _HREF.findall(rendered)]
    assert not any(href.startswith(("javascript:", "vbscript:", "data:text")) for href in hrefs), rendered
    assert "<a " not in rendered
    assert "<img" not in rendered


def test_normal_links_render() -> None:
    rendered = to_html(
        "詳しくは[海外安全ホームページ](https://www.anzen.mofa.go.jp/?a=1&b=2)をご覧ください。"
    )
    assert '<a href="https://www.anzen.mofa.go.jp/?a=1&amp;b=2">海外安全ホームページ</a>' in rendered


def test_lists_and_emphasis_render() -> None:
    assert to_html("- 一つ目\n- 二つ目") == "<ul>\n<li>一つ目</li>\n<li>二つ目</li>\n</ul>\n"
    assert to_html("1. 一つ目\n2. 二つ目") == "<ol>\n<li>一つ目</li>\n<li>二つ目</li>\n</ol>\n"
    assert "<strong>日本商工会議所</strong>" in to_html("- **日本商工会議所**：委員会を設置")


def test_to_text_turns_links_into_text_and_url() -> None:
    assert to_text("詳しくは[海外安全ホームページ](https://www.anzen.mofa.go.jp/)へ") == (
        "詳しくは海外安全ホームページ (https://www.anzen.mofa.go.jp/)へ"
    )
    assert to_text("[a](https://a.example.jp/) と [b](https://b.example.jp/x?y=1&z=2)") == (
        "a (https://a.example.jp/) と b (https://b.example.jp/x?y=1&z=2)"
    )


def test_to_text_drops_heading_marks_and_bold() -> None:
    assert to_text("## 見出し\n\n**太字** と __太字__ の本文") == "見出し\n\n太字 と 太字 の本文"


def test_to_text_keeps_lists_and_unescapes_entities() -> None:
    assert to_text("- 一つ目\n- 二つ目") == "- 一つ目\n- 二つ目"
    assert to_text("A &amp; B") == "A & B"


def test_to_text_keeps_angle_bracketed_text_that_the_html_part_shows() -> None:
    source = "詳細は <海外安全ホームページ> をご覧ください。条件: 1 < x かつ y > 2"
    assert "&lt;海外安全ホームページ&gt;" in to_html(source)
    text = to_text(source)
    assert "<海外安全ホームページ>" in text
    assert "1 < x かつ y > 2" in text
