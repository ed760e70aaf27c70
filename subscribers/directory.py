"""The subscriber directory: adding people one by one or from an association's roster."""

from __future__ import annotations

__all__ = ["ImportReport", "add_subscriber", "find_organization", "import_roster", "organization_or_none"]

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.errors import InvalidInput, NotFound
from outreach.i18n import LANGUAGES
from outreach.models import Organization, Subscriber, SubscriberStatus
from subscribers.addresses import normalize_address
from subscribers.roster import MAX_TEXT_LENGTH, RosterRow

NETWORK_SLUG = "network"


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


def _clean(text: str, what: str) -> str:
    cleaned = " ".join("".join(" " if ord(char) < 32 or ord(char) == 127 else char for char in text).split())
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
) -> Subscriber:
    """Add one subscriber; an address that is already there is refused."""
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
    session.add(subscriber)
    session.flush()
    return subscriber


@dataclass(frozen=True)
class ImportReport:
    added: int
    already_present: int

    @property
    def rows(self) -> int:
        return self.added + self.already_present


def import_roster(
    session: Session,
    rows: list[RosterRow],
    *,
    organization: Organization | None,
    language: str = "ja",
) -> ImportReport:
    """Add the roster's new addresses as active subscribers; known addresses are left exactly as they are."""
    if language not in LANGUAGES:
        raise InvalidInput(f"the language must be one of {', '.join(LANGUAGES)}; got {language!r}")
    known = set(
        session.scalars(select(Subscriber.email).where(Subscriber.email.in_([row.email for row in rows])))
    )
    fresh = [row for row in rows if row.email not in known]
    session.add_all(
        Subscriber(
            email=row.email,
            company=row.company,
            name=row.name,
            language=language,
            status=SubscriberStatus.ACTIVE,
            organization=organization,
        )
        for row in fresh
    )
    session.flush()
    return ImportReport(added=len(fresh), already_present=len(rows) - len(fresh))


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
            session.add(
                Subscriber(
                    email=email,
                    company=_SAMPLE_COMPANIES[index % len(_SAMPLE_COMPANIES)],
                    name=_SAMPLE_NAMES[index % len(_SAMPLE_NAMES)],
                    language="en" if english else "ja",
                    status=SubscriberStatus.ACTIVE,
                    organization=None if organization.slug == NETWORK_SLUG else organization,
                )
            )
            added += 1
    session.flush()
    return added
