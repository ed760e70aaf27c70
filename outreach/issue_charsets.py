"""Whether an issue's texts fit the charsets its renditions go out in: every text, where it is, and which part
of the issue it belongs to (a subject, the lead, a meeting, a promotion, an organization).

Split out of `outreach.issues`, which composes and edits issues and calls the check; this module only reads.
"""

from __future__ import annotations

__all__ = [
    "CHARSETS",
    "PROFILE_TEXTS",
    "CharsetRefused",
    "Text",
    "charset_substitutions",
    "check_issue_charset",
    "in_charset",
    "issue_texts",
    "meeting_texts",
    "organization_profiles",
    "profile_texts",
    "rendition_charsets",
    "substituted_texts",
    "uncarried_texts",
]

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import NamedTuple

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from outreach import jis
from outreach.errors import InvalidInput
from outreach.members.models import OrganizationProfile
from outreach.models import Issue, Meeting, Organization, Promotion, Subscriber, SubscriberStatus
from outreach.network import NETWORK_SLUG
from outreach.render import Uncarried, charset_refusal, uncarried

CHARSETS = ("utf-8", "iso-2022-jp")


class Text(NamedTuple):
    """A text that goes into renditions, how a person would name its place (`where`), and the part of the
    issue it belongs to (`part`: "subject_ja", "lead_en", "meeting:plenary:8", "promotion:tabireg",
    "organization:jetro"), for an edge to show a refusal beside the field it is about."""

    where: str
    text: str
    part: str = ""


class CharsetRefused(InvalidInput):
    """An issue a charset cannot carry: the message names every character and where it is; `problems` says
    which part of the issue each is in ("templates" for the templates' own text or the sender's details)."""

    def __init__(self, message: str, problems: Sequence[tuple[str, Uncarried | None]]) -> None:
        super().__init__(message)
        self.problems = tuple(problems)

    @property
    def parts(self) -> frozenset[str]:
        return frozenset(part for part, _ in self.problems)


def meeting_texts(meeting: Meeting) -> list[Text]:
    """Every text of a meeting that renditions show, in both languages."""
    key = meeting.key
    part = f"meeting:{key}"
    texts = [
        Text(f"the Japanese summary of {key}", meeting.summary_ja, part),
        Text(f"the English summary of {key}", meeting.summary_en, part),
        Text(f"who opened {key} (ja)", meeting.opened_by_ja, part),
        Text(f"who opened {key} (en)", meeting.opened_by_en, part),
    ]
    for number, link in enumerate(meeting.links, start=1):
        texts += [
            Text(f"the title of link {number} of {key} (ja)", link.get("title_ja", ""), part),
            Text(f"the title of link {number} of {key} (en)", link.get("title_en", ""), part),
            Text(f"the URL of link {number} of {key}", link.get("url", ""), part),
        ]
    return texts


def _promotion_texts(promotion: Promotion) -> list[Text]:
    slug = promotion.slug
    part = f"promotion:{slug}"
    return [
        Text(f"the title of promotion {slug} (ja)", promotion.title_ja, part),
        Text(f"the title of promotion {slug} (en)", promotion.title_en, part),
        Text(f"the body of promotion {slug} (ja)", promotion.body_ja, part),
        Text(f"the body of promotion {slug} (en)", promotion.body_en, part),
        Text(f"the URL of promotion {slug}", promotion.url, part),
    ]


def _organization_texts(organization: Organization) -> list[Text]:
    slug = organization.slug
    part = f"organization:{slug}"
    return [
        Text(f"the name of {slug} (ja)", organization.name_ja, part),
        Text(f"the name of {slug} (en)", organization.name_en, part),
        Text(f"the greeting of {slug} (ja)", organization.greeting_ja, part),
        Text(f"the greeting of {slug} (en)", organization.greeting_en, part),
        Text(f"the contact of {slug} (ja)", organization.contact_ja, part),
        Text(f"the contact of {slug} (en)", organization.contact_en, part),
        Text(f"the URL of {slug}", organization.url, part),
    ]


PROFILE_TEXTS = (
    "greeting_ja",
    "greeting_en",
    "department_ja",
    "department_en",
    "phone",
    "email",
    "web_url",
    "footer_ja",
    "footer_en",
)


def profile_texts(slug: str, profile: OrganizationProfile) -> list[Text]:
    """The texts an organization's editors set that its renditions show; `where` names the form field."""
    part = f"organization:{slug}"
    return [Text(f"the {field} of {slug}", getattr(profile, field), part) for field in PROFILE_TEXTS]


def organization_profiles(session: Session) -> dict[int, OrganizationProfile]:
    """Every organization's profile by the organization's id, in one query."""
    with session.no_autoflush:
        return {profile.organization_id: profile for profile in session.scalars(select(OrganizationProfile))}


