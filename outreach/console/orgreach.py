"""Reach per organization: SVG charts, figures against the network's, CSV and print; staff see them all."""

from __future__ import annotations

__all__ = ["ReachPages"]

from outreach.console.kit import Kit, Routes


class ReachPages:
    def __init__(self, kit: Kit) -> None:
        self.kit = kit

    def routes(self) -> Routes:
        return []
