"""The forward kit: an organization's rendition of a sent issue as .eml, HTML and text; its forwarding."""

from __future__ import annotations

__all__ = ["ForwardKitPages"]

from outreach.console.kit import Kit, Routes


class ForwardKitPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def routes(self) -> Routes:
        return []