def issue_texts(
    issue: Issue,
    organizations: Iterable[Organization],
    profiles: Mapping[int, OrganizationProfile] | None = None,
) -> list[Text]:
    """Every text that goes into the issue's renditions for these organizations (with what their editors
    set, `profiles` by organization id), but the templates' own.

    It mirrors the views in `outreach.render`; rendering every rendition is the check that also covers
    the templates (see `outreach.usecases.drafts`).
    """
    texts = [
        Text("the Japanese subject", issue.subject_ja, "subject_ja"),
        Text("the English subject", issue.subject_en, "subject_en"),
        Text("the Japanese lead", issue.lead_ja or "", "lead_ja"),
        Text("the English lead", issue.lead_en or "", "lead_en"),
    ]
    for item in issue.items:
        if item.meeting is not None:
            texts += meeting_texts(item.meeting)
        elif item.promotion is not None:
            texts += _promotion_texts(item.promotion)
    for organization in organizations:
        texts += _organization_texts(organization)
        if profiles and (profile := profiles.get(organization.id)) is not None:
            texts += profile_texts(organization.slug, profile)
    return texts


def _uncarried_parts(texts: Iterable[Text], charset: str) -> list[tuple[str, Uncarried]]:
    found = []
    for where, text, part in texts:
        if (problem := uncarried(text, charset, where=where)) is not None:
            found.append((part, problem))
    return found


def uncarried_texts(texts: Iterable[Text], charset: str) -> list[Uncarried]:
    """Each text that the charset cannot carry, with its characters."""
    return [problem for _, problem in _uncarried_parts(texts, charset)]


def substituted_texts(texts: Iterable[Text], charset: str) -> list[jis.Substituted]:
    """Each text in which the charset's substitutions replace characters (～ → 〜), with what they replace."""
    found = []
    for where, text, _ in texts:
        _, substitutions = jis.substitute(text, charset)
        if substitutions:
            found.append(jis.Substituted(where, substitutions))
    return found


def _organizations(session: Session) -> list[Organization]:
    return list(session.scalars(select(Organization).order_by(Organization.position)))


def _preferring(session: Session, charset: str) -> list[Organization]:
    """The organizations whose renditions go out in `charset` as a preference: those that prefer it, and
    those of the active subscribers who do (the network's own for a subscriber of no organization)."""
    readers = select(Subscriber.organization_id).where(
        Subscriber.status == SubscriberStatus.ACTIVE, Subscriber.charset == charset
    )
    of_readers = set(session.scalars(readers.distinct()))
    chosen = or_(Organization.charset == charset, Organization.id.in_(of_readers - {None}))
    if None in of_readers:
        chosen = or_(chosen, Organization.slug == NETWORK_SLUG)
    return list(session.scalars(select(Organization).where(chosen).order_by(Organization.position)))


def rendition_charsets(session: Session, issue: Issue) -> list[tuple[str, list[Organization]]]:
    """Each charset but UTF-8 that the issue's renditions go out in, with the organizations whose do: the
    issue's own for every organization, and ISO-2022-JP wherever a reader prefers it (even in a UTF-8 issue).
    """
    # No autoflush: an edited draft must not be written before it has passed the check.
    with session.no_autoflush:
        found = [(issue.charset, _organizations(session))] if issue.charset != "utf-8" else []
        for charset in CHARSETS:
            if charset not in ("utf-8", issue.charset) and (organizations := _preferring(session, charset)):
                found.append((charset, organizations))
    return found


def _preferred(issue: Issue, charset: str, organizations: Sequence[Organization]) -> str:
    """How a refusal names a charset: the issue's own plainly, a preferred one with whose preference it is."""
    if charset == issue.charset:
        return ""
    slugs = ", ".join(organization.slug for organization in organizations[:5])
    return f"{charset} (which readers of {slugs}{', …' if len(organizations) > 5 else ''} prefer)"


def check_issue_charset(session: Session, issue: Issue) -> None:
    """Refuse (CharsetRefused) an issue any text of which a charset its renditions go out in cannot carry,
    even after its substitutions (see `outreach.jis`), naming every character and where it is.

    Without this an ISO-2022-JP issue, or one with readers who prefer ISO-2022-JP, would be accepted and then
    fail to build their messages at send time.
    """
    profiles = organization_profiles(session)
    for charset, organizations in rendition_charsets(session, issue):
        found = _uncarried_parts(issue_texts(issue, organizations, profiles), charset)
        if found:
            problems = [problem for _, problem in found]
            refusal = charset_refusal(problems, charset, carrier=_preferred(issue, charset, organizations))
            raise CharsetRefused(str(refusal), found)


def charset_substitutions(session: Session, issue: Issue) -> list[jis.Substituted]:
    """What the charsets of the issue's renditions replace in its texts, and where: for staff to read after
    compose or edit. Empty when they all go in UTF-8. The templates' own text and the sender's details are
    the project's and need none.
    """
    found = []
    profiles = organization_profiles(session)
    for charset, organizations in rendition_charsets(session, issue):
        whose = "" if charset == issue.charset else f", for readers who prefer {charset}"
        changed = substituted_texts(issue_texts(issue, organizations, profiles), charset)
        found += [jis.Substituted(each.where + whose, each.substitutions) for each in changed]
    return found


@contextmanager
def in_charset(issue: Issue, charset: str) -> Iterator[Issue]:
    """The issue lent another charset while it is rendered for the readers who prefer that one, then given
    its own back. Never written: the caller lets nothing flush meanwhile (a detached issue, or no_autoflush).
    """
    # `Renderer.render` renders in the issue's charset; a charset argument of its own would make this moot.
    own = issue.charset
    issue.charset = charset
    try:
        yield issue
    finally:
        issue.charset = own
