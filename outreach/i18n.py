"""Japanese first, English too: the English catalog for the templates' Japanese, and each language's marks."""

from __future__ import annotations

__all__ = ["LANGUAGES", "PUNCTUATION", "Catalog", "Punctuation", "catalog_messages", "load_catalog"]

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
    return Catalog(language, catalog_messages(templates_dir, language))


def catalog_messages(templates_dir: Path, language: str) -> dict[str, str]:
    """A language's messages: `i18n/<language>.toml` and every `i18n/<language>/*.toml` (one per part of the
    site, e.g. the console's pages); a message given twice is an error."""
    folder = templates_dir / "i18n"
    messages: dict[str, str] = {}
    for path in [folder / f"{language}.toml", *sorted((folder / language).glob("*.toml"))]:
        with path.open("rb") as handle:
            found: dict[str, str] = tomllib.load(handle)["messages"]
        twice = sorted(set(found) & set(messages))
        if twice:
            raise ValueError(f"{path.name} repeats messages given in another catalog file: {twice[:3]}")
        messages.update(found)
    return messages
