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
}
_MAX_FIELDS = 20


class BadForm(InvalidInput):
    """A form that no page of ours could have sent: a file, a repeated single field, too many fields."""


async def read_form(request: Request) -> FormData:
    """The posted form, small and without files; Starlette answers 400 itself for one it cannot parse."""
    form = await request.form(max_files=0, max_fields=_MAX_FIELDS, max_part_size=4096)
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


def read_subscription(form: FormData, *, organizations: Collection[str]) -> SubscriptionForm:
    checker = _Checker(form)
    email = checker.text("email")
    company = checker.text("company")
    name = checker.text("name")
    preferences = checker.preferences(organizations)
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
    }
    if checker.errors or preferences is None:
        return SubscriptionForm(values, None, checker.errors)
    details = Details(address, clean_text(company), clean_text(name), preferences)
    return SubscriptionForm(values, details, {})


@dataclass(frozen=True)
class PreferencesForm:
    preferences: Preferences | None
    errors: dict[str, str]


def read_preferences(form: FormData, *, organizations: Collection[str]) -> PreferencesForm:
    checker = _Checker(form)
    preferences = checker.preferences(organizations)
    return PreferencesForm(preferences, checker.errors)
