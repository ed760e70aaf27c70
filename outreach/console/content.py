"""Meeting outcomes and promotions: list, add, edit, with a live Markdown preview."""

from __future__ import annotations

__all__ = ["ContentPages"]

from outreach.console.kit import Kit, Routes


class ContentPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def routes(self) -> Routes:
        return []
