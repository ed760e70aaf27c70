"""The English catalog covers every message the templates use, and carries nothing they do not use."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import pytest

from outreach.i18n import LANGUAGES, catalog_messages, load_catalog
from outreach.render import TEMPLATES_DIR

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _template_files() -> list[Path]:
    return sorted(path for path in TEMPLATES_DIR.rglob("*") if path.suffix in (".html", ".txt"))


def _used_messages() -> dict[str, list[str]]:
    """Every message id the templates pass to _/gettext/ngettext, with where it is used."""
    env = jinja2.Environment(extensions=["jinja2.ext.i18n"])
    used: dict[str, list[str]] = {}
    for path in _template_files():
        source = path.read_text(encoding="utf-8")
        for lineno, _function, message in env.extract_translations(source):
            for text in message if isinstance(message, tuple) else (message,):
                if text is not None:
                    used.setdefault(text, []).append(f"{path.relative_to(TEMPLATES_DIR)}:{lineno}")
    return used


def _english() -> dict[str, str]:
    return catalog_messages(TEMPLATES_DIR, "en")


def test_the_templates_are_found_and_use_messages() -> None:
    files = {path.relative_to(TEMPLATES_DIR).as_posix() for path in _template_files()}
    assert {"email/base.html", "email/issue.txt", "orgs/jetro/email/issue.html"} <= files
    used = _used_messages()
    assert "中堅・中小企業海外安全対策ネットワーク メールマガジン" in used
    assert "JETRO 海外ビジネスの安全対策相談窓口もご利用ください。" in used  # from the jetro override


def test_every_message_the_templates_use_has_an_english_entry() -> None:
    english = _english()
    missing = {message: where for message, where in _used_messages().items() if message not in english}
    assert missing == {}


def test_no_english_entry_is_unused() -> None:
    used = _used_messages()
    unused = sorted(message for message in _english() if message not in used)
    assert unused == []


def test_english_entries_are_translated_and_keep_their_placeholders() -> None:
    for message, translation in _english().items():
        assert translation.strip(), message
        assert translation != message, message
        assert sorted(_PLACEHOLDER.findall(translation)) == sorted(_PLACEHOLDER.findall(message)), message


def test_catalogs() -> None:
    assert LANGUAGES == ("ja", "en")
    ja = load_catalog(TEMPLATES_DIR, "ja")
    en = load_catalog(TEMPLATES_DIR, "en")
    assert ja.gettext("発行") == "発行"
    assert en.gettext("発行") == "Published by"
    assert en.gettext("未登録のメッセージ") == "未登録のメッセージ"  # falls back to the Japanese id
    assert en.ngettext("発行", "連絡先", 1) == "Published by"
    assert en.ngettext("発行", "連絡先", 2) == "Contact"
    with pytest.raises(ValueError, match="unsupported language"):
        load_catalog(TEMPLATES_DIR, "fr")
