"""Reading the ministry's overseas-safety open data (海外安全情報オープンデータ) safely, into typed entries.

What the parser relies on, and where it was confirmed. There is no official schema at hand; these come from
public code that reads the live files (found with the search tool, code corpus), read side by side:
- The root is `<opendata>` with attributes `dataType` (A full, N normal, L light), `lastModified`
  (`YYYY/MM/DD HH:MM:SS`, JST), `mailCount`, `odType`: a stored copy of the live newarrivalL.xml
  (MURAIMUNEAKI/travelsafe data/latest.xml) and a Node reader of newarrivalA.xml that prints the root as JSON.
- One `<mail>` per item with `keyCd`, `infoType`, `leaveDate`, `area/cd`, `country[@areaCd]/cd`, `title`,
  `lead`, `infoUrl`, `koukanCd` (that stored copy); `infoName`, `infoNameLong`, `area/name`, `country/name`
  only in the normal and full variants (the same Node reader; a Python reader of newarrival.xml that notes
  the light variant has codes without names); `mainText` and `subText` in the normal/full ones; `koukanName`
  beside `koukanCd` (that Python reader's field list). Codes are strings with leading zeros ("0084").
- `<area>` and `<country>` may repeat in one `<mail>` (a TypeScript reader declares both as arrays), and a
  `<mail>` may have neither (an embassy message in the stored copy has no place at all).
- `riskLevel1`..`riskLevel4` and `infectionLevel1`..`infectionLevel4` are flags, "1" or "0", not levels (two
  readers of country files; a third's tests use "Y"/"N", so both spellings count).
- `leaveDate` is JST and often carries only the day (`… 00:00:00`); key codes look like `162924` (embassy
  mail) or `2026T090` / `2026C045` (risk and spot information).
- infoType: T40 危険, C30 スポット, C50 広域, R10/R20 領事メール (several readers); the infection-risk type is
  T41 in one reader and T81 in another that counted a year of entries, which also saw C31/C51 (spot and
  wide-area, infection): outreach.alerts.rules knows all of them, and stores an unknown type as it comes.
- A country file (country/<code>.xml) has its country's `area`/`country` and a risk summary at the root, then
  its `<mail>` entries; an entry there without a place of its own is taken to concern the file's country.
- The server may answer 200 with an HTML maintenance page: that is refused here as "not the open data".
Not confirmed, so not relied on: the order of the entries, any element not named above (ignored), the
`mailCount` matching the entries (only reported).

Safety: defusedxml refuses any DTD, entity declaration or external reference before expanding it, so an
XML bomb (billion laughs) or an external entity is refused unread; malformed XML is refused with its line.
"""

from __future__ import annotations

__all__ = ["Feed", "FeedEntry", "Place", "parse_feed", "parse_jst"]

from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]

from outreach.alerts.errors import FeedInvalid
from outreach.calendar import JST

KEY_LENGTH = 64  # safety_alerts.key
_FLAGGED = {"1", "y", "yes", "true", "on"}
_REFUSED = {
    "DTDForbidden": "a document type (DTD)",
    "EntitiesForbidden": "entities",
    "ExternalReferenceForbidden": "an external reference",
}
_DATE_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class Place:
    """A region (area) and a country in it; `country_code` "" for the region as a whole."""

    area_code: str
    country_code: str
    name: str  # the country's name, else the region's, as the feed gives it ("" in the light variant)
    area_name: str = ""


@dataclass(frozen=True)
class FeedEntry:
    """One `<mail>` of the feed."""

    key: str
    info_type: str
    info_name: str
    published_at: datetime | None  # leaveDate, as aware UTC
    places: tuple[Place, ...]
    title: str
    lead: str
    main_text: str
    url: str
    mission_code: str
    mission_name: str
    risk_levels: tuple[int, ...]  # the levels flagged, 1..4
    infection_levels: tuple[int, ...]


@dataclass(frozen=True)
class Feed:
    """A parsed file: its entries (each key once), and how many `<mail>` had no usable key."""

    entries: tuple[FeedEntry, ...]
    skipped: int
    data_type: str
    last_modified: datetime | None

    @property
    def mails(self) -> int:
        return len(self.entries) + self.skipped


def parse_feed(data: bytes, *, source: str = "the feed") -> Feed:
    """Parse a newarrival or country file; FeedInvalid says in one line why it cannot be used."""
    root = _root(data, source)
    fallback = _places(root)  # a country file's own country, for its entries that name none
    entries: dict[str, FeedEntry] = {}
    skipped = 0
    for mail in root.findall("mail"):
        key = _text(mail, "keyCd")
        if not key or len(key) > KEY_LENGTH:
            skipped += 1
            continue
        entries.setdefault(key, _entry(mail, key, fallback))
    return Feed(
        entries=tuple(entries.values()),
        skipped=skipped,
        data_type=root.get("dataType", ""),
        last_modified=parse_jst(root.get("lastModified", "")),
    )


def _root(data: bytes, source: str) -> Element:
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:14].lower().startswith((b"<!doctype html", b"<html")):
        raise FeedInvalid(source, "not the ministry's open data: a web page came (the site may be down)")
    try:
        root: Element = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as refused:
        what = _REFUSED.get(type(refused).__name__, "something the feed never has")
        raise FeedInvalid(
            source, f"refused unread: it declares {what}, the way in of an XML bomb or an external entity"
        ) from None
    except ParseError as error:
        raise FeedInvalid(source, f"not well-formed XML ({error})") from None
    if root.tag != "opendata":
        raise FeedInvalid(source, f"not the ministry's open data: the root element is <{root.tag}>")
    return root


def _entry(mail: Element, key: str, fallback: tuple[Place, ...]) -> FeedEntry:
    return FeedEntry(
        key=key,
        info_type=_text(mail, "infoType"),
        info_name=_text(mail, "infoName") or _text(mail, "infoNameLong"),
        published_at=parse_jst(_text(mail, "leaveDate")),
        places=_places(mail) or fallback,
        title=_text(mail, "title"),
        lead=_text(mail, "lead"),
        main_text=_text(mail, "mainText"),
        url=_text(mail, "infoUrl"),
        mission_code=_text(mail, "koukanCd"),
        mission_name=_text(mail, "koukanName"),
        risk_levels=_flags(mail, "riskLevel"),
        infection_levels=_flags(mail, "infectionLevel"),
    )


def _text(element: Element, tag: str) -> str:
    found = element.find(tag)
    return (found.text or "").strip() if found is not None else ""


def _flags(element: Element, prefix: str) -> tuple[int, ...]:
    return tuple(level for level in range(1, 5) if _text(element, f"{prefix}{level}").lower() in _FLAGGED)


def _places(element: Element) -> tuple[Place, ...]:
    """The countries an element names, each in its region, then the regions it names without a country."""
    areas = {_text(area, "cd"): _text(area, "name") for area in element.findall("area") if _text(area, "cd")}
    places: list[Place] = []
    for country in element.findall("country"):
        code = _text(country, "cd")
        if not code:
            continue
        area = country.get("areaCd", "").strip() or _text(country, "areaCd") or next(iter(areas), "")
        places.append(Place(area, code, _text(country, "name"), areas.get(area, "")))
    covered = {place.area_code for place in places}
    places += [Place(code, "", name, name) for code, name in areas.items() if code not in covered]
    return tuple(dict.fromkeys(places))


def parse_jst(text: str) -> datetime | None:
    """`2026/02/12 20:50:53` (or the day alone) in Japan time, as aware UTC; None when it cannot be read."""
    for layout in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), layout).replace(tzinfo=JST).astimezone(UTC)
        except ValueError:
            continue
    return None
