"""An organization's profile: what its editors set for its own rendition (greeting, contact, footer), the
forward kit's sender, and the monthly report. Checked field by field, saved and audited here: the only writer
of `organization_profiles`. An empty text is unset: the rendition then uses the seed data, and for the contact
the organization's web page and the network secretariat (`outreach.render`).
"""

from __future__ import annotations

__all__ = [
    "MULTILINE",
    "TEXT_LIMITS",
    "ContactState",
    "ProfilePreview",
    "ProfileProblem",
    "ProfileRefused",
    "ProfileValues",
    "check_profile",
    "contact_state",
    "contact_states",
    "preview_profile",
    "read_profile",
    "save_profile",
]

import dataclasses
import enum
import re
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach import digest, issue_charsets, issues
from outreach.errors import InvalidInput, NotFound
from outreach.i18n import LANGUAGES
from outreach.members.models import OrganizationProfile
from outreach.models import Issue, IssueKind, IssueStatus, Organization
from outreach.preview import filled
from outreach.render import Renderer
from outreach.staff import audit

AUDIT_ACTION = "organization.profile"
# Every text of the form and its limit, in characters (the columns' widths, and a page's worth for the rest).
TEXT_LIMITS = {
    "greeting_ja": 1000,
    "greeting_en": 1000,
    "department_ja": 200,
    "department_en": 200,
    "phone": 40,
    "email": 254,
    "web_url": 500,
    "footer_ja": 2000,
    "footer_en": 2000,
    "kit_from_name_ja": 200,
    "kit_from_name_en": 200,
    "kit_from_address": 254,
    "kit_reply_to": 254,
}
MULTILINE = frozenset({"greeting_ja", "greeting_en", "footer_ja", "footer_en"})
_ADDRESSES = ("email", "kit_from_address", "kit_reply_to")
_PHONE = re.compile(r"\+?[0-9][0-9\- ()]*")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")  # a newline is allowed where the field has lines
_UNSENT_NOT = (IssueStatus.SENT, IssueStatus.CANCELLED)


@dataclass(frozen=True)
class ProfileValues:
    """What the profile form holds; "" is unset."""

    greeting_ja: str = ""
    greeting_en: str = ""
    department_ja: str = ""
    department_en: str = ""
    phone: str = ""
    email: str = ""
    web_url: str = ""
    footer_ja: str = ""
    footer_en: str = ""
    kit_from_name_ja: str = ""
    kit_from_name_en: str = ""
    kit_from_address: str = ""
    kit_reply_to: str = ""
    monthly_report: bool = False
    report_language: str = "ja"


_FIELDS = tuple(field.name for field in dataclasses.fields(ProfileValues))


@dataclass(frozen=True)
class ProfileProblem:
    """A refused field: `code` is worded by the edge ("too-long", "bad-email", "https", "bad-phone",
    "control", "bad-language", "report-needs-email", "charset"); a charset refusal names the characters,
    the unsent issues and their charset."""

    field: str
    code: str
    chars: str = ""
    issues: tuple[int, ...] = ()
    charset: str = ""


class ProfileRefused(InvalidInput):
    """A profile that was not saved, and every field's problem."""

    def __init__(self, problems: list[ProfileProblem]) -> None:
        super().__init__("; ".join(f"{problem.field}: {problem.code}" for problem in problems))
        self.problems = tuple(problems)


class ContactState(enum.StrEnum):
    GIVEN = "given"  # the editors set part of the contact
    FALLBACK = "fallback"  # the rendition shows the web page and the network secretariat


def _organization(session: Session, slug: str) -> Organization:
    found = session.scalar(select(Organization).where(Organization.slug == slug))
    if found is None:
        raise NotFound(f"there is no organization {slug!r}")
    return found


def _values(profile: OrganizationProfile | None) -> ProfileValues:
    if profile is None:
        return ProfileValues()
    return ProfileValues(**{field: getattr(profile, field) for field in _FIELDS})


def read_profile(session: Session, slug: str) -> ProfileValues:
    """The organization's profile as its form shows it (all unset before the first save)."""
    return _values(session.get(OrganizationProfile, _organization(session, slug).id))


def contact_state(values: ProfileValues) -> ContactState:
    given = (values.department_ja, values.department_en, values.phone, values.email, values.web_url)
    return ContactState.GIVEN if any(given) else ContactState.FALLBACK


def contact_states(session: Session) -> dict[int, ContactState]:
    """Each organization's contact state by its id, for the list (one query)."""
    profiles = issue_charsets.organization_profiles(session)
    organizations = session.scalars(select(Organization.id))
    return {id_: contact_state(_values(profiles.get(id_))) for id_ in organizations}


# Checking


def _tidy(field: str, value: str) -> str:
    if field in MULTILINE:
        lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return "\n".join(line.rstrip() for line in lines).strip("\n")
    return value.strip()


def _address(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False, allow_smtputf8=False).normalized
    except EmailNotValidError:
        return None


def _https(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.hostname) and not re.search(r"\s", value)


def _field_problem(field: str, value: str) -> str | None:
    """Why one tidied text cannot be saved, as a code; None when it can."""
    if len(value) > TEXT_LIMITS[field]:
        return "too-long"
    if _CONTROL.search(value) or (field not in MULTILINE and "\n" in value):
        return "control"
    if not value:
        return None
    if field in _ADDRESSES and _address(value) is None:
        return "bad-email"
    if field == "web_url" and not _https(value):
        return "https"
    if field == "phone" and (not _PHONE.fullmatch(value) or sum(c.isdigit() for c in value) < 6):
        return "bad-phone"
    return None


