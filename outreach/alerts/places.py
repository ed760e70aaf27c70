"""The places a safety alert or a subscriber's company concerns: the ministry's regions and their countries,
read once from outreach/data/countries.toml, found by code or by any of their names as a person types them.

A place is a region as a whole (`country_code` "") or a country in its region. Its codes are the ministry's
own (the open data's <area cd> and <country cd>), so a feed entry and a subscriber's choice compare by code.
"""

from __future__ import annotations

__all__ = [
    "COUNTRIES_FILE",
    "SEPARATORS",
    "Place",
    "Region",
    "UnknownPlaces",
    "all_places",
    "find",
    "format_places",
    "from_token",
    "name_of",
    "parse_places",
    "place",
    "regions",
]

import functools
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from outreach.errors import InvalidInput
from outreach.network import DATA_DIR, NetworkDataError

COUNTRIES_FILE = DATA_DIR / "countries.toml"
# What separates places in a typed list or a roster cell. Not 「・」: it is inside names
# (ボスニア・ヘルツェゴビナ).
SEPARATORS = re.compile(r"[;；,，、／/\r\n]+")
_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"(\d{1,8})(?:-(\d{1,8}))?")


@dataclass(frozen=True)
class Place:
    """A region as a whole (`country_code` "") or one country in it, with its names in both languages."""

    area_code: str
    country_code: str
    name_ja: str
    name_en: str

    def name(self, language: str) -> str:
        """The name to show to a reader of `language` ("ja" or "en"); Japanese for anything else."""
        return self.name_en if language == "en" else self.name_ja

    @property
    def is_region(self) -> bool:
        """True when the place is a whole region: it matches every entry about any country in it."""
        return self.country_code == ""

    @property
    def token(self) -> str:
        """The place as one form value: "10" for a region, "10-0066" for a country (see from_token)."""
        return self.area_code if self.is_region else f"{self.area_code}-{self.country_code}"

    def covers(self, area_code: str, country_code: str) -> bool:
        """Whether this place and (area_code, country_code) concern each other: same region, and either is the
        whole region or both are the same country. The one matching rule for subscribers and entries."""
        return self.area_code == area_code and (
            self.country_code == "" or country_code == "" or self.country_code == country_code
        )


@dataclass(frozen=True, eq=False)
class Region:
    """A region of the ministry's table and its countries in the table's order."""

    code: str
    name_ja: str
    name_en: str
    countries: list[Place] = field(default_factory=list)

    def name(self, language: str) -> str:
        """The region's name for a reader of `language`."""
        return self.name_en if language == "en" else self.name_ja

    @property
    def place(self) -> Place:
        """The region as a whole, as a place one may choose."""
        return Place(self.code, "", self.name_ja, self.name_en)


class UnknownPlaces(InvalidInput):
    """Typed names that are no region or country of the table; `unknown` lists them as typed."""

    def __init__(self, unknown: list[str]) -> None:
        self.unknown = unknown
        super().__init__("unknown country or region: " + ", ".join(unknown))


@dataclass(frozen=True)
class _Table:
    regions: list[Region]
    by_key: dict[str, Place]  # a folded code, name or alias -> its place
    by_codes: dict[tuple[str, str], Place]


def fold(text: str) -> str:
    """A name as compared: NFKC (full-width letters and digits become ASCII), case folded, no spaces."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).casefold()


def regions() -> list[Region]:
    """Every region with its countries, in the order of the ministry's table (アジア first), for a picker."""
    return _table().regions


def all_places() -> list[Place]:
    """Every region and then its countries, region by region."""
    return [each for region in regions() for each in (region.place, *region.countries)]


def place(area_code: str, country_code: str = "") -> Place | None:
    """The place with these codes, or None when the table does not have it."""
    return _table().by_codes.get((area_code, country_code))


def find(text: str) -> Place | None:
    """The place named by `text`: its code ("0066", "10"), form value ("10-0066"), Japanese or English
    name or an alias, compared after folding width, case and spaces; None when nothing matches."""
    key = fold(text)
    if not key:
        return None
    found = _table().by_key.get(key)
    if found is None and (token := _TOKEN.fullmatch(key)) and token.group(2):
        found = from_token(key)
    return found


