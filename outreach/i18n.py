"""Japanese first, English too: the English catalog for the templates' Japanese, and each language's marks."""

from __future__ import annotations

__all__ = ["LANGUAGES", "PUNCTUATION", "Catalog", "Punctuation", "load_catalog"]

import tomllib
from dataclasses import dataclass
from pathlib import Path

LANGUAGES = ("ja", "en")


@dataclass(frozen=True)
class Punctuation:
    """The marks templates put between words, which differ by language (templates see them as globals)."""

    colon: str  # after a label: 開催日：2024年… but "Held on: 31 January 2024"
    separator: str  # between short items on one line of HTML: 第1号 ・ 2024年… but "Issue No. 1 | 31 …"


# Japanese text takes the full-width colon with no space; the katakana middle dot is no English mark.
PUNCTUATION = {
    "ja": Punctuation(colon="：", separator=" ・ "),
    "en": Punctuation(colon=": ", separator=" | "),
}


@dataclass(frozen=True)
class Catalog:
    """Translations of Japanese message ids; Japanese itself is the identity."""

    language: str
    messages: dict[str, str]

    def gettext(self, message: str) -> str:
        if self.language == "ja":
            return message
        return self.messages.get(message, message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.gettext(singular if count == 1 else plural)


def load_catalog(templates_dir: Path, language: str) -> Catalog:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    if language == "ja":
        return Catalog("ja", {})
    with (templates_dir / "i18n" / f"{language}.toml").open("rb") as handle:
        return Catalog(language, tomllib.load(handle)["messages"])
