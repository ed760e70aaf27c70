"""Loads the network's data files (members, meetings, promotions) into the database; running it again is safe.

An entry missing from the database is added. An entry already there (same slug, or same meeting kind:number)
that reads differently in the files has those fields updated, so that a maintainer's fix of a typo reaches the
database: for the entries they name, the files win. Rows the files do not name (a meeting staff recorded with
`outreach meeting add`, an entry since removed from the files) are never touched, and nothing is deleted.
"""

from __future__ import annotations

__all__ = ["SeedReport", "SeedRow", "seed_network"]

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.models import Base, Meeting, Organization, Promotion
from outreach.network import NetworkData, packaged_network


@dataclass(frozen=True)
class SeedRow:
    """A row the seed added or updated: its table ("organization", "meeting", "promotion") and key.

    `fields` names the fields an update changed; it is empty for an added row.
    """

    table: str
    key: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class SeedReport:
    """The rows that were added and those that were updated; everything else was already as in the files."""

    new: tuple[SeedRow, ...]
    changed: tuple[SeedRow, ...]

    def _count(self, table: str) -> int:
        return sum(row.table == table for row in self.new)

    @property
    def organizations(self) -> int:
        return self._count("organization")

    @property
    def meetings(self) -> int:
        return self._count("meeting")

    @property
    def promotions(self) -> int:
        return self._count("promotion")

    @property
    def added(self) -> int:
        return len(self.new)

    @property
    def updated(self) -> int:
        return len(self.changed)


def _sync(
    session: Session, model: type[Base], existing: Base | None, fields: dict[str, Any], row: SeedRow
) -> SeedRow | None:
    """Add the row, or update the fields that differ from the files; None when it already was as they say."""
    if existing is None:
        session.add(model(**fields))
        return row
    changed = tuple(name for name, value in fields.items() if getattr(existing, name) != value)
    for name in changed:
        setattr(existing, name, fields[name])
    return dataclasses.replace(row, fields=changed) if changed else None


def _organizations(session: Session, data: NetworkData) -> Iterable[SeedRow | None]:
    rows = {row.slug: row for row in session.scalars(select(Organization))}
    for position, item in enumerate([data.network, *data.organizations]):
        fields = {**dataclasses.asdict(item), "position": position}
        yield _sync(session, Organization, rows.get(item.slug), fields, SeedRow("organization", item.slug))


def _meetings(session: Session, data: NetworkData) -> Iterable[SeedRow | None]:
    rows = {row.key: row for row in session.scalars(select(Meeting))}
    for item in data.meetings:
        # The links column holds JSON: a list of {title_ja, title_en, url} objects.
        fields = {**dataclasses.asdict(item), "links": [dataclasses.asdict(link) for link in item.links]}
        yield _sync(session, Meeting, rows.get(item.key), fields, SeedRow("meeting", item.key))


def _promotions(session: Session, data: NetworkData) -> Iterable[SeedRow | None]:
    rows = {row.slug: row for row in session.scalars(select(Promotion))}
    for item in data.promotions:
        fields = dataclasses.asdict(item)
        yield _sync(session, Promotion, rows.get(item.slug), fields, SeedRow("promotion", item.slug))


def seed_network(session: Session, data: NetworkData | None = None) -> SeedReport:
    """Bring the database in line with `data` (default: the packaged files); add and update, never delete."""
    data = packaged_network() if data is None else data
    rows = [
        row
        for sync in (_organizations, _meetings, _promotions)
        for row in sync(session, data)
        if row is not None
    ]
    session.flush()
    return SeedReport(
        new=tuple(row for row in rows if not row.fields),
        changed=tuple(row for row in rows if row.fields),
    )
