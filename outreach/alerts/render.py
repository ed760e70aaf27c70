"""What the mail templates see of the safety alerts: an alert issue's entries, a regular issue's section "your
countries' safety information this month", and the subjects, in Japanese and in English.

The feed is Japanese only: an English rendition shows fixed English labels (the class of an entry, the
ministry's level wording, the places' English names) and points to the official page for the details, which
are in Japanese. Each reader's copy shows the entries of their places (outreach.alerts.audience); a preview
without a reader shows them all.
"""

from __future__ import annotations

__all__ = [
    "LEVELS",
    "Entries",
    "Level",
    "alert_views",
    "alerts_of",
    "class_label",
    "entries_for_render",
    "place_name",
    "subjects",
]

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from outreach import jis
from outreach.alerts.audience import alert_ids
from outreach.alerts.models import AlertPlace, SafetyAlert
from outreach.alerts.places import name_of
from outreach.alerts.rules import CLASSES, classify
from outreach.calendar import JST
from outreach.dates import format_en, format_ja
from outreach.models import Issue, IssueKind


@dataclass(frozen=True)
class Level:
    """One of the ministry's four levels, in its official wording, with the colour of its map."""

    number: int
    ja: str
    en: str
    background: str
    color: str  # the text on it, readable on that background


# The wording is the ministry's (危険情報 and 感染症危険情報 use the same four). The colours follow its map
# (yellow, orange-yellow, red, dark red/purple); the ministry publishes no palette, so these are close
# approximations chosen by eye, with dark text on the two light ones for contrast.
LEVELS: dict[int, Level] = {
    1: Level(1, "十分注意してください。", "Exercise caution", "#ffe600", "#1f2933"),
    2: Level(2, "不要不急の渡航は止めてください。", "Avoid non-essential travel", "#f7a600", "#1f2933"),
    3: Level(3, "渡航は止めてください。（渡航中止勧告）", "Avoid all travel", "#e60012", "#ffffff"),
    4: Level(
        4,
        "退避してください。渡航は止めてください。（退避勧告）",
        "Evacuate and avoid all travel",
        "#7b1042",
        "#ffffff",
    ),
}
_REPLACEMENT = "〓"  # the geta mark: what Japanese mail shows for a character its charset cannot carry
_SUBJECT_PLACES = 3  # more places than this: "…ほか" / "… and more"
_MAX_SUBJECT = 200  # as outreach.issues.MAX_SUBJECT

Entries = Sequence[SafetyAlert]  # the entries one rendition shows, in the issue's order


def alerts_of(session: Session, issue: Issue) -> list[SafetyAlert]:
    """The entries an issue carries, in its order (their places loaded)."""
    ids = alert_ids(issue)
    if not ids:
        return []
    found = {entry.id: entry for entry in session.scalars(select(SafetyAlert).where(SafetyAlert.id.in_(ids)))}
    return [found[each] for each in ids if each in found]


def entries_for_render(issue: Issue, given: Entries | None) -> list[SafetyAlert]:
    """The entries a rendition shows: those given (a reader's), else all the issue carries (a preview)."""
    if given is not None:
        return list(given)
    session = object_session(issue)
    return alerts_of(session, issue) if session is not None and alert_ids(issue) else []


def place_name(place: AlertPlace, language: str) -> str:
    """A place's name in the language, from the country list; the feed's own name for a code it lacks."""
    return name_of(place.area_code, place.country_code, language, fallback=place.name)


def class_label(entry: SafetyAlert, language: str) -> str:
    """What kind of entry it is (危険情報：危険レベルの引き上げ / Risk information: a level raised)."""
    key = entry.rule if entry.rule in CLASSES else classify(entry.info_type, entry.change)
    return CLASSES[key][0 if language == "ja" else 1]


def _places(entries: Sequence[SafetyAlert], language: str) -> list[str]:
    return list(dict.fromkeys(place_name(place, language) for entry in entries for place in entry.places))


def _joined_places(entries: Sequence[SafetyAlert], language: str) -> str:
    names = _places(entries, language)
    ja = language == "ja"
    shown = ("、" if ja else ", ").join(names[:_SUBJECT_PLACES])
    if len(names) > _SUBJECT_PLACES:
        shown += "ほか" if ja else " and more"
    return shown


