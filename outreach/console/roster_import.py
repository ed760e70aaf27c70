"""The roster upload form as posted: the file, the consent mode, the new addresses' language, "check only";
and an import's counts as the page after it shows them (carried in the redirect's query string)."""

from __future__ import annotations

__all__ = ["COUNTS", "ImportFields", "counts_from", "counts_of", "read_import"]

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.datastructures import FormData, UploadFile

from outreach.i18n import LANGUAGES
from outreach.usecases.rosters import RosterImport
from subscribers.roster import ImportConsent

# What the page after an import shows, in this order: query parameter -> RosterImport's field.
COUNTS = {
    "rows": "rows",
    "added": "added",
    "updated": "updated",
    "unchanged": "unchanged",
    "skipped": "skipped",
    "mails": "to_confirm",
}
_CONSENTS = {consent.value: consent for consent in ImportConsent}


@dataclass(frozen=True)
class ImportFields:
    """The form as sent (kept to show again) and what was wrong with it (field names)."""

    consent: str
    language: str
    dry_run: bool
    upload: UploadFile | None
    problems: tuple[str, ...]

    @property
    def consent_mode(self) -> ImportConsent:
        return _CONSENTS.get(self.consent, ImportConsent.CONFIRM)


def _choice(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:20] if isinstance(value, str) else ""


def read_import(form: FormData) -> ImportFields:
    """The posted upload form; a missing or empty file and an unknown choice are problems of their field."""
    consent, language = _choice(form, "consent"), _choice(form, "language")
    upload = form.get("roster")
    file = upload if isinstance(upload, UploadFile) and upload.filename else None
    problems = []
    if file is None or file.size == 0:
        problems.append("roster")
    if consent not in _CONSENTS:
        problems.append("consent")
    if language not in LANGUAGES:
        problems.append("language")
    return ImportFields(consent, language, form.get("dry_run") == "yes", file, tuple(problems))


def counts_of(result: RosterImport) -> dict[str, int]:
    return {name: getattr(result, attribute) for name, attribute in COUNTS.items()}


def counts_from(params: Mapping[str, str]) -> dict[str, int] | None:
    """The counts a redirect after an import carries; None when they are not all there as numbers."""
    counts = {}
    for name in COUNTS:
        text = params.get(name, "")
        if not (text.isascii() and text.isdigit()) or len(text) > 8:
            return None
        counts[name] = int(text)
    return counts
