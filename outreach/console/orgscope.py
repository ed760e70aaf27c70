"""Which member organization a page under /organizations/{slug} is about, and whether this user may see it:
an org-editor only their own, staff and admins every one. Another organization's pages answer 404, the same as
one that does not exist, so that an org-editor learns nothing about the others."""

from __future__ import annotations

__all__ = ["OrgRef", "find_organization", "may_see", "organization_refs"]

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.models import Organization
from outreach.staff.models import StaffRole
from outreach.staff.roles import Permission, allows
from outreach.staff.users import StaffView


@dataclass(frozen=True)
class OrgRef:
    id: int
    slug: str
    name_ja: str
    name_en: str

    def name(self, language: str) -> str:
        return self.name_ja if language == "ja" else self.name_en


def may_see(user: StaffView, slug: str) -> bool:
    if user.role is StaffRole.ORG_EDITOR:
        return user.organization == slug
    return allows(user.role, Permission.ORGANIZATION)


def _ref(organization: Organization) -> OrgRef:
    return OrgRef(organization.id, organization.slug, organization.name_ja, organization.name_en)


def find_organization(session: Session, user: StaffView, slug: str) -> OrgRef | None:
    """The organization named by `slug` when this user may see it; None (a 404) otherwise."""
    if len(slug) > 40 or not may_see(user, slug):
        return None
    found = session.scalar(select(Organization).where(Organization.slug == slug))
    return _ref(found) if found is not None else None


def organization_refs(session: Session) -> list[OrgRef]:
    """Every organization, the network first, in the network's order."""
    return [_ref(found) for found in session.scalars(select(Organization).order_by(Organization.position))]