def _clipped(text: str) -> str:
    return text if len(text) <= _MAX_SUBJECT else text[: _MAX_SUBJECT - 1].rstrip() + "…"


def subjects(entries: Sequence[SafetyAlert]) -> tuple[str, str]:
    """The subjects of an alert mail carrying these entries (one reader's, or the whole issue's):
    【海外安全情報】<places>：<title or kind> and [Safety alert] <places>: <kind>."""
    if not entries:
        return "【海外安全情報】", "[Safety alert]"
    first, more = entries[0], len(entries) - 1
    what_ja = " ".join(first.title.split()) or class_label(first, "ja")
    what_en = class_label(first, "en")
    if more:
        what_ja += f"ほか{more}件"
        what_en += f" and {more} more"
    places_ja, places_en = _joined_places(entries, "ja"), _joined_places(entries, "en")
    if what_ja.startswith(places_ja):  # the ministry's titles often start with the place: 「タイ：…」
        places_ja = ""
    return (
        _clipped(f"【海外安全情報】{places_ja}：{what_ja}" if places_ja else f"【海外安全情報】{what_ja}"),
        _clipped(f"[Safety alert] {places_en}: {what_en}" if places_en else f"[Safety alert] {what_en}"),
    )


def _fit(text: str, charset: str) -> str:
    """The feed's text in the rendition's charset: substituted as the issue's own texts are, and a character
    still not carried shown as 〓 (compose cannot ask the ministry to change its words)."""
    if charset == "utf-8":
        return text
    text, _ = jis.substitute(text, charset)
    return "".join(char if _carries(char, charset) else _REPLACEMENT for char in text)


def _carries(char: str, charset: str) -> bool:
    try:
        char.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def _published(entry: SafetyAlert, language: str) -> str:
    if entry.published_at is None:
        return ""
    local = entry.published_at.astimezone(JST)
    if language == "ja":
        return f"{format_ja(local)} {local:%H:%M}（日本時間）"
    return f"{format_en(local)}, {local:%H:%M} JST"


def _levels(entry: SafetyAlert, language: str) -> list[dict[str, Any]]:
    """The levels the entry flags, highest first, each with its wording and colour."""
    numbers = sorted({n for n in [*entry.risk_levels, *entry.infection_levels] if n in LEVELS}, reverse=True)
    shown = []
    for number in numbers:
        level = LEVELS[number]
        wording = f"レベル{number}：{level.ja}" if language == "ja" else f"Level {number}: {level.en}"
        shown.append({"wording": wording, "background": level.background, "color": level.color})
    return shown


def _entry_view(entry: SafetyAlert, language: str, charset: str) -> dict[str, Any]:
    ja = language == "ja"
    return {
        "label": class_label(entry, language),
        "infection": entry.info_type == "T41",
        "levels": _levels(entry, language),
        "places": _fit(("、" if ja else ", ").join(_places([entry], language)), charset),
        "title": _fit(" ".join(entry.title.split()), charset),
        "lead": _fit(entry.lead.strip(), charset) if ja else "",
        "mission": _fit(entry.mission_name, charset),
        "published": _published(entry, language),
        "url": entry.url,
    }


def alert_views(issue: Issue, alerts: Entries | None, language: str) -> dict[str, Any]:
    """What the templates see of the entries, in the issue's charset, and the `layout` to render: for an
    alert issue email/alert with `alert` (its subject and entries) and the preheader; for a regular issue
    email/issue with `alert_digest` (its safety section's entries; empty: no section).

    `alerts`: the entries a reader's copy shows; None (a preview): every entry the issue carries."""
    entries = entries_for_render(issue, alerts)
    views = [_entry_view(entry, language, issue.charset) for entry in entries]
    if issue.kind != IssueKind.ALERT:
        return {"layout": "email/issue", "alert_digest": views}
    subject_ja, subject_en = subjects(entries)
    subject = _fit(subject_ja if language == "ja" else subject_en, issue.charset)
    first = views[0] if views else None
    preheader = f"{first['label']}：{first['title']}" if first and language == "ja" else subject
    return {
        "layout": "email/alert",
        "issue": {"number": issue.number, "date": issue.issue_date, "subject": subject},
        "alert": {"subject": subject, "entries": views},
        "alert_digest": [],
        "preheader": preheader[:90],
    }
