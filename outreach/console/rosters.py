"""An organization's roster: import, export, the searchable subscriber list, unsubscribe on request."""

from __future__ import annotations

__all__ = ["RosterPages"]

from outreach.console.kit import Kit, Routes


class RosterPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def routes(self) -> Routes:
        return []
