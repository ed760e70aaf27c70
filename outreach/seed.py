"""Loads the network's public facts (members, meetings, promotions) into the database, once."""

from __future__ import annotations

__all__ = ["SeedReport", "seed_network"]

import dataclasses
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach import network
from outreach.models import Meeting, Organization, Promotion


@dataclass(frozen=True)
class SeedReport:
    """How many rows of each kind were added; what was already there is left as it is."""

    organizations: int
    meetings: int
    promotions: int

    @property
    def added(self) -> int:
        return self.organizations + self.meetings + self.promotions


def _seed_organizations(session: Session) -> int:
    known = set(session.scalars(select(Organization.slug)))
    members = [network.NETWORK, *network.ORGANIZATIONS]
    added = 0
    for position, data in enumerate(members):
        if data.slug not in known:
            session.add(Organization(**dataclasses.asdict(data), position=position))
            added += 1
    return added


def _seed_meetings(session: Session) -> int:
    known = {(row.kind, row.number) for row in session.execute(select(Meeting.kind, Meeting.number))}
    added = 0
    for data in network.MEETINGS:
        if (data.kind, data.number) not in known:
            fields = dataclasses.asdict(data)
            fields["links"] = [dataclasses.asdict(link) for link in data.links]
            session.add(Meeting(**fields))
            added += 1
    return added


def _seed_promotions(session: Session) -> int:
    known = set(session.scalars(select(Promotion.slug)))
    added = 0
    for data in network.PROMOTIONS:
        if data.slug not in known:
            session.add(Promotion(**dataclasses.asdict(data)))
            added += 1
    return added


def seed_network(session: Session) -> SeedReport:
    """Add what is missing of the network's data; running it again adds nothing."""
    report = SeedReport(
        organizations=_seed_organizations(session),
        meetings=_seed_meetings(session),
        promotions=_seed_promotions(session),
    )
    session.flush()
    return report
