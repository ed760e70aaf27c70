"""Japanese first, English too: the English catalog for strings written in Japanese in the templates."""

from __future__ import annotations

__all__ = ["LANGUAGES", "Catalog", "load_catalog"]

import tomllib
from dataclasses import dataclass
from pathlib import Path

LANGUAGES = ("ja", "en")


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