def from_token(token: str) -> Place | None:
    """The place a form value ("10" or "10-0066") stands for, or None."""
    match = _TOKEN.fullmatch(token.strip())
    if match is None:
        return None
    return place(match.group(1), match.group(2) or "")


def parse_places(text: str) -> list[Place]:
    """The places in a list typed by a person or a roster cell, separated by ; , 、 ， ／ or new lines,
    each once, in the order typed. Raises UnknownPlaces (an InvalidInput) naming every unknown entry."""
    found: list[Place] = []
    unknown: list[str] = []
    for part in SEPARATORS.split(text):
        entry = part.strip()
        if not entry:
            continue
        match = find(entry)
        if match is None:
            if entry not in unknown:
                unknown.append(entry)
        elif match not in found:
            found.append(match)
    if unknown:
        raise UnknownPlaces(unknown)
    return found


def format_places(places: Iterable[Place], language: str) -> str:
    """Places as one line that parse_places reads back: their names in `language`, separated by "; "."""
    return "; ".join(each.name(language) for each in places)


def name_of(area_code: str, country_code: str, language: str, fallback: str = "") -> str:
    """The name of a place by its codes; for codes the table does not know, `fallback` (the name the feed
    gave), or the codes themselves when there is none, so an entry about a new code is still shown."""
    known = place(area_code, country_code)
    if known is not None:
        return known.name(language)
    return fallback or "-".join(code for code in (area_code, country_code) if code)


@functools.cache
def _table() -> _Table:
    """Read countries.toml once; a bad file is a NetworkDataError naming the entry."""
    with COUNTRIES_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    by_key: dict[str, Place] = {}
    by_codes: dict[tuple[str, str], Place] = {}
    found: dict[str, Region] = {}
    for entry in data.get("regions", []):
        region = Region(_text(entry, "code"), _text(entry, "name_ja"), _text(entry, "name_en"))
        found[region.code] = region
        _index(by_key, by_codes, region.place, entry)
    for entry in data.get("countries", []):
        area = _text(entry, "area")
        if area not in found:
            code = _text(entry, "code")
            raise NetworkDataError(COUNTRIES_FILE, f"no region {area!r}", entry=code, field="area")
        country = Place(area, _text(entry, "code"), _text(entry, "name_ja"), _text(entry, "name_en"))
        found[area].countries.append(country)
        _index(by_key, by_codes, country, entry)
    return _Table(list(found.values()), by_key, by_codes)


def _text(entry: dict[str, Any], name: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value.strip():
        label = str(entry.get("code", "?"))
        raise NetworkDataError(COUNTRIES_FILE, "a non-empty text is required", entry=label, field=name)
    return value.strip()


def _index(
    by_key: dict[str, Place], by_codes: dict[tuple[str, str], Place], each: Place, entry: dict[str, Any]
) -> None:
    """Record a place under its codes and every name; a name meaning two places would be ambiguous."""
    codes = (each.area_code, each.country_code)
    if codes in by_codes:
        raise NetworkDataError(COUNTRIES_FILE, "the code appears twice", entry=each.token)
    by_codes[codes] = each
    aliases = entry.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(alias, str) for alias in aliases):
        problem = "aliases must be a list of texts"
        raise NetworkDataError(COUNTRIES_FILE, problem, entry=each.token, field="aliases")
    for name in (each.country_code or each.area_code, each.name_ja, each.name_en, *aliases):
        key = fold(name)
        if key in by_key and by_key[key] != each:
            problem = f"{name!r} also names {by_key[key].token}"
            raise NetworkDataError(COUNTRIES_FILE, problem, entry=each.token)
        if SEPARATORS.search(name):
            raise NetworkDataError(COUNTRIES_FILE, f"{name!r} holds a list separator", entry=each.token)
        by_key[key] = each


def _check() -> None:  # pragma: no cover - used by `python -m outreach.alerts.places`
    table = _table()
    print(f"{len(table.regions)} regions, {sum(len(r.countries) for r in table.regions)} countries")


if __name__ == "__main__":  # pragma: no cover
    _check()
