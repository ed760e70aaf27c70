"""The web forms' fields: each one length-limited and checked, with a problem code per field for the page."""

from __future__ import annotations

__all__ = [
    "LIMITS",
    "BadForm",
    "PreferencesForm",
    "SubscriptionForm",
    "read_form",
    "read_preferences",
    "read_subscription",
]

from collections.abc import Collection
from dataclasses import dataclass, field

from starlette.datastructures import FormData
from starlette.requests import Request

from outreach.alerts.places import Place, UnknownPlaces, all_places, from_token, parse_places
from outreach.errors import InvalidInput
from outreach.i18n import LANGUAGES
from outreach.models import Topic
from subscribers.addresses import MAX_ADDRESS_LENGTH, InvalidAddress, normalize_address
from subscribers.lifecycle import Details, Preferences
from subscribers.roster import MAX_TEXT_LENGTH, clean_text

# The most characters each field may hold as sent, before cleaning.
LIMITS = {
    "email": MAX_ADDRESS_LENGTH,
    "company": MAX_TEXT_LENGTH,
    "name": MAX_TEXT_LENGTH,
    "organization": 40,
    "language": 2,
    "topic": 20,
    "place": 16,
    # typed names of countries and regions (most are chosen with the checkboxes); small enough that the
    # whole form, every box checked, stays within the web app's body limit
    "places_text": 500,
}
_MAX_FIELDS = 20 + len(all_places())  # one checkbox per region and country


class BadForm(InvalidInput):
    """A form that no page of ours could have sent: a file, a repeated single field, too many fields."""


async def read_form(request: Request) -> FormData:
    """The posted form, small and without files; Starlette answers 400 itself for one it cannot parse."""
    # a part of 8 KiB: the typed places, 500 Japanese characters, are 4.5 KB once percent-encoded
    form = await request.form(max_files=0, max_fields=_MAX_FIELDS, max_part_size=8192)
    if any(not isinstance(value, str) for _, value in form.multi_items()):
        raise BadForm("the form holds a file")
    return form


def _single(form: FormData, name: str) -> str:
    values = form.getlist(name)
    if len(values) > 1:
        raise BadForm(f"the field {name!r} was sent more than once")
    return str(values[0]) if values else ""


@dataclass
class _Checker:
    form: FormData
    errors: dict[str, str] = field(default_factory=dict)

    def text(self, name: str) -> str:
        raw = _single(self.form, name)
        if len(raw) > LIMITS[name]:
            self.errors[name] = "too_long"
        return raw

    def choice(self, name: str, allowed: Collection[str], *, empty_ok: bool) -> str:
        value = self.text(name)
        if name not in self.errors and not (value in allowed or (empty_ok and value == "")):
            self.errors[name] = "unknown"
        return value

    def topics(self) -> list[str]:
        values = [str(value) for value in self.form.getlist("topic")]
        known = {topic.value for topic in Topic}
        if len(values) > len(known) or any(value not in known for value in values):
            self.errors["topic"] = "unknown"
        return values

    def places(self) -> tuple[list[Place], list[str]]:
        """The places checked and typed, each once (boxes first); and the typed names that named nothing."""
        chosen: list[Place] = []
        for value in self.form.getlist("place"):
            place = from_token(str(value)) if len(str(value)) <= LIMITS["place"] else None
            if place is None:
                self.errors["place"] = "unknown"
            elif place not in chosen:
                chosen.append(place)
        typed = self.text("places_text")
        if "places_text" in self.errors:
            return chosen, []
        try:
            found = parse_places(typed)
        except UnknownPlaces as error:
            self.errors["places_text"] = "unknown_places"
            return chosen, error.unknown
        return chosen + [place for place in found if place not in chosen], []

    def preferences(self, organizations: Collection[str]) -> Preferences | None:
        organization = self.choice("organization", organizations, empty_ok=True)
        language = self.choice("language", LANGUAGES, empty_ok=False)
        topics = self.topics()
        if self.errors:
            return None
        return Preferences(organization or None, language, frozenset(Topic(value) for value in topics))


@dataclass(frozen=True)
class SubscriptionForm:
    """The subscription form as sent (to show it again), what it asks for, and its problems."""

    values: dict[str, str | list[str]]
    details: Details | None
    errors: dict[str, str]
    places: list[Place] = field(default_factory=list)
    unknown_places: list[str] = field(default_factory=list)  # typed names that named no place


def read_subscription(form: FormData, *, organizations: Collection[str]) -> SubscriptionForm:
    checker = _Checker(form)
    email = checker.text("email")
    company = checker.text("company")
    name = checker.text("name")
    preferences = checker.preferences(organizations)
    places, unknown = checker.places()
    address = ""
    if "email" not in checker.errors:
        try:
            address = normalize_address(email)
        except InvalidAddress:
            checker.errors["email"] = "required" if not email.strip() else "invalid"
    values: dict[str, str | list[str]] = {
        "email": email,
        "company": company,
        "name": name,
        "organization": _single(form, "organization"),
        "language": _single(form, "language"),
        "topics": [str(value) for value in form.getlist("topic")],
        "places": [place.token for place in places],
        "places_text": _single(form, "places_text"),
    }
    if checker.errors or preferences is None:
        return SubscriptionForm(values, None, checker.errors, places, unknown)
    details = Details(address, clean_text(company), clean_text(name), preferences)
    return SubscriptionForm(values, details, {}, places)


@dataclass(frozen=True)
class PreferencesForm:
    preferences: Preferences | None
    errors: dict[str, str]
    places: list[Place] = field(default_factory=list)  # as chosen, to save or to show again
    unknown_places: list[str] = field(default_factory=list)
    places_text: str = ""


def read_preferences(form: FormData, *, organizations: Collection[str]) -> PreferencesForm:
    checker = _Checker(form)
    preferences = checker.preferences(organizations)
    places, unknown = checker.places()
    text = _single(form, "places_text")
    return PreferencesForm(preferences, checker.errors, places, unknown, text)