def check_profile(values: ProfileValues) -> tuple[ProfileValues, list[ProfileProblem]]:
    """The values tidied (texts trimmed, addresses normalized) and every field's problem."""
    tidied: dict[str, object] = {}
    problems = []
    for field in TEXT_LIMITS:
        value = _tidy(field, str(getattr(values, field)))
        code = _field_problem(field, value)
        if code is not None:
            problems.append(ProfileProblem(field, code))
        elif field in _ADDRESSES and value:
            value = _address(value) or value
        tidied[field] = value
    if values.report_language not in LANGUAGES:
        problems.append(ProfileProblem("report_language", "bad-language"))
    if values.monthly_report and not tidied["email"]:
        problems.append(ProfileProblem("monthly_report", "report-needs-email"))
    return dataclasses.replace(values, **tidied), problems  # type: ignore[arg-type]


def _charset_problems(
    session: Session, organization: Organization, profile: OrganizationProfile
) -> list[ProfileProblem]:
    """The fields that a charset an unsent issue's rendition for this organization goes out in cannot carry
    (ISO-2022-JP): saved, they would stop that issue's messages from being built at send time."""
    found: dict[tuple[str, str], list[int]] = {}
    chars: dict[tuple[str, str], str] = {}
    unsent = session.scalars(select(Issue).where(Issue.status.not_in(_UNSENT_NOT)).order_by(Issue.number))
    for issue in unsent:
        for charset, organizations in issue_charsets.rendition_charsets(session, issue):
            if organization not in organizations:
                continue
            texts = issue_charsets.profile_texts(organization.slug, profile)
            for field, text in zip(issue_charsets.PROFILE_TEXTS, texts, strict=True):
                for problem in issue_charsets.uncarried_texts([text], charset):
                    found.setdefault((field, charset), []).append(issue.number)
                    chars[field, charset] = problem.chars
    return [
        ProfileProblem(field, "charset", chars[field, charset], tuple(numbers), charset)
        for (field, charset), numbers in found.items()
    ]


def _transient(organization: Organization, values: ProfileValues) -> OrganizationProfile:
    """A profile holding the values, in no session: rendering or checking it writes nothing."""
    fields = {field: getattr(values, field) for field in _FIELDS}
    return OrganizationProfile(organization_id=organization.id, **fields)


# Saving


def save_profile(
    session: Session, slug: str, values: ProfileValues, *, actor: str, now: datetime, ip: str | None = None
) -> ProfileValues:
    """Check and save the profile, audited as `organization.profile` naming the fields changed; refused
    (ProfileRefused, nothing written) when any field cannot be saved; NotFound for no such organization."""
    organization = _organization(session, slug)
    tidied, problems = check_profile(values)
    with session.no_autoflush:
        if not problems:
            problems = _charset_problems(session, organization, _transient(organization, tidied))
    if problems:
        raise ProfileRefused(problems)
    profile = session.get(OrganizationProfile, organization.id)
    before = _values(profile)
    if profile is None:
        profile = OrganizationProfile(organization_id=organization.id)
        session.add(profile)
    changed = [field for field in _FIELDS if getattr(before, field) != getattr(tidied, field)]
    for field in _FIELDS:
        setattr(profile, field, getattr(tidied, field))
    profile.updated_at, profile.updated_by = now, actor
    detail = f"changed: {', '.join(changed)}" if changed else "saved unchanged"
    audit.record(
        session,
        actor=actor,
        action=AUDIT_ACTION,
        target=f"organization {slug}",
        detail=detail,
        ip=ip,
        now=now,
    )
    session.flush()
    return tidied


# The live preview


@dataclass(frozen=True)
class ProfilePreview:
    """The organization's rendition with the form's values: of `number` (None: a sample issue), as HTML, or
    why it cannot be rendered (`problem`, the engine's words: a charset that cannot carry a text)."""

    number: int | None
    html: str
    problem: str = ""


def _latest_issue(session: Session) -> Issue | None:
    numbers = select(Issue.number).where(
        Issue.status != IssueStatus.CANCELLED, Issue.kind == IssueKind.MAGAZINE
    )
    number = session.scalar(numbers.order_by(Issue.number.desc()).limit(1))
    return issues.get_issue(session, number) if number is not None else None


def _sample_issue(today: date) -> Issue:
    """An issue with nothing in it, in no session: for an organization's preview before the first issue."""
    return Issue(
        number=1,
        issue_date=today,
        subject_ja="見本",
        subject_en="Sample",
        lead_ja="ここに号の内容が入ります。",
        lead_en="The issue's content goes here.",
        charset="utf-8",
        items=[],
    )


def preview_profile(
    session: Session,
    slug: str,
    values: ProfileValues,
    *,
    language: str,
    renderer: Renderer,
    base_url: str,
    today: date,
) -> ProfilePreview:
    """The organization's rendition of the latest issue (a sample before the first) in the language, with
    the values as its profile, saved or not: nothing is written."""
    organization = _organization(session, slug)
    profile = _transient(organization, check_profile(values)[0])
    issue = _latest_issue(session)
    number = issue.number if issue is not None else None
    carried = digest.carried_before(session, issue) if issue is not None else frozenset[str]()
    shown = issue if issue is not None else _sample_issue(today)
    try:
        with session.no_autoflush, issue_charsets.in_charset(shown, organization.charset or shown.charset):
            rendition = renderer.render(shown, organization, language, carried=carried, profile=profile)
    except InvalidInput as error:
        return ProfilePreview(number, "", str(error))
    return ProfilePreview(number, filled(rendition, base_url=base_url))
