"""The composer: a new issue from meetings, its promotions, subjects and lead; edit or delete a draft."""

from __future__ import annotations

__all__ = ["ComposerPages"]

from outreach.console.kit import Kit, Routes


class ComposerPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def routes(self) -> Routes:
        return []
