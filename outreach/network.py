"""The network as data: members, meetings and promoted tools, read from the TOML files in `outreach/data/`."""

from __future__ import annotations

__all__ = [
    "DATA_DIR",
    "DATA_FILES",
    "MEETINGS",
    "MEMBER_KINDS",
    "NETWORK",
    "NETWORK_SLUG",
    "ORGANIZATIONS",
    "PROMOTIONS",
    "Link",
    "MeetingData",
    "NetworkData",
    "NetworkDataError",
    "OrganizationData",
    "PromotionData",
    "load_network",
    "packaged_network",
]

import dataclasses
import functools
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from outreach.content import MEETING_FORMATS, MEETING_KINDS
from outreach.errors import InvalidInput

NETWORK_SLUG = "network"  # the network itself: the rendition of subscribers with no member organization
MEMBER_KINDS = ("ministry", "agency", "association")
DATA_DIR = Path(__file__).with_name("data")
DATA_FILES = ("organizations.toml", "meetings.toml", "promotions.toml")

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_URL = re.compile(r"https?://[^\s<>\"']+")
_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")
# The widths of the database columns (outreach.models) that the seed writes these texts into.
_SLUG_MAX, _PROMOTION_SLUG_MAX, _NAME_MAX, _TITLE_MAX, _URL_MAX = 40, 60, 200, 300, 500
# In Python a bool is an int and a datetime is a date; in the files `true` is no number and a time is no day.
_NOT_ACCEPTED: dict[type, type] = {int: bool, date: datetime}


@dataclass(frozen=True)
class Link:
    """A web page about a meeting, titled in both languages."""

    title_ja: str
    title_en: str
    url: str


@dataclass(frozen=True)
class OrganizationData:
    """A member organization, and how its rendition of the mail magazine greets readers and names a contact.

    `kind` is "ministry" (府省庁), "agency" (独立行政法人・政府系機関・金融機関) or "association"
    (団体・協会・組合・連合会); the network itself has the kind "network".
    """

    slug: str
    name_ja: str
    name_en: str
    kind: str
    url: str
    greeting_ja: str
    greeting_en: str
    contact_ja: str
    contact_en: str


@dataclass(frozen=True)
class MeetingData:
    """A plenary (本会合) or secretariat (幹事会) meeting of the network, summarized in both languages.

    `format` is "in_person", "online" or "hybrid", or None where the network's page does not say.
    The summaries are Markdown.
    """

    kind: str
    number: int
    held_on: date
    format: str | None
    opened_by_ja: str
    opened_by_en: str
    summary_ja: str
    summary_en: str
    links: tuple[Link, ...]

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.number}"


@dataclass(frozen=True)
class PromotionData:
    """A tool or campaign the network promotes, and the days an issue carries it.

    None for `starts_on` means always, None for `ends_on` means open-ended. When `yearly` is true only the
    month and day of the two dates count, every year.
    """

    slug: str
    title_ja: str
    title_en: str
    body_ja: str
    body_en: str
    url: str
    starts_on: date | None
    ends_on: date | None
    yearly: bool
    position: int


@dataclass(frozen=True)
class NetworkData:
    """Everything the three data files hold, checked: the network's own rendition first, then its members."""

    network: OrganizationData
    organizations: tuple[OrganizationData, ...]
    meetings: tuple[MeetingData, ...]
    promotions: tuple[PromotionData, ...]


class NetworkDataError(InvalidInput):
    """A data file that cannot be used; `entry` and `field` are empty when the problem is the whole file."""

    def __init__(self, source: Path, problem: str, *, entry: str = "", field: str = "") -> None:
        self.source = source
        self.problem = problem
        self.entry = entry
        self.field = field
        where = ": ".join(part for part in (str(source), entry, field) if part)
        super().__init__(f"{where}: {problem}")


