"""The member organizations' pages: the list, an overview, and the profile with its rendition's preview."""

from __future__ import annotations

__all__ = ["OrganizationPages"]

from outreach.console.kit import Kit, Routes


class OrganizationPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def routes(self) -> Routes:
        return []
