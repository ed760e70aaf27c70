"""The subscriber directory: organizations to choose from, and staff adding people one by one."""

from __future__ import annotations

__all__ = [
    "NETWORK_SLUG",
    "OrganizationChoice",
    "add_samples",
    "add_subscriber",
    "find_organization",
    "organization_choices",
    "organization_or_none",
]

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.errors import InvalidInput, NotFound
from outreach.i18n import LANGUAGES
from outreach.models import Organization, Subscriber, SubscriberStatus, utcnow
from outreach.network import NETWORK_SLUG
from subscribers.addresses import normalize_address
from subscribers.consent import ConsentSource, Origin, record
from subscribers.roster import MAX_TEXT_LENGTH, clean_text


def find_organization(session: Session, slug: str) -> Organization:
    organization = session.scalar(select(Organization).where(Organization.slug == slug))
    if organization is None:
        raise NotFound(f"there is no organization {slug!r}: `outreach org list` shows the slugs")
    return organization


def organization_or_none(session: Session, slug: str | None) -> Organization | None:
    """The affiliated organization; none (the network's own rendition) for no slug or `network`."""
    if slug is None or slug == NETWORK_SLUG:
        return None
    return find_organization(session, slug)


@dataclass(frozen=True)
class OrganizationChoice:
    """A member organization a subscriber can say they belong to."""

    slug: str
    name_ja: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_ja if language == "ja" else self.name_en


def organization_choices(session: Session) -> list[OrganizationChoice]:
    """The members in the network's order, without the network itself (that is 'none')."""
    rows = session.execute(
        select(Organization.slug, Organization.name_ja, Organization.name_en)
        .where(Organization.slug != NETWORK_SLUG)
        .order_by(Organization.position)
    )
    return [OrganizationChoice(slug, name_ja, name_en) for slug, name_ja, name_en in rows]


def _clean(text: str, what: str) -> str:
    cleaned = clean_text(text)
    if len(cleaned) > MAX_TEXT_LENGTH:
        raise InvalidInput(f"the {what} is longer than {MAX_TEXT_LENGTH} characters")
    return cleaned


def add_subscriber(
    session: Session,
    email: str,
    *,
    company: str = "",
    name: str = "",
    language: str = "ja",
    organization: Organization | None = None,
    status: SubscriberStatus = SubscriberStatus.ACTIVE,
    now: datetime | None = None,
) -> Subscriber:
    """Add one subscriber on staff's word, recorded as consent from `staff`; a known address is refused."""
    if language not in LANGUAGES:
        raise InvalidInput(f"the language must be one of {', '.join(LANGUAGES)}; got {language!r}")
    address = normalize_address(email)
    if session.scalar(select(Subscriber.id).where(Subscriber.email == address)) is not None:
        raise InvalidInput(f"{address} is already a subscriber")
    subscriber = Subscriber(
        email=address,
        company=_clean(company, "company"),
        name=_clean(name, "name"),
        language=language,
        status=status,
        organization=organization,
    )
    _added_by_staff(session, subscriber, now=now or utcnow(), detail=None)
    return subscriber


def _added_by_staff(session: Session, subscriber: Subscriber, *, now: datetime, detail: str | None) -> None:
    subscriber.consent_source = ConsentSource.STAFF.value
    subscriber.created_at = subscriber.updated_at = now
    if subscriber.status == SubscriberStatus.ACTIVE:
        subscriber.confirmed_at = now
    session.add(subscriber)
    session.flush()
    record(session, subscriber, "added", Origin(ConsentSource.STAFF), now=now, detail=detail)


_SAMPLE_COMPANIES = ("株式会社サンプル精機", "さくら物産株式会社", "Example Trading Co., Ltd.")
_SAMPLE_NAMES = ("海外 太郎", "安全 花子", "Jiro Anzen")


def add_samples(session: Session, *, per_org: int) -> int:
    """Sample subscribers at example.jp for every organization and the network (a demo; idempotent)."""
    organizations = session.scalars(select(Organization).order_by(Organization.position)).all()
    known = set(session.scalars(select(Subscriber.email).where(Subscriber.email.like("sample-%@example.jp"))))
    added = 0
    for organization in organizations:
        for index in range(per_org):
            email = f"sample-{organization.slug}-{index + 1}@example.jp"
            if email in known:
                continue
            english = (organization.position + index) % 3 == 2
            sample = Subscriber(
                email=email,
                company=_SAMPLE_COMPANIES[index % len(_SAMPLE_COMPANIES)],
                name=_SAMPLE_NAMES[index % len(_SAMPLE_NAMES)],
                language="en" if english else "ja",
                status=SubscriberStatus.ACTIVE,
                organization=None if organization.slug == NETWORK_SLUG else organization,
            )
            _added_by_staff(session, sample, now=utcnow(), detail="demo sample")
            added += 1
    return added