class _Entry:
    """One table of a data file, read field by field; each problem names the file, the entry and the field."""

    def __init__(self, source: Path, label: str, table: dict[str, Any], model: type[Any]) -> None:
        self.source = source
        self.label = label
        self._table = table
        allowed = [field.name for field in dataclasses.fields(model)]
        # A misspelt field is reported as itself, not as the required field it was meant to be.
        for name in table:
            if name not in allowed:
                raise self.error(name, f"unknown field; the fields are {', '.join(allowed)}")

    def error(self, field: str, problem: str) -> NetworkDataError:
        return NetworkDataError(self.source, problem, entry=self.label, field=field)

    def _value(self, name: str, expected: type, what: str) -> Any:
        value = self._table.get(name)
        if value is None:
            return None
        if not isinstance(value, expected) or isinstance(value, _NOT_ACCEPTED.get(expected, ())):
            hint = " without quotes, e.g. 2024-01-31" if expected is date else ""
            raise self.error(name, f"must be {what}{hint}; got {value!r}")
        return value

    def text(self, name: str, *, required: bool = True, max_length: int | None = None) -> str:
        value = self._value(name, str, "a text")
        # Surrounding whitespace is dropped, so a multi-line """ string may start and end on lines of its own.
        text: str = "" if value is None else value.strip()
        if required and not text:
            raise self.error(name, "is missing" if value is None else "is empty")
        if max_length is not None and len(text) > max_length:
            raise self.error(name, f"is longer than {max_length} characters")
        return text

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        text = self.text(name)
        if text not in choices:
            raise self.error(name, f"must be one of {', '.join(choices)}; got {text!r}")
        return text

    def optional_choice(self, name: str, choices: tuple[str, ...]) -> str | None:
        return self.choice(name, choices) if name in self._table else None

    def slug(self, name: str, *, max_length: int) -> str:
        return self._matching(name, _SLUG, "lower-case letters, digits and hyphens", max_length)

    def url(self, name: str) -> str:
        return self._matching(name, _URL, "an http(s) URL without spaces", _URL_MAX)

    def _matching(self, name: str, pattern: re.Pattern[str], what: str, max_length: int) -> str:
        text = self.text(name, max_length=max_length)
        if not pattern.fullmatch(text):
            raise self.error(name, f"must be {what}; got {text!r}")
        return text

    def number(self, name: str, *, minimum: int) -> int:
        value = self._value(name, int, "a whole number")
        if value is None:
            raise self.error(name, "is missing")
        if value < minimum:
            raise self.error(name, f"must be at least {minimum}; got {value}")
        return int(value)

    def optional_day(self, name: str) -> date | None:
        value = self._value(name, date, "a TOML date")
        return value if isinstance(value, date) else None

    def day(self, name: str) -> date:
        value = self.optional_day(name)
        if value is None:
            raise self.error(name, "is missing")
        return value

    def flag(self, name: str) -> bool:
        return bool(self._value(name, bool, "true or false"))

    def tables(self, name: str) -> list[tuple[int, dict[str, Any]]]:
        """The tables of an array of tables, numbered from 1 as a person counts them."""
        value = self._table.get(name, [])
        if not _is_tables(value):
            raise self.error(name, f"must be a list of tables, each written [[...{name}]]")
        return list(enumerate(value, start=1))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NetworkDataError(path, "no such file") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise NetworkDataError(path, "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        # tomllib names the line; quoting it names the entry and the field to the person who wrote it.
        found = _TOML_POSITION.search(str(error))
        lines = raw.decode("utf-8").splitlines()
        quoted = f": {lines[int(found[1]) - 1].strip()}" if found and int(found[1]) <= len(lines) else ""
        raise NetworkDataError(path, f"not valid TOML: {error}{quoted}") from None


def _is_tables(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _label(array: str, index: int, table: dict[str, Any]) -> str:
    """How an entry is named in an error: its position, and its slug or meeting key when it has one."""
    slug, kind, number = table.get("slug"), table.get("kind"), table.get("number")
    if isinstance(slug, str):
        return f"[[{array}]] #{index} ({slug})"
    if isinstance(kind, str) and isinstance(number, int):
        return f"[[{array}]] #{index} ({kind}:{number})"
    return f"[[{array}]] #{index}"


def _entries(
    path: Path, array: str, model: type[Any], *, also: str = ""
) -> tuple[dict[str, Any], list[_Entry]]:
    """The file's document and its `[[array]]` entries; only `array` (and `also`) may be at the top."""
    document = _read_toml(path)
    for name in document:
        if name not in (array, also):
            raise NetworkDataError(path, f"unknown table or key {name!r}; the file holds [[{array}]] tables")
    tables = document.get(array, [])
    if not _is_tables(tables):
        raise NetworkDataError(path, f"{array} must be a list of tables, each written [[{array}]]")
    entries = [
        _Entry(path, _label(array, index, table), table, model) for index, table in enumerate(tables, 1)
    ]
    return document, entries


def _organization(entry: _Entry, kinds: tuple[str, ...]) -> OrganizationData:
    return OrganizationData(
        slug=entry.slug("slug", max_length=_SLUG_MAX),
        name_ja=entry.text("name_ja", max_length=_NAME_MAX),
        name_en=entry.text("name_en", max_length=_NAME_MAX),
        kind=entry.choice("kind", kinds),
        url=entry.url("url"),
        greeting_ja=entry.text("greeting_ja"),
        greeting_en=entry.text("greeting_en"),
        contact_ja=entry.text("contact_ja"),
        contact_en=entry.text("contact_en"),
    )


def _meeting(entry: _Entry) -> MeetingData:
    links = [
        _Entry(entry.source, f"{entry.label} link #{n}", table, Link) for n, table in entry.tables("links")
    ]
    return MeetingData(
        kind=entry.choice("kind", tuple(MEETING_KINDS)),
        number=entry.number("number", minimum=1),
        held_on=entry.day("held_on"),
        format=entry.optional_choice("format", tuple(MEETING_FORMATS)),
        opened_by_ja=entry.text("opened_by_ja", required=False),
        opened_by_en=entry.text("opened_by_en", required=False),
        summary_ja=entry.text("summary_ja"),
        summary_en=entry.text("summary_en"),
        links=tuple(Link(link.text("title_ja"), link.text("title_en"), link.url("url")) for link in links),
    )


def _promotion(entry: _Entry) -> PromotionData:
    promotion = PromotionData(
        slug=entry.slug("slug", max_length=_PROMOTION_SLUG_MAX),
        title_ja=entry.text("title_ja", max_length=_TITLE_MAX),
        title_en=entry.text("title_en", max_length=_TITLE_MAX),
        body_ja=entry.text("body_ja"),
        body_en=entry.text("body_en"),
        url=entry.url("url"),
        starts_on=entry.optional_day("starts_on"),
        ends_on=entry.optional_day("ends_on"),
        yearly=entry.flag("yearly"),
        position=entry.number("position", minimum=0),
    )
    if promotion.yearly and (promotion.starts_on is None or promotion.ends_on is None):
        raise entry.error("yearly", "a yearly promotion needs both starts_on and ends_on")
    starts_on, ends_on = promotion.starts_on, promotion.ends_on
    if not promotion.yearly and starts_on and ends_on and starts_on > ends_on:
        raise entry.error("ends_on", f"is before starts_on ({promotion.starts_on})")
    return promotion


def _refuse_duplicates(entries: list[_Entry], keys: list[str], field: str) -> None:
    seen: set[str] = set()
    for entry, key in zip(entries, keys, strict=True):
        if key in seen:
            raise entry.error(field, f"{key!r} appears more than once")
        seen.add(key)


def _load_organizations(path: Path) -> tuple[OrganizationData, tuple[OrganizationData, ...]]:
    document, entries = _entries(path, "members", OrganizationData, also="network")
    table = document.get("network")
    if not isinstance(table, dict):
        raise NetworkDataError(path, "must hold a [network] table: the network's own rendition")
    network_entry = _Entry(path, "[network]", table, OrganizationData)
    network = _organization(network_entry, ("network",))
    if network.slug != NETWORK_SLUG:
        raise network_entry.error("slug", f"must be {NETWORK_SLUG!r}: the code names the network by it")
    members = [_organization(entry, MEMBER_KINDS) for entry in entries]
    slugs = [organization.slug for organization in (network, *members)]
    _refuse_duplicates([network_entry, *entries], slugs, "slug")
    return network, tuple(members)


def _load_meetings(path: Path) -> tuple[MeetingData, ...]:
    _, entries = _entries(path, "meetings", MeetingData)
    meetings = [_meeting(entry) for entry in entries]
    _refuse_duplicates(entries, [meeting.key for meeting in meetings], "number")
    return tuple(meetings)


def _load_promotions(path: Path) -> tuple[PromotionData, ...]:
    _, entries = _entries(path, "promotions", PromotionData)
    promotions = [_promotion(entry) for entry in entries]
    _refuse_duplicates(entries, [promotion.slug for promotion in promotions], "slug")
    return tuple(promotions)


def load_network(directory: Path = DATA_DIR) -> NetworkData:
    """Read and check the three data files of `directory`; raise NetworkDataError at the first problem."""
    organizations, meetings, promotions = (directory / name for name in DATA_FILES)
    network, members = _load_organizations(organizations)
    return NetworkData(
        network=network,
        organizations=members,
        meetings=_load_meetings(meetings),
        promotions=_load_promotions(promotions),
    )


@functools.cache
def packaged_network() -> NetworkData:
    """The data that ships with outreach, read once per process."""
    return load_network(DATA_DIR)


if TYPE_CHECKING:
    NETWORK: OrganizationData
    ORGANIZATIONS: tuple[OrganizationData, ...]
    MEETINGS: tuple[MeetingData, ...]
    PROMOTIONS: tuple[PromotionData, ...]


def __getattr__(name: str) -> object:
    """The packaged data under its module-level names, read on first use.

    Lazy so that the many modules importing only NETWORK_SLUG read no file, and so that a broken data file
    fails `outreach seed` with a clear message instead of every command at import time.
    """
    if name in ("NETWORK", "ORGANIZATIONS", "MEETINGS", "PROMOTIONS"):
        return getattr(packaged_network(), name.lower())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
